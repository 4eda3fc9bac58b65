import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { expect, test, type Page } from '@playwright/test';
import { ApiSession, DEMO_CUSTOMER_ID, USERS } from './helpers';

/**
 * The member view on a storefront member token (docs/integrations.md, "Embed the member view"):
 * the storefront opens /embed#token=<jwt>, the page shows the member's accounts without a login
 * and keeps them live over a socket that carries the token in connection_init.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface Issuer {
  kid: string;
  secret: string;
  audience: string;
}

/** Runs a manage.py command against the e2e server's database (the SQLite file serve.sh made). */
function manage(port: string, args: string[]): string {
  const data = `${process.env.TMPDIR || os.tmpdir()}/patron-e2e-${port}`;
  // As serve.sh: the embedded default (never CI's services) and the development secret key.
  const script = 'unset DATABASE_URL REDIS_URL; . scripts/_dev_env.sh && exec .venv/bin/python manage.py "$@"';
  return execFileSync('bash', ['-c', script, 'manage', ...args], {
    cwd: repoRoot,
    env: { ...process.env, PATRON_SQLITE_PATH: `${data}/patron.sqlite3`, PATRON_LOG_LEVEL: 'WARNING' },
    encoding: 'utf8',
  });
}

/** A token the way a marketplace's server mints one (PyJWT, HS256, the issuer's kid). */
function mintToken(issuer: Issuer, sub: string, expiresIn: number): string {
  const code = [
    'import jwt, sys, time',
    'secret, kid, aud, sub, ttl = sys.argv[1:6]',
    'print(jwt.encode({"sub": sub, "aud": aud, "exp": int(time.time()) + int(ttl), "name": "Demo Member"},',
    '                 secret, algorithm="HS256", headers={"kid": kid}))',
  ].join('\n');
  return execFileSync('.venv/bin/python', ['-c', code, issuer.secret, issuer.kid, issuer.audience, sub, String(expiresIn)], {
    cwd: repoRoot,
    encoding: 'utf8',
  }).trim();
}

/**
 * Resolves with the socket's connection_init frame once the socket is acknowledged and has sent
 * a subscription (an update published afterwards reaches it). Call before the page opens it.
 */
function subscriptionStarted(page: Page): Promise<string> {
  return new Promise((resolve) => {
    page.on('websocket', (socket) => {
      if (!socket.url().includes('/graphql')) return;
      let init = '';
      let acknowledged = false;
      socket.on('framereceived', ({ payload }) => {
        if (String(payload).includes('"connection_ack"')) acknowledged = true;
      });
      socket.on('framesent', ({ payload }) => {
        const frame = String(payload);
        if (frame.includes('"connection_init"')) init = frame;
        if (acknowledged && frame.includes('"subscribe"')) resolve(init);
      });
    });
  });
}

const RECORD_ORDER = `
  mutation ($key: String!, $input: OrderEventRecordInput!) {
    orderEventRecord(idempotencyKey: $key, input: $input) {
      order { externalId status }
      errors { field code message }
    }
  }`;

let issuer: Issuer;

test.beforeAll(({}, testInfo) => {
  const port = new URL(String(testInfo.project.use.baseURL)).port;
  issuer = JSON.parse(manage(port, ['member_token_issuer', 'create', 'e2e', '--json'])) as Issuer;
  expect(issuer.kid).toMatch(/^ptk_/);
});

test('a storefront token shows the member’s points, live, with no login', async ({ page, baseURL }) => {
  const token = mintToken(issuer, DEMO_CUSTOMER_ID, 600);
  const visited: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) visited.push(new URL(frame.url()).pathname);
  });
  const subscribed = subscriptionStarted(page);

  await page.goto(`/embed#token=${token}`);
  // The token left the address bar (and the history) at once; it stays in this tab's storage.
  await expect(page).toHaveURL(`${baseURL}/embed`);
  expect(await page.evaluate('window.location.hash')).toBe('');
  expect(await page.evaluate('sessionStorage.getItem("patron.memberToken")')).toBe(token);

  const cards = page.getByTestId('account-card');
  await expect(cards.first()).toBeVisible();
  await expect.poll(() => cards.count()).toBeGreaterThanOrEqual(2);
  const card = page.locator('[data-testid="account-card"][data-shop-slug="demo-coffee"]');
  await expect(card.getByTestId('points-available')).toHaveAttribute('data-value', /^\d+$/);
  const pending = card.getByTestId('points-pending');
  await expect(pending).toHaveAttribute('data-value', /^\d+$/);
  // The storefront owns the session: no login page, no logout button.
  expect(visited).not.toContain('/login');
  await expect(page.getByTestId('logout')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Log in' })).toHaveCount(0);

  // The socket authenticated with the token in connection_init.
  const init = await subscribed;
  expect(JSON.parse(init)).toEqual({ type: 'connection_init', payload: { Authorization: `Bearer ${token}` } });
  // The server joins the subscription's channel group just after the subscribe message.
  await page.waitForTimeout(1_000);
  const before = Number(await pending.getAttribute('data-value'));

  // The shop's system (the owner over HTTP) records a delivered order for the member.
  const owner = await ApiSession.login(baseURL!, USERS.owner);
  const shopId = await owner.shopId('demo-coffee');
  const orderId = `EMB-${String(Date.now()).slice(-5)}`;
  const data = await owner.graphql<{ orderEventRecord: { order: { status: string } | null; errors: unknown[] } }>(RECORD_ORDER, {
    key: `${orderId}:delivered`,
    input: {
      shopId,
      orderId,
      status: 'DELIVERED',
      currency: 'USD',
      occurredAt: new Date(Date.now() - 60_000).toISOString(),
      customer: { externalId: DEMO_CUSTOMER_ID },
      lines: [{ quantity: 1, unitPrice: '12.00', description: 'Embedded order' }],
    },
  });
  expect(data.orderEventRecord.errors).toEqual([]);
  await owner.dispose();

  await expect.poll(async () => Number(await pending.getAttribute('data-value')), { timeout: 30_000 }).toBeGreaterThan(before);
  expect(new URL(page.url()).pathname).toBe('/embed');

  // A reload of the same tab keeps the token (sessionStorage), still without a login.
  await page.reload();
  await expect(cards.first()).toBeVisible();
  await expect(page).toHaveURL(`${baseURL}/embed`);
  expect(visited).not.toContain('/login');
});

test('an expired storefront token says to reload the shop’s page', async ({ page }) => {
  // Past exp by more than the 30 s of clock skew the server tolerates.
  const token = mintToken(issuer, DEMO_CUSTOMER_ID, -120);
  await page.goto(`/embed#token=${token}`);
  const message = page.getByTestId('token-message');
  await expect(message).toBeVisible();
  await expect(message).toHaveAttribute('data-code', 'TOKEN_EXPIRED');
  await expect(message).toContainText('Your session from the shop has expired — reload the page in the shop');
  await expect(page.getByTestId('account-card')).toHaveCount(0);
  await expect(page).not.toHaveURL(/\/login/);
});

test('the embed page without a token asks to come from the shop', async ({ page }) => {
  await page.goto('/embed');
  await expect(page.getByTestId('token-message')).toHaveAttribute('data-kind', 'missing');
  await expect(page).not.toHaveURL(/\/login/);
});
