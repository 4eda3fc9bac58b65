/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

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
  build: {
    // Mantine + recharts make one big chunk; the console splits itself lazily.
    chunkSizeWarningLimit: 1500,
  },
  test: {
    environment: 'jsdom',
    globals: true,
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
  },
});
