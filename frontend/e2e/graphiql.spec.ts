import { expect, test, type Page } from '@playwright/test';
import { ApiSession, DEMO_CUSTOMER_ID, USERS, idempotencyKey } from './helpers';

/**
 * GraphiQL at /graphql/ with no internet: every request to a host other than this server is
 * aborted and recorded, and the tests expect none (strawberry's stock page loaded GraphiQL from
 * a CDN and stayed on "Loading..." offline). Selectors are GraphiQL 5's own class names and
 * button labels.
 */

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost']);

/** Aborts (and returns the list of) every request of the page's context that leaves this machine. */
async function cutTheInternet(page: Page): Promise<string[]> {
  const aborted: string[] = [];
  await page.context().route('**/*', async (route) => {
    const url = route.request().url();
    const { protocol, hostname } = new URL(url);
    if ((protocol === 'http:' || protocol === 'https:') && !LOCAL_HOSTS.has(hostname)) {
      aborted.push(url);
      await route.abort('internetdisconnected');
      return;
    }
    await route.continue();
  });
  return aborted;
}

/** Opens GraphiQL and waits until its Monaco query editor is up. */
async function openGraphiql(page: Page): Promise<void> {
  await page.goto('/graphql/');
  await expect(page).toHaveTitle('Patron GraphiQL');
  await expect(page.locator('.graphiql-query-editor .monaco-editor')).toBeVisible();
}

/** Replaces the query editor's text and runs it with the run button; returns the result pane. */
async function run(page: Page, query: string) {
  await page.locator('.graphiql-query-editor .monaco-editor').click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // insertText types no keys one by one, so the editor's auto-closing brackets do not double up.
  await page.keyboard.insertText(query);
  await page.getByRole('button', { name: /Execute query/ }).click();
  return page.locator('.graphiql-response');
}

test('GraphiQL runs a query with nothing loaded from the internet', async ({ page }) => {
  const aborted = await cutTheInternet(page);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  await openGraphiql(page);
  // the default query works anonymously
  await expect(page.locator('.graphiql-query-editor')).toContainText('shops(first: 5)');

  const response = await run(page, '{ shops(first: 3) { edges { node { name } } } }');
  // \s: Monaco draws spaces as no-break spaces, which a pattern (unlike a string) does not fold.
  await expect(response).toContainText(/Demo\s(Bookshop|Coffee\sRoasters|Tehran\sBazaar)/);

  // the schema came in by introspection: the documentation explorer lists the root types
  await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
  await expect(page.locator('.graphiql-doc-explorer-root-type').first()).toHaveText('query');

  expect(aborted, 'requests that tried to reach the internet').toEqual([]);
  expect(pageErrors).toEqual([]);
});

test('GraphiQL logs in with the login mutation and then runs a staff query on the session', async ({
  page,
}) => {
  const aborted = await cutTheInternet(page);
  await openGraphiql(page);

  // the mutation is a POST with the csrftoken cookie's value in X-CSRFToken
  const response = await run(
    page,
    `mutation { login(input: {username: "${USERS.owner.username}", password: "${USERS.owner.password}"}) { username errors { code } } }`,
  );
  await expect(response).toContainText(`"username": "${USERS.owner.username}"`);

  // logging in rotated the token: this POST must carry the new one, and the session shows the staff role
  await run(page, '{ viewer { staffShops { role shop { name } } } }');
  await expect(response).toContainText('"role": "OWNER"');
  await expect(response).toContainText('Demo Bookshop');
  await expect(response).not.toContainText('CSRF_FAILED');

  expect(aborted, 'requests that tried to reach the internet').toEqual([]);
});

test('a subscription run in GraphiQL gets live events over the same host’s socket', async ({ page, baseURL }) => {
  const aborted = await cutTheInternet(page);
  // Resolves once the socket is acknowledged and the subscription sent, so that an event
  // published afterwards reaches it.
  const subscribed = new Promise<string>((resolve) => {
    page.on('websocket', (socket) => {
      let acknowledged = false;
      socket.on('framereceived', ({ payload }) => {
        if (String(payload).includes('"connection_ack"')) acknowledged = true;
      });
      socket.on('framesent', ({ payload }) => {
        if (acknowledged && String(payload).includes('"subscribe"')) resolve(socket.url());
      });
    });
  });
  await openGraphiql(page);
  const response = await run(
    page,
    `mutation { login(input: {username: "${USERS.member.username}", password: "${USERS.member.password}"}) { username } }`,
  );
  await expect(response).toContainText(`"username": "${USERS.member.username}"`);

  // the socket authenticates from the session cookie (no Authorization in the headers editor)
  await run(page, 'subscription { accountUpdated { kind points account { shop { name } } } }');
  expect(await subscribed).toBe(`${baseURL!.replace(/^http/, 'ws')}/graphql/`);
  // The server joins the subscription's channel group just after the subscribe message.
  await page.waitForTimeout(1_000);

  // The shop's system (the owner, over HTTP) records a delivered order for the member.
  const owner = await ApiSession.login(baseURL!, USERS.owner);
  const { orderEventRecord } = await owner.graphql<{ orderEventRecord: { errors: unknown[] } }>(
    `mutation ($key: String!, $input: OrderEventRecordInput!) {
      orderEventRecord(idempotencyKey: $key, input: $input) { errors { field code message } }
    }`,
    {
      key: idempotencyKey('e2e-graphiql'),
      input: {
        shopId: await owner.shopId('demo-coffee'),
        orderId: idempotencyKey('GQL'),
        status: 'DELIVERED',
        currency: 'USD',
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
        customer: { externalId: DEMO_CUSTOMER_ID },
        lines: [{ quantity: 1, unitPrice: '12.00', description: 'Espresso beans' }],
      },
    },
  );
  expect(orderEventRecord.errors).toEqual([]);
  await owner.dispose();

  // the event shows in GraphiQL's result pane
  await expect(response).toContainText('Demo Coffee Roasters', { timeout: 30_000 });
  await expect(response).toContainText('"kind"');
  expect(aborted, 'requests that tried to reach the internet').toEqual([]);
});

test('the headers editor’s Authorization goes with HTTP requests and in the socket’s connection_init', async ({
  page,
}) => {
  const aborted = await cutTheInternet(page);
  const initPayloads: string[] = [];
  page.on('websocket', (socket) => {
    socket.on('framesent', ({ payload }) => {
      if (String(payload).includes('"connection_init"')) initPayloads.push(String(payload));
    });
  });
  await openGraphiql(page);

  // what a shop's developer does with an API key: put it in the Headers tab
  await page.getByRole('button', { name: 'Headers', exact: true }).click();
  const headersEditor = page.locator('.graphiql-editor-tool .monaco-editor:visible');
  await headersEditor.click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText('{"Authorization": "Bearer e2e-graphiql-key"}');

  // a query: the header goes with the POST (whatever the server then makes of this made-up key)
  const posted = page.waitForRequest((request) => request.method() === 'POST' && request.url().endsWith('/graphql/'));
  await run(page, '{ shops(first: 1) { edges { node { name } } } }');
  expect((await posted).headers()['authorization']).toBe('Bearer e2e-graphiql-key');

  // a subscription: the socket authenticates with it in connection_init's payload, nothing else
  await run(page, 'subscription { accountUpdated { kind } }');
  await expect.poll(() => initPayloads.length).toBeGreaterThan(0);
  expect(JSON.parse(initPayloads[0])).toEqual({
    type: 'connection_init',
    payload: { Authorization: 'Bearer e2e-graphiql-key' },
  });
  expect(aborted, 'requests that tried to reach the internet').toEqual([]);
});
