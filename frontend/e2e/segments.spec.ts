import { expect, test, type Page, type Request } from '@playwright/test';
import { login, saveScreenshot, USERS } from './helpers';

/** The operation name and variables of a GraphQL request (GET or POST), or null for others. */
function graphqlCall(request: Request): { name: string; variables: Record<string, unknown> } | null {
  if (!request.url().includes('/graphql/')) return null;
  try {
    if (request.method() === 'GET') {
      const url = new URL(request.url());
      const query = url.searchParams.get('query') ?? '';
      const name = /(?:query|mutation)\s+(\w+)/.exec(query)?.[1] ?? url.searchParams.get('operationName') ?? '';
      return { name, variables: JSON.parse(url.searchParams.get('variables') ?? '{}') };
    }
    const body = request.postDataJSON() as { query?: string; operationName?: string; variables?: Record<string, unknown> } | null;
    if (!body) return null;
    const name = body.operationName ?? /(?:query|mutation)\s+(\w+)/.exec(body.query ?? '')?.[1] ?? '';
    return { name, variables: body.variables ?? {} };
  } catch {
    return null;
  }
}

/** The live count once it has settled for the criteria on screen. */
async function settledCount(page: Page): Promise<number> {
  const live = page.getByTestId('segment-live-count');
  await expect(live).toHaveAttribute('data-value', /^\d+$/);
  return Number(await live.getAttribute('data-value'));
}

test('an owner builds a dynamic segment with a live count, saves it and lists its members', async ({ page }) => {
  const previews: Record<string, unknown>[] = [];
  page.on('request', (request) => {
    const call = graphqlCall(request);
    if (call?.name === 'ConsoleSegmentPreview') previews.push(call.variables.criteria as Record<string, unknown>);
  });

  await login(page, USERS.owner);
  await page.goto('/console/demo-coffee/segments');
  await expect(page.getByRole('heading', { name: 'Segments', level: 2 })).toBeVisible();

  const name = `Gold lapsed SMS ${Date.now()}`;
  await page.getByRole('button', { name: 'New segment' }).click();
  const form = page.getByRole('form', { name: 'Segment' });
  await form.getByRole('textbox', { name: 'Name', exact: true }).fill(name);

  // Tier Gold, no visit for 60 days.
  await form.getByRole('combobox', { name: 'Tiers' }).click();
  await page.getByRole('option', { name: 'Gold', exact: true }).click();
  await page.keyboard.press('Escape');
  await form.getByLabel('No visit for at least (days)').fill('60');
  await settledCount(page);
  await expect.poll(() => previews.at(-1)).toMatchObject({ lastVisitDaysMin: 60 });
  const before = previews.at(-1)!;
  expect(before.tierIds).toHaveLength(1);
  expect(before).not.toHaveProperty('consentSms');

  // SMS consent yes: another criterion, so another request with it.
  await form.getByRole('radiogroup', { name: 'SMS consent' }).getByText('Yes', { exact: true }).click();
  await expect.poll(() => previews.at(-1)).toMatchObject({ consentSms: true, lastVisitDaysMin: 60, tierIds: before.tierIds });
  const count = await settledCount(page);
  expect(previews.at(-1)).toEqual({ tierIds: before.tierIds, lastVisitDaysMin: 60, consentSms: true });

  await saveScreenshot(page, 'console-segments.png');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(form).toBeHidden();

  // The saved segment counts what the builder counted.
  const row = page.locator(`[data-testid="segment-row"][data-segment-name="${name}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId('segment-count')).toHaveAttribute('data-value', String(count));

  // "Show members" lists the segment's members.
  const segmentId = await row.getAttribute('data-segment-id');
  await row.getByRole('link', { name: 'Show members' }).click();
  await expect(page).toHaveURL(/\/console\/demo-coffee\/members\?segment=/);
  expect(new URL(page.url()).searchParams.get('segment')).toBe(segmentId);
  await expect(page.getByTestId('members-total')).toHaveAttribute('data-value', String(count));
  await expect(page.getByRole('combobox', { name: 'Segment', exact: true })).toHaveValue(name);
});

test("an owner corrects a member's phone in the drawer: an invalid one is refused, a valid one saved as E.164", async ({ page }) => {
  await login(page, USERS.owner);
  await page.goto('/console/demo-coffee/members');
  const first = page.getByTestId('member-row').first();
  await expect(first).toBeVisible();
  await first.getByRole('button').first().click();

  const detail = page.getByTestId('member-detail');
  await expect(detail).toBeVisible();
  await detail.getByRole('tab', { name: 'Record' }).click();
  const form = detail.getByTestId('member-record-form');
  const phone = form.getByLabel('Phone', { exact: true });

  await phone.fill('12345');
  await form.getByRole('button', { name: 'Save record' }).click();
  await expect(form.getByText(/Not a valid phone number/)).toBeVisible();

  await phone.fill('+1 650-253-0000');
  await form.getByRole('button', { name: 'Save record' }).click();
  await expect(form.getByTestId('member-record-phone')).toHaveAttribute('data-value', '+16502530000');
  await expect(phone).toHaveValue('+16502530000');
  await expect(form.getByText(/Not a valid phone number/)).toBeHidden();
});
