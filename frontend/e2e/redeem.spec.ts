import { expect, test } from '@playwright/test';
import { login, saveScreenshot, USERS } from './helpers';

test('a member redeems a reward and sees the code', async ({ page }) => {
  await login(page, USERS.member);
  const card = page.locator('[data-testid="account-card"][data-shop-slug="demo-coffee"]');
  await card.getByRole('link').first().click();
  await expect(page).toHaveURL(/\/accounts\//);

  await expect(page.getByTestId('ledger-row').first()).toBeVisible();
  const reward = page.locator('[data-testid="reward-card"][data-reward-name="Free espresso"]');
  await reward.getByRole('button', { name: 'Redeem' }).click();

  const code = page.getByTestId('redemption-code');
  await expect(code).toBeVisible();
  await expect(code).toHaveAttribute('data-code', /\S{6,}/);
  const value = (await code.getAttribute('data-code'))!;

  // Closing the dialog leaves the account page with the new code among the member's codes.
  await page.keyboard.press('Escape');
  await expect(code).toBeHidden();
  await expect(page.locator(`[data-testid="code-row"][data-code="${value}"]`)).toBeVisible();
  await expect(page.locator(`[data-testid="code-row"][data-code="${value}"]`)).toHaveAttribute('data-status', /issued/i);

  await saveScreenshot(page, 'account.png');
});
