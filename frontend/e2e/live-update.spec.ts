import { expect, test, type Page } from '@playwright/test';
import { ApiSession, DEMO_CUSTOMER_ID, login, USERS } from './helpers';

/**
 * Resolves once the page's GraphQL socket is acknowledged and has sent a subscription, so that
 * an update published afterwards reaches it. Call before the page opens the socket.
 */
function subscriptionStarted(page: Page): Promise<void> {
  return new Promise((resolve) => {
    page.on('websocket', (socket) => {
      if (!socket.url().includes('/graphql')) return;
      let acknowledged = false;
      socket.on('framereceived', ({ payload }) => {
        if (String(payload).includes('"connection_ack"')) acknowledged = true;
      });
      socket.on('framesent', ({ payload }) => {
        if (acknowledged && String(payload).includes('"subscribe"')) resolve();
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

test('an order delivered through the API updates the member’s open page live', async ({ page, baseURL }) => {
  const subscribed = subscriptionStarted(page);
  await login(page, USERS.member);
  const card = page.locator('[data-testid="account-card"][data-shop-slug="demo-coffee"]');
  const pending = card.getByTestId('points-pending');
  await expect(pending).toHaveAttribute('data-value', /^\d+$/);
  const before = Number(await pending.getAttribute('data-value'));
  await subscribed;
  // The server joins the subscription's channel group just after the subscribe message.
  await page.waitForTimeout(1_000);

  // A reload or a navigation would lose this mark and show up as a main-frame navigation.
  await page.evaluate(() => Object.assign(globalThis, { __patronE2eMark: 'still-here' }));
  const navigations: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) navigations.push(frame.url());
  });
  const url = page.url();

  // The shop's system (here: the owner over HTTP) records a delivered order for the member.
  const owner = await ApiSession.login(baseURL!, USERS.owner);
  const shopId = await owner.shopId('demo-coffee');
  // Unique within the run (each run has a fresh database); short, as it shows in screenshots.
  const orderId = `WEB-${String(Date.now()).slice(-5)}`;
  const data = await owner.graphql<{ orderEventRecord: { order: { status: string } | null; errors: unknown[] } }>(
    RECORD_ORDER,
    {
      key: `${orderId}:delivered`,
      input: {
        shopId,
        orderId,
        status: 'DELIVERED',
        currency: 'USD',
        occurredAt: new Date(Date.now() - 60_000).toISOString(),
        customer: { externalId: DEMO_CUSTOMER_ID },
        lines: [{ quantity: 2, unitPrice: '15.00', description: 'House blend, 250 g' }],
      },
    },
  );
  expect(data.orderEventRecord.errors).toEqual([]);
  expect(data.orderEventRecord.order?.status).toBe('DELIVERED');
  await owner.dispose();

  // The worker posts the pending points and the subscription brings them to the open card.
  await expect
    .poll(async () => Number(await pending.getAttribute('data-value')), { timeout: 30_000 })
    .toBeGreaterThan(before);
  expect(navigations).toEqual([]);
  expect(page.url()).toBe(url);
  const mark = await page.evaluate(() => (globalThis as { __patronE2eMark?: string }).__patronE2eMark);
  expect(mark).toBe('still-here');
});
