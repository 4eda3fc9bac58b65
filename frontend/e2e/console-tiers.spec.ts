import { expect, test } from '@playwright/test';
import { login, saveScreenshot, USERS } from './helpers';

test('an owner changes a tier threshold and sees how many members would move', async ({ page }) => {
  await login(page, USERS.owner);
  await page.goto('/console/demo-coffee/tiers');

  const rows = page.getByTestId('tier-row');
  await expect(rows.first()).toBeVisible();
  // Demo Coffee's ladder is 0 / 100 / 250 / 500; the demo member's value (over 100) is below
  // Gold, so Gold just above Silver moves at least that member up.
  const gold = page.locator('[data-testid="tier-row"][data-tier-name="Gold"]');
  const threshold = gold.getByLabel('Threshold');
  await threshold.fill('101');
  await page.getByRole('button', { name: 'Preview' }).click();

  const preview = page.getByTestId('tier-preview');
  await expect(preview).toBeVisible();
  await expect(preview).toHaveAttribute('data-moving', /^\d+$/);
  expect(Number(await preview.getAttribute('data-moving'))).toBeGreaterThanOrEqual(1);

  await saveScreenshot(page, 'console-tiers.png');
});
