import { expect, test } from '@playwright/test';
import { login, USERS } from './helpers';

test('an owner creates an API key, sees it once, and adds a webhook endpoint', async ({ page }) => {
  await login(page, USERS.owner);
  await page.goto('/console/demo-coffee/analytics');
  await page.getByRole('tab', { name: 'Integrations' }).click();
  await expect(page).toHaveURL(/\/console\/demo-coffee\/integrations$/);

  const keys = page.getByTestId('api-keys-section');
  await keys.getByRole('button', { name: 'New key' }).click();
  const form = page.getByRole('dialog', { name: 'New key' });
  await form.getByRole('textbox', { name: /^Name/ }).fill('E2E online shop');
  await form.getByRole('combobox', { name: /^Scopes/ }).click();
  await page.getByRole('option', { name: 'orders:write' }).click();
  // A click outside the picker closes its dropdown, which may cover the form's button.
  await form.locator('.mantine-Modal-title').click();
  await form.getByRole('button', { name: 'Create key' }).click();

  const secret = page.getByTestId('api-key-secret');
  await expect(secret).toBeVisible();
  await expect(secret).toHaveAttribute('data-value', /^ptn_[a-z0-9]{8}_\S{20,}$/);
  await expect(page.getByTestId('api-key-warning')).toContainText('will not be shown again');
  const key = (await secret.getAttribute('data-value'))!;
  const prefix = key.split('_')[1];

  await page.getByRole('button', { name: 'Done' }).click();
  await expect(secret).toBeHidden();
  const row = page.locator('[data-testid="api-key-row"][data-key-name="E2E online shop"]');
  await expect(row).toBeVisible();
  await expect(row.getByTestId('api-key-prefix')).toHaveText(`ptn_${prefix}_…`);
  await expect(row.getByTestId('api-key-status')).toHaveText('Active');
  // The full key is not on the page any more.
  await expect(page.getByText(key)).toHaveCount(0);

  const webhooks = page.getByTestId('webhooks-section');
  await webhooks.getByRole('button', { name: 'Add endpoint' }).click();
  const endpointForm = page.getByRole('dialog', { name: 'Add endpoint' });
  await endpointForm.getByRole('textbox', { name: /^URL/ }).fill('https://hooks.example.com/patron');
  await endpointForm.getByRole('combobox', { name: /^Event types/ }).click();
  await page.getByRole('option').first().click();
  await endpointForm.locator('.mantine-Modal-title').click();
  await endpointForm.getByRole('button', { name: 'Add endpoint' }).click();
  const endpoint = page.locator('[data-testid="webhook-endpoint"][data-url="https://hooks.example.com/patron"]');
  await expect(endpoint).toBeVisible();
  await expect(endpoint.getByTestId('webhook-status')).toHaveText('Active');
  await expect(endpoint.getByTestId('webhook-secret')).not.toContainText(/whsec_[A-Za-z0-9+/=]{8,}/);
  await endpoint.getByRole('button', { name: 'Reveal secret' }).click();
  await expect(endpoint.getByTestId('webhook-secret')).toContainText(/^whsec_\S{8,}/);
});
