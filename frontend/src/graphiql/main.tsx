/**
 * GraphiQL at /graphql/, built by Vite from the project's own packages (second entry,
 * graphiql.html) so that it works with no internet: no CDN, the Monaco editor's web workers
 * bundled under /assets/ like everything else. Django serves the built graphiql.html for a
 * browser's GET of /graphql/ (config/views.py).
 */
import 'graphiql/style.css';
// Monaco's editor, JSON and GraphQL language workers as Vite `?worker` chunks.
import 'graphiql/setup-workers/vite';
import { GraphiQL } from 'graphiql';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { DEFAULT_QUERY, createPatronFetcher } from './fetcher';

const fetcher = createPatronFetcher();

createRoot(document.getElementById('graphiql')!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />
  </StrictMode>,
);
