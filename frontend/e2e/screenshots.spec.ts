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
