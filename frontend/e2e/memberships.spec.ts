import { expect, test } from '@playwright/test';
import { login, saveScreenshot, USERS } from './helpers';

// demo_memberships (e2e/serve.sh) starts the demo member on a 14-day trial of "Reading circle Gold"
// at the Demo Bookshop (7.99 EUR a month, tier Gold).
test('a member sees their Reading circle Gold trial and turns auto-renewal off and on again', async ({ page }) => {
  await login(page, USERS.member);
  const account = page.locator('[data-testid="account-card"][data-shop-slug="demo-books"]');
  await account.getByRole('link', { name: 'Open the Demo Bookshop account' }).click();
  await expect(page).toHaveURL(/\/accounts\//);

  // The plan grants Gold, and the account holds it.
  await expect(page.getByTestId('account-card').getByTestId('tier-badge')).toHaveAttribute('data-tier-name', 'Gold');
  const card = page.getByTestId('membership-card');
  await expect(card.getByTestId('membership-plan-name')).toHaveText('Reading circle Gold');
  await expect(card.getByTestId('membership-status')).toHaveText('Free trial');
  await expect(card.getByTestId('membership-trial')).toContainText('Free trial until');
  await expect(card.getByTestId('membership-tier')).toHaveText('Gold');
  await expect(card.getByTestId('membership-renewal')).toContainText('Next renewal:');
  await expect(card.getByTestId('membership-renewal')).toContainText('7.99');

  const autoRenew = card.getByRole('switch', { name: 'Auto-renewal' });
  await expect(autoRenew).toBeChecked();
  await saveScreenshot(page, 'membership.png');

  // Off: the trial runs to its end and the card says when the membership ends.
  await autoRenew.click();
  await expect(autoRenew).not.toBeChecked();
  await expect(card.getByTestId('membership-renewal')).toContainText('Ends on');
  await expect(card.getByRole('alert')).toHaveCount(0);

  // The server kept it.
  await page.reload();
  await expect(card.getByTestId('membership-plan-name')).toHaveText('Reading circle Gold');
  await expect(autoRenew).not.toBeChecked();
  await expect(card.getByTestId('membership-renewal')).toContainText('Ends on');

  // On again: the next renewal is back; the history lists both changes.
  await autoRenew.click();
  await expect(autoRenew).toBeChecked();
  await expect(card.getByTestId('membership-renewal')).toContainText('Next renewal:');
  await card.getByRole('button', { name: 'Show history' }).click();
  await expect(card.getByTestId('membership-transition').filter({ hasText: 'Auto-renewal turned off' })).toBeVisible();
  await expect(card.getByTestId('membership-transition').filter({ hasText: 'Auto-renewal turned on' })).toBeVisible();
});
