import { expect, test } from '@playwright/test';
import { login, saveScreenshot, USERS } from './helpers';

test('a member logs in and sees accounts in several shops', async ({ page }) => {
  await login(page, USERS.member);
  await expect(page).toHaveURL(/\/$/);

  const cards = page.getByTestId('account-card');
  await expect(cards.first()).toBeVisible();
  await expect.poll(() => cards.count()).toBeGreaterThanOrEqual(2);
  const slugs = await Promise.all((await cards.all()).map((card) => card.getAttribute('data-shop-slug')));
  expect(new Set(slugs).size, `shops: ${slugs.join(', ')}`).toBeGreaterThanOrEqual(2);

  // Every card shows its balances as raw integers and the member's tier with its progress.
  for (const card of await cards.all()) {
    await expect(card.getByTestId('points-available')).toHaveAttribute('data-value', /^\d+$/);
    await expect(card.getByTestId('points-pending')).toHaveAttribute('data-value', /^\d+$/);
    await expect(card.getByTestId('tier-badge')).toBeVisible();
  }
  await expect(page.getByTestId('tier-progress').first()).toBeVisible();

  await saveScreenshot(page, 'member-home.png');
});

test('a wrong password is refused on the login page', async ({ page }) => {
  await page.goto('/login');
  await page.getByLabel('Username', { exact: true }).fill(USERS.member.username);
  await page.getByLabel('Password', { exact: true }).fill('not-the-password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByTestId('login-error')).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
});
