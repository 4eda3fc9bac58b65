/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';

const backend = process.env.PATRON_BACKEND ?? 'http://127.0.0.1:8000';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: {
      // ws: true so graphql-ws subscriptions reach Django Channels through the dev server.
      '/graphql': { target: backend, ws: true, changeOrigin: false },
      '/static': { target: backend },
      '/admin': { target: backend },
    },
  },
  optimizeDeps: {
    // GraphiQL's worker set-up imports Monaco's workers with Vite's `?worker` suffix, which only
    // Vite's own transform understands: pre-bundling it fails and stops the dev server.
    exclude: ['graphiql/setup-workers/vite', '@graphiql/react/setup-workers/vite'],
  },
  build: {
    // Mantine + recharts make one big chunk (under 1 MB); the console splits itself lazily.
    // GraphiQL's Monaco editor is one 2.8 MB chunk that only /graphql/ loads, hence the limit.
    chunkSizeWarningLimit: 3000,
    rolldownOptions: {
      // Two pages: the dashboard, and GraphiQL (served by Django at /graphql/) built from the
      // project's own packages so that it needs no CDN.
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        graphiql: fileURLToPath(new URL('./graphiql.html', import.meta.url)),
      },
      onLog(level, log, handler) {
        // GraphiQL's packages open modules with the React Compiler's "use no memo"; a bundle
        // drops such directives, harmlessly (nothing compiles the bundle again), so say nothing.
        if (log.code === 'MODULE_LEVEL_DIRECTIVE' && log.message.includes('node_modules/')) return;
        handler(level, log);
      },
    },
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
});
