import { expect, test } from '@playwright/test';
import { ApiSession, idempotencyKey, login, saveScreenshot, USERS } from './helpers';

const REDEEM = `
  mutation ($rewardId: ID!, $key: String!) {
    rewardRedeem(input: { rewardId: $rewardId }, idempotencyKey: $key) {
      redemption { code status }
      errors { field code message }
    }
  }`;

test('a cashier consumes a member’s code once; the second time it is used', async ({ page, baseURL }) => {
  // The member redeems a reward (from their phone, here over HTTP) and shows the code at the till.
  const member = await ApiSession.login(baseURL!, USERS.member);
  const { shop } = await member.graphql<{ shop: { rewards: { id: string; name: string }[] } }>(
    'query { shop(slug: "demo-books") { rewards { id name } } }',
  );
  const bookmark = shop.rewards.find((reward) => reward.name === 'Bookmark');
  expect(bookmark, 'the demo reward "Bookmark" of demo-books').toBeDefined();
  const { rewardRedeem } = await member.graphql<{
    rewardRedeem: { redemption: { code: string } | null; errors: unknown[] };
  }>(REDEEM, { rewardId: bookmark!.id, key: idempotencyKey('e2e-till') });
  expect(rewardRedeem.errors).toEqual([]);
  const code = rewardRedeem.redemption!.code;
  await member.dispose();

  await login(page, USERS.cashier);
  await page.goto('/till/demo-books');
  const input = page.getByLabel('Code', { exact: true });
  const result = page.getByTestId('till-result');

  await input.fill(code);
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(result).toHaveAttribute('data-state', 'valid');
  await saveScreenshot(page, 'till.png');

  await page.getByRole('button', { name: 'Consume' }).click();
  await expect(result).toHaveAttribute('data-state', 'consumed');

  // Shown again at the next customer, the same code is refused as already used.
  await page.getByRole('button', { name: 'Next code' }).click();
  await expect(input).toHaveValue('');
  await input.fill(code);
  await page.getByRole('button', { name: 'Consume' }).click();
  await expect(result).toHaveAttribute('data-state', 'used');
});

test('the till says when a code is unknown', async ({ page }) => {
  await login(page, USERS.cashier);
  await page.goto('/till/demo-books');
  await page.getByLabel('Code', { exact: true }).fill('ZZZZ-ZZZZ-ZZZZ');
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByTestId('till-result')).toHaveAttribute('data-state', 'invalid');
});
