import '@mantine/core/styles.css';
import '@mantine/notifications/styles.css';
import '@mantine/charts/styles.css';
import '@mantine/dates/styles.css';
import './styles.css';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { BrowserRouter } from 'react-router-dom';
import './i18n';
import { UiProviders } from './lib/providers';
import { SessionProvider } from './lib/session';
import App from './App';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <UiProviders>
      <SessionProvider>
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </SessionProvider>
    </UiProviders>
  </StrictMode>,
);
