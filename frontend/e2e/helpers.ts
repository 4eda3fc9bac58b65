import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, request, type APIRequestContext, type Page } from '@playwright/test';

/** The demo logins created by `manage.py patron_demo` (README.md lists them). */
export const USERS = {
  member: { username: 'demo', password: 'demo-member-pass' },
  owner: { username: 'owner', password: 'demo-owner-pass' },
  cashier: { username: 'cashier', password: 'demo-cashier-pass' },
} as const;

/** The demo member's customer id in the demo shops' own systems (orders name it). */
export const DEMO_CUSTOMER_ID = 'demo-member-1';

type Credentials = { username: string; password: string };

/** Logs in through the login page and waits until the app has left it. */
export async function login(page: Page, who: Credentials): Promise<void> {
  await page.goto('/login');
  await page.getByLabel('Username', { exact: true }).fill(who.username);
  await page.getByLabel('Password', { exact: true }).fill(who.password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page).not.toHaveURL(/\/login/);
}

const screenshotDir = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));

/**
 * Saves a full-page screenshot into docs/screenshots/ (shown in the README), only when
 * SCREENSHOTS=1 so that test runs (CI) leave the tree clean.
 */
export async function saveScreenshot(page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS !== '1') return;
  mkdirSync(screenshotDir, { recursive: true });
  // Fixed header and navigation would otherwise be drawn where the page is scrolled to.
  await page.evaluate('window.scrollTo(0, 0)');
  // Let animations (number flashes, progress bars) settle.
  await page.waitForTimeout(800);
  await page.screenshot({ path: `${screenshotDir}${name}`, fullPage: true, animations: 'disabled' });
}

/** A GraphQL session over HTTP, like a shop's system or a second browser: cookies and CSRF. */
export class ApiSession {
  private constructor(private readonly context: APIRequestContext) {}

  /** Opens a session logged in as `who` (GET /graphql/ first: Django sets the CSRF cookie). */
  static async login(baseURL: string, who: Credentials): Promise<ApiSession> {
    const context = await request.newContext({ baseURL });
    const session = new ApiSession(context);
    const csrf = await context.get('/graphql/', { headers: { Accept: 'text/html' } });
    expect(csrf.ok()).toBeTruthy();
    const data = await session.graphql<{ login: { username: string | null; errors: unknown[] } }>(
      'mutation ($input: LoginInput!) { login(input: $input) { username errors { field code message } } }',
      { input: who },
    );
    expect(data.login.errors).toEqual([]);
    return session;
  }

  /** POSTs a query with the current CSRF token (login rotates it) and returns `data`. */
  async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const { cookies } = await this.context.storageState();
    const token = cookies.find((cookie) => cookie.name === 'csrftoken')?.value ?? '';
    const response = await this.context.post('/graphql/', {
      data: { query, variables },
      headers: { 'X-CSRFToken': token, Accept: 'application/json' },
    });
    expect(response.ok(), await response.text()).toBeTruthy();
    const body = (await response.json()) as { data?: T; errors?: unknown[] };
    expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
    return body.data as T;
  }

  /** Global id of a shop by slug. */
  async shopId(slug: string): Promise<string> {
    const data = await this.graphql<{ shop: { id: string } | null }>('query ($slug: String!) { shop(slug: $slug) { id } }', {
      slug,
    });
    expect(data.shop, `shop ${slug}`).not.toBeNull();
    return data.shop!.id;
  }

  /** Ends the session. */
  async dispose(): Promise<void> {
    await this.context.dispose();
  }
}

/** A fresh key per action, as the API wants for everything that moves points. */
export function idempotencyKey(prefix: string): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 10)}`;
}
