import os from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';

/**
 * End-to-end tests in Debian's Chromium (never a downloaded browser) against a real Patron
 * server that the run starts itself: `e2e/serve.sh` (fresh SQLite file, demo data, the built
 * dashboard) on E2E_PORT, away from a dev server on 8000 and CI's smoke on 8765.
 */
const port = Number(process.env.E2E_PORT ?? 8799);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './e2e',
  // One server and one database: tests run one after the other, never retried.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  // Traces of failed tests outside the repository, so that a run leaves the tree clean.
  // One directory per port: two runs at once (a developer's and CI's) would otherwise delete each
  // other's traces mid-run.
  outputDir: path.join(os.tmpdir(), `patron-e2e-results-${port}`),
  use: {
    baseURL,
    headless: true,
    locale: 'en-US',
    timezoneId: 'UTC',
    viewport: { width: 1280, height: 800 },
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox'],
    },
  },
  webServer: {
    command: 'bash e2e/serve.sh',
    url: `${baseURL}/`,
    env: { E2E_PORT: String(port) },
    // Migrations and the demo data take about 40 s on a small machine.
    timeout: 240_000,
    // Never test against whatever else listens there (a stale server, another checkout).
    reuseExistingServer: false,
    // Set-up errors show here; the running server's log is ${TMPDIR:-/tmp}/patron-e2e-<port>/server.log.
    stdout: 'ignore',
    stderr: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 5_000 },
  },
});
