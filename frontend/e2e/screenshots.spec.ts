import { expect, test } from '@playwright/test';
import { login, saveScreenshot, USERS } from './helpers';

test('the owner’s analytics page draws its charts', async ({ page }) => {
  await login(page, USERS.owner);
  await page.goto('/console/demo-coffee/analytics');
  await expect(page.locator('.recharts-surface').first()).toBeVisible();
  await saveScreenshot(page, 'console-analytics.png');
});

test('in Persian the member’s page is right-to-left with Persian digits', async ({ page }) => {
  await login(page, USERS.member);
  await expect(page.getByTestId('account-card').first()).toBeVisible();
  await page.getByTestId('lang-switch').click();
  await expect(page.locator('html')).toHaveAttribute('dir', 'rtl');
  await expect(page.locator('html')).toHaveAttribute('lang', 'fa');
  // The raw value stays an integer; the text shows it in Persian digits.
  const available = page.getByTestId('points-available').first();
  await expect(available).toHaveAttribute('data-value', /^\d+$/);
  await expect(available).toHaveText(/[۰-۹]/);
  await saveScreenshot(page, 'member-home-fa.png');
});

test('in Persian the history reads Persian reasons and the rewards their Persian names', async ({ page }) => {
  await login(page, USERS.member);
  await page.getByTestId('lang-switch').click();
  await expect(page.locator('html')).toHaveAttribute('lang', 'fa');
  // The bookshop account: the demo member redeemed its bookmark, so its history has that line.
  const books = page.locator('[data-testid="account-card"][data-shop-slug="demo-books"]');
  await books.getByRole('link').click();
  await expect(page).toHaveURL(/\/accounts\//);
  const reasons = page.getByTestId('ledger-reason');
  await expect(reasons.first()).toBeVisible();
  await expect(reasons.filter({ hasText: 'دریافت جایزه: نشانک کتاب' })).toHaveCount(1);
  await expect(reasons.filter({ hasText: 'Redeemed:' })).toHaveCount(0);
  // The catalogue shows the real Persian names, never a placeholder.
  await expect(page.getByTestId('reward-card').filter({ hasText: 'نشانک کتاب' })).toHaveCount(1);
  await expect(page.getByText('(fa)')).toHaveCount(0);
  await saveScreenshot(page, 'member-account-fa.png');
});
