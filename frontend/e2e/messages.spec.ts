import { expect, test } from '@playwright/test';
import { login, USERS } from './helpers';

test('an owner edits a Persian template: a bad variable is refused in place, a good one saved', async ({ page }) => {
  await login(page, USERS.owner);
  await page.goto('/console/demo-bazaar/messages');
  // The demo's own Persian birthday message is listed as custom; the rest are the shipped defaults.
  const birthdayFa = page.locator('[data-testid="template-row"][data-kind="BIRTHDAY"][data-language="fa"]');
  await expect(birthdayFa).toContainText('Custom');
  const yaldaFa = page.locator('[data-testid="template-row"][data-kind="CULTURAL_EVENT"][data-language="fa"]');
  await expect(yaldaFa).toContainText('Default');
  await yaldaFa.getByRole('button').click();
  const body = page.getByRole('textbox', { name: /^Message/ });
  await expect(body).toBeVisible();
  await body.fill('{{ member_name }} عزیز، {{ password }}');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByText(/Unknown variable 'password'/)).toBeVisible();
  await body.fill('{{ member_name }} عزیز، {{ event_name }} مبارک!');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(yaldaFa).toContainText('Custom');
  // The bazaar's cultural events are the demo's Jalali dates.
  await page.getByRole('tab', { name: 'Cultural events' }).click();
  await expect(page.getByTestId('event-row')).toHaveCount(3);
  await expect(page.locator('[data-testid="event-row"][data-event-name="Yalda Night"]')).toBeVisible();
});
