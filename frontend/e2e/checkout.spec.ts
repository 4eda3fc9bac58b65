import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { DEMO_CUSTOMER_ID, login, saveScreenshot, USERS } from './helpers';

// The demo promotions and coupons come from `manage.py demo_checkout` (run by e2e/serve.sh).

test('a cashier quotes and commits a checkout with a single-use coupon; quoted again, the coupon is used up', async ({ page }) => {
  await login(page, USERS.cashier);
  await page.goto('/till/demo-books');
  await page.getByRole('tab', { name: 'Checkout' }).click();
  await expect(page).toHaveURL(/mode=checkout/);

  await page.getByLabel('Customer id (optional)').fill(DEMO_CUSTOMER_ID);
  await page.getByLabel('Product id (line 1)').fill('novel-1');
  await page.getByLabel('Quantity (line 1)').fill('2');
  await page.getByLabel('Unit price (line 1)').fill('12.00');
  await page.getByRole('button', { name: 'Add a line' }).click();
  await page.getByLabel('Category (line 2)').fill('stationery');
  await page.getByLabel('Unit price (line 2)').fill('8.50');
  const coupons = page.getByRole('combobox', { name: 'Coupon codes' });
  await coupons.fill('DEMO-ONCE-1');
  await coupons.press('Enter');
  await page.getByRole('button', { name: 'Quote', exact: true }).click();

  const quote = page.getByTestId('checkout-quote');
  await expect(quote).toBeVisible();
  await expect(quote.getByTestId('checkout-quote-line')).toHaveCount(2);
  // "Welcome 10%" through the coupon, on the basket's total and on each line.
  const couponTotal = quote.getByTestId('checkout-discounts').locator('[data-testid="checkout-discount"][data-coupon="DEMO-ONCE-1"]');
  await expect(couponTotal).toContainText('Welcome 10%');
  await expect(quote.getByTestId('checkout-quote-line').first().locator('[data-coupon="DEMO-ONCE-1"]')).toBeVisible();
  await expect(quote.getByTestId('total-subtotal')).toContainText('32.50');
  await expect(quote.locator('[data-testid="not-applied"]')).toHaveCount(0);
  await saveScreenshot(page, 'checkout-quote.png');

  await page.getByLabel('Order number (optional)').fill(`e2e-checkout-${Date.now()}`);
  await page.getByRole('button', { name: 'Commit' }).click();
  const committed = page.getByTestId('checkout-commit');
  await expect(committed).toHaveAttribute('data-state', 'committed');
  await expect(committed).toContainText('Checkout committed');
  await expect(page.getByRole('button', { name: 'Commit' })).toBeDisabled();

  // The next basket with the same single-use coupon: quoted without it, and told why.
  await page.getByRole('button', { name: 'Quote', exact: true }).click();
  const refused = page.getByTestId('checkout-quote').locator('[data-testid="not-applied"][data-reason="COUPON_USED_UP"]');
  await expect(refused).toContainText('DEMO-ONCE-1');
  await expect(refused).toContainText('This coupon has been used up');
  await expect(page.getByTestId('checkout-commit')).toHaveCount(0);
  await expect(page.getByTestId('checkout-quote').locator('[data-coupon="DEMO-ONCE-1"]')).toHaveCount(0);
});

test('an owner sees the promotions and exports a coupon batch as CSV', async ({ page }) => {
  await login(page, USERS.owner);
  await page.goto('/console/demo-books/promotions');
  const blackFriday = page.getByTestId('console-promotion').filter({ hasText: 'Black Friday' });
  await expect(blackFriday).toBeVisible();
  await expect(blackFriday).toContainText('Cheapest item free');
  await expect(page.getByTestId('console-promotion').filter({ hasText: 'Welcome 10%' })).toBeVisible();
  await saveScreenshot(page, 'console-promotions.png');

  await page.getByRole('tab', { name: 'Coupons' }).click();
  await expect(page).toHaveURL(/\/console\/demo-books\/coupons/);
  await page.getByRole('combobox', { name: 'Promotion' }).click();
  await page.getByRole('option', { name: 'Black Friday' }).click();
  // 20 generated codes and the public one, newest first: pages of 20.
  await expect(page.getByTestId('coupons-total')).toHaveText('(21)');
  await expect(page.getByTestId('console-coupon')).toHaveCount(20);
  await page.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByTestId('console-coupon')).toHaveCount(1);
  await page.getByRole('button', { name: 'Previous' }).click();
  await expect(page.getByTestId('console-coupon')).toHaveCount(20);
  const search = page.getByRole('textbox', { name: 'Find a code' });
  await search.fill('BLACKFRIDAY');
  await search.press('Enter');
  await expect(page.getByTestId('console-coupon')).toHaveCount(1);
  await expect(page.getByTestId('console-coupon').first()).toHaveAttribute('data-code', 'BLACKFRIDAY');

  const batch = page.getByTestId('coupon-batch').filter({ hasText: 'Black Friday mailing' });
  const download = page.waitForEvent('download');
  await batch.getByRole('button', { name: 'Export CSV of Black Friday mailing' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('black-friday-mailing.csv');
  const csv = readFileSync((await file.path())!, 'utf-8');
  expect(csv.split(/\r?\n/)[0]).toContain('code');
  expect(csv).toContain('BF-');

  await page.getByRole('button', { name: 'QR code of BLACKFRIDAY' }).click();
  const qr = page.getByRole('img', { name: 'QR code of coupon BLACKFRIDAY' });
  await expect(qr).toBeVisible();
  await expect(qr).toHaveAttribute('src', /^data:image\/svg\+xml/);
  // The browser decoded the server's SVG as an image.
  expect(await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
});
