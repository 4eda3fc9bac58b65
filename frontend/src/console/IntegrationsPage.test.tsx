import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { ConsoleRoutes } from './index';
import { apiKeyState, endpointState, IntegrationsPage } from './IntegrationsPage';
import { renderConsolePage, staffSession, testShop } from './testing';
import { renderWithProviders } from '../test/utils';

const apiKey = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  name,
  prefix: `k${name.toLowerCase().replace(/[^a-z]/g, '').slice(0, 7)}`,
  scopes: ['orders:write'],
  rateLimit: '',
  createdAt: '2026-11-01T10:00:00Z',
  expiresAt: null,
  lastUsedAt: null,
  revokedAt: null,
  isActive: true,
  ...extra,
});

const keysData = {
  data: {
    shop: {
      id: 'U2hvcDox',
      apiKeyScopes: ['events:read', 'members:read', 'orders:write'],
      apiKeys: [
        apiKey('QXBpS2V5OjE=', 'Online shop', { scopes: ['orders:write', 'members:read'], lastUsedAt: '2026-12-01T09:30:00Z' }),
        apiKey('QXBpS2V5OjI=', 'Old POS', { revokedAt: '2026-11-20T10:00:00Z', isActive: false }),
      ],
    },
  },
};

const delivery = (id: string, eventId: string, status: 'PENDING' | 'SUCCEEDED' | 'FAILED', extra: Record<string, unknown> = {}) => ({
  id,
  status,
  attempts: 1,
  nextAttemptAt: null,
  lastStatusCode: 200,
  lastAttemptAt: '2026-12-01T10:00:00Z',
  createdAt: '2026-12-01T10:00:00Z',
  event: { id: eventId, type: 'points.earned', occurredAt: '2026-12-01T10:00:00Z' },
  log: [{ attemptedAt: '2026-12-01T10:00:00Z', statusCode: 200, latencyMs: 85, error: '', responseExcerpt: 'ok' }],
  ...extra,
});

const endpoint = (id: string, url: string, extra: Record<string, unknown> = {}) => ({
  id,
  url,
  description: '',
  isActive: true,
  disabledAt: null,
  disabledReason: '',
  failingSince: null,
  createdAt: '2026-11-01T10:00:00Z',
  secret: 'whsec_c2VjcmV0LXNpZ25pbmcta2V5',
  previousSecretExpiresAt: null,
  eventTypes: ['points.earned'],
  deliveries: [],
  ...extra,
});

const webhooksData = {
  data: {
    shop: {
      id: 'U2hvcDox',
      webhookEventTypes: ['points.earned', 'reward.redeemed'],
      webhookEndpoints: [
        endpoint('V2ViaG9va0VuZHBvaW50OjE=', 'https://crm.example.com/hooks', {
          description: 'CRM',
          deliveries: [
            delivery('V2ViaG9va0RlbGl2ZXJ5OjE=', 'evt_one', 'SUCCEEDED'),
            delivery('V2ViaG9va0RlbGl2ZXJ5OjI=', 'evt_two', 'FAILED', {
              attempts: 3,
              lastStatusCode: 500,
              log: [
                { attemptedAt: '2026-12-01T10:00:00Z', statusCode: null, latencyMs: 10000, error: 'timed out', responseExcerpt: '' },
                { attemptedAt: '2026-12-01T10:01:00Z', statusCode: 500, latencyMs: 120, error: 'HTTP 500', responseExcerpt: 'oops' },
              ],
            }),
          ],
        }),
        endpoint('V2ViaG9va0VuZHBvaW50OjI=', 'https://erp.example.com/in', {
          isActive: false,
          disabledAt: '2026-12-02T08:00:00Z',
          disabledReason: 'failed for 3 days',
          failingSince: '2026-11-29T08:00:00Z',
        }),
      ],
    },
  },
};

const mocks = { ConsoleApiKeys: keysData, ConsoleWebhooks: webhooksData };

describe('IntegrationsPage', { timeout: 20_000 }, () => {
  it('lists the API keys and the webhook endpoints with their state', async () => {
    renderConsolePage(<IntegrationsPage />, { mocks });
    const rows = await screen.findAllByTestId('api-key-row');
    expect(rows.map((r) => r.getAttribute('data-key-name'))).toEqual(['Online shop', 'Old POS']);
    expect(within(rows[0]).getByTestId('api-key-prefix')).toHaveTextContent('ptn_konlines_…');
    expect(within(rows[0]).getByText('members:read')).toBeInTheDocument();
    expect(within(rows[0]).getByTestId('api-key-status')).toHaveTextContent('Active');
    expect(within(rows[1]).getByTestId('api-key-status')).toHaveTextContent('Revoked');
    // Only active keys can be rotated or revoked.
    expect(within(rows[1]).queryByRole('button', { name: /Revoke/ })).toBeNull();

    const endpoints = await screen.findAllByTestId('webhook-endpoint');
    expect(endpoints.map((e) => e.getAttribute('data-url'))).toEqual(['https://crm.example.com/hooks', 'https://erp.example.com/in']);
    expect(within(endpoints[0]).getByTestId('webhook-status')).toHaveTextContent('Active');
    expect(within(endpoints[1]).getByTestId('webhook-status')).toHaveTextContent('Disabled');
    expect(within(endpoints[1]).getByRole('button', { name: 'Re-enable' })).toBeInTheDocument();
    expect(within(endpoints[1]).getByTestId('webhook-failing-since')).toBeInTheDocument();
    expect(screen.getByTestId('webhook-disabled-alert')).toHaveTextContent(
      'Webhook endpoint https://erp.example.com/in was disabled: failed for 3 days — fix the receiver and re-enable it.',
    );
    expect(within(endpoints[0]).getAllByTestId('webhook-delivery')).toHaveLength(2);

    // The secret is hidden until revealed.
    const secret = within(endpoints[0]).getByTestId('webhook-secret');
    expect(secret).not.toHaveTextContent('whsec_c2VjcmV0LXNpZ25pbmcta2V5');
    await userEvent.click(within(endpoints[0]).getByRole('button', { name: 'Reveal secret' }));
    expect(secret).toHaveTextContent('whsec_c2VjcmV0LXNpZ25pbmcta2V5');
    expect(within(endpoints[0]).getByRole('button', { name: 'Copy secret' })).toBeInTheDocument();

    // Each delivery's attempts open below it.
    await userEvent.click(within(endpoints[0]).getByRole('button', { name: 'Attempts of evt_two' }));
    const attempts = within(endpoints[0]).getAllByTestId('webhook-attempt');
    expect(attempts).toHaveLength(2);
    expect(attempts[0]).toHaveTextContent('No answer');
    expect(attempts[0]).toHaveTextContent('timed out');
    expect(attempts[1]).toHaveTextContent('500');
  });

  it('creates a key and shows the full key once', async () => {
    const issuedKey = 'ptn_newkey12_s3cr3t-v4lue-only-shown-once';
    let created = false;
    const { calls } = renderConsolePage(<IntegrationsPage />, {
      mocks: {
        ...mocks,
        ConsoleApiKeys: () =>
          created
            ? { data: { shop: { ...keysData.data.shop, apiKeys: [apiKey('QXBpS2V5OjM=', 'Website'), ...keysData.data.shop.apiKeys] } } }
            : keysData,
        ConsoleApiKeyCreate: () => {
          created = true;
          return {
            data: {
              apiKeyCreate: {
                issued: { apiKey: apiKey('QXBpS2V5OjM=', 'Website', { prefix: 'newkey12' }), key: issuedKey },
                errors: [],
              },
            },
          };
        },
      },
    });
    await screen.findAllByTestId('api-key-row');
    await userEvent.click(screen.getByRole('button', { name: 'New key' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByRole('textbox', { name: /^Name/ }), 'Website');
    await userEvent.click(within(dialog).getByRole('combobox', { name: /^Scopes/ }));
    // jsdom never finishes the dropdown's transition, so its options count as hidden.
    await userEvent.click(await screen.findByRole('option', { name: 'orders:write', hidden: true }));
    await userEvent.type(within(dialog).getByRole('textbox', { name: /^Rate limit/ }), '600/minute');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create key' }));

    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleApiKeyCreate')?.variables).toEqual({
        input: { shopId: 'U2hvcDox', name: 'Website', scopes: ['orders:write'], expiresAt: null, rateLimit: '600/minute' },
      }),
    );
    const secret = await screen.findByTestId('api-key-secret');
    expect(secret).toHaveAttribute('data-value', issuedKey);
    expect(secret).toHaveTextContent(issuedKey);
    expect(screen.getByTestId('api-key-warning')).toHaveTextContent('it will not be shown again');
    expect(screen.getByRole('button', { name: 'Copy key' })).toBeInTheDocument();
    await waitFor(() => expect(screen.getAllByTestId('api-key-row').map((r) => r.getAttribute('data-key-name'))).toContain('Website'));

    // Once closed, the key is gone from the page for good.
    await userEvent.click(screen.getByRole('button', { name: 'Done' }));
    await waitFor(() => expect(screen.queryByTestId('api-key-secret')).toBeNull());
    expect(document.body).not.toHaveTextContent(issuedKey);
  });

  it('shows a payload error under the field it names', async () => {
    renderConsolePage(<IntegrationsPage />, {
      mocks: {
        ...mocks,
        ConsoleApiKeyCreate: {
          data: {
            apiKeyCreate: {
              issued: null,
              errors: [{ field: 'scopes', code: 'INVALID_SCOPE', message: 'Unknown or not grantable scope(s): orders:write.' }],
            },
          },
        },
      },
    });
    await screen.findAllByTestId('api-key-row');
    await userEvent.click(screen.getByRole('button', { name: 'New key' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByRole('textbox', { name: /^Name/ }), 'Website');
    await userEvent.click(within(dialog).getByRole('combobox', { name: /^Scopes/ }));
    await userEvent.click(await screen.findByRole('option', { name: 'orders:write', hidden: true }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Create key' }));

    const message = await within(dialog).findByText('Unknown or not grantable scope(s): orders:write.');
    // Under the scopes input (its error), not a form-level alert.
    expect(message.closest('[role="alert"]')).toBeNull();
    expect(within(dialog).getByRole('combobox', { name: /^Scopes/ })).toHaveAttribute('aria-invalid', 'true');
    expect(screen.queryByTestId('api-key-secret')).toBeNull();
  });

  it('asks before revoking a key', async () => {
    const { calls } = renderConsolePage(<IntegrationsPage />, {
      mocks: {
        ...mocks,
        ConsoleApiKeyRevoke: {
          data: { apiKeyRevoke: { apiKey: apiKey('QXBpS2V5OjE=', 'Online shop', { revokedAt: '2026-12-06T00:00:00Z', isActive: false }), errors: [] } },
        },
      },
    });
    await screen.findAllByTestId('api-key-row');
    await userEvent.click(screen.getByRole('button', { name: 'Revoke Online shop' }));
    const dialog = await screen.findByRole('dialog');
    expect(dialog).toHaveTextContent('Revoke Online shop now?');
    expect(calls.some((c) => c.name === 'ConsoleApiKeyRevoke')).toBe(false);

    // Cancelling sends nothing.
    await userEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(calls.some((c) => c.name === 'ConsoleApiKeyRevoke')).toBe(false);

    await userEvent.click(screen.getByRole('button', { name: 'Revoke Online shop' }));
    await userEvent.click(within(await screen.findByRole('dialog')).getByRole('button', { name: 'Revoke' }));
    await waitFor(() => expect(calls.find((c) => c.name === 'ConsoleApiKeyRevoke')?.variables).toEqual({ id: 'QXBpS2V5OjE=' }));
  });

  it('rotates a key with the chosen overlap and shows the new key', async () => {
    const { calls } = renderConsolePage(<IntegrationsPage />, {
      mocks: {
        ...mocks,
        ConsoleApiKeyRotate: {
          data: {
            apiKeyRotate: {
              issued: { apiKey: apiKey('QXBpS2V5OjQ=', 'Online shop', { prefix: 'rotated1' }), key: 'ptn_rotated1_n3w' },
              errors: [],
            },
          },
        },
      },
    });
    await screen.findAllByTestId('api-key-row');
    await userEvent.click(screen.getByRole('button', { name: 'Rotate Online shop' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.click(within(dialog).getByRole('radio', { name: '1 day' }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Rotate' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleApiKeyRotate')?.variables).toEqual({ id: 'QXBpS2V5OjE=', overlapSeconds: 86400 }),
    );
    expect(await screen.findByTestId('api-key-secret')).toHaveAttribute('data-value', 'ptn_rotated1_n3w');
  });

  it('redelivers a delivery by its id', async () => {
    const { calls } = renderConsolePage(<IntegrationsPage />, {
      mocks: {
        ...mocks,
        ConsoleWebhookRedeliver: {
          data: {
            webhookRedeliver: {
              delivery: { id: 'V2ViaG9va0RlbGl2ZXJ5OjI=', status: 'PENDING', attempts: 0, nextAttemptAt: '2026-12-06T10:00:00Z' },
              errors: [],
            },
          },
        },
      },
    });
    await screen.findAllByTestId('webhook-delivery');
    await userEvent.click(screen.getByRole('button', { name: 'Redeliver evt_two' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleWebhookRedeliver')?.variables).toEqual({ id: 'V2ViaG9va0RlbGl2ZXJ5OjI=' }),
    );
    expect(await screen.findByText('evt_two will be sent again')).toBeInTheDocument();
  });

  it('re-enables a disabled endpoint and shows a refused redelivery', async () => {
    const { calls } = renderConsolePage(<IntegrationsPage />, {
      mocks: {
        ...mocks,
        ConsoleWebhookEndpointUpdate: (variables) => ({
          data: {
            webhookEndpointUpdate: {
              endpoint: endpoint(String(variables.id), 'https://erp.example.com/in'),
              errors: [],
            },
          },
        }),
        ConsoleWebhookRedeliver: {
          data: { webhookRedeliver: { delivery: null, errors: [{ field: null, code: 'ENDPOINT_INACTIVE', message: 'The endpoint is paused.' }] } },
        },
      },
    });
    const endpoints = await screen.findAllByTestId('webhook-endpoint');
    await userEvent.click(within(endpoints[1]).getByRole('button', { name: 'Re-enable' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleWebhookEndpointUpdate')?.variables).toEqual({
        id: 'V2ViaG9va0VuZHBvaW50OjI=',
        input: { isActive: true },
      }),
    );
    await userEvent.click(screen.getByRole('button', { name: 'Redeliver evt_one' }));
    expect((await screen.findByText('The endpoint is paused.')).closest('[role="alert"]')).not.toBeNull();
  });

  it('adds an endpoint with its event types', async () => {
    const { calls } = renderConsolePage(<IntegrationsPage />, {
      mocks: {
        ...mocks,
        ConsoleWebhookEndpointCreate: {
          data: { webhookEndpointCreate: { endpoint: endpoint('V2ViaG9va0VuZHBvaW50OjM=', 'https://new.example.com/hook'), errors: [] } },
        },
      },
    });
    await screen.findAllByTestId('webhook-endpoint');
    await userEvent.click(screen.getByRole('button', { name: 'Add endpoint' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByRole('textbox', { name: /^URL/ }), 'https://new.example.com/hook');
    await userEvent.click(within(dialog).getByRole('combobox', { name: /^Event types/ }));
    await userEvent.click(await screen.findByRole('option', { name: 'reward.redeemed', hidden: true }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Add endpoint' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleWebhookEndpointCreate')?.variables).toEqual({
        input: { shopId: 'U2hvcDox', url: 'https://new.example.com/hook', eventTypes: ['reward.redeemed'], description: '' },
      }),
    );
  });

  it('refuses managers', () => {
    renderConsolePage(<IntegrationsPage />, { mocks, shop: testShop({ role: 'MANAGER' }) });
    expect(screen.getByTestId('console-forbidden')).toHaveTextContent('Owners only');
    expect(screen.queryByTestId('api-keys-section')).toBeNull();
  });

  it('tells key and endpoint states apart', () => {
    const now = new Date('2026-12-01T00:00:00Z');
    expect(apiKeyState({ revokedAt: '2026-11-01T00:00:00Z', expiresAt: null, isActive: false }, now)).toBe('revoked');
    expect(apiKeyState({ revokedAt: null, expiresAt: '2026-11-30T00:00:00Z', isActive: false }, now)).toBe('expired');
    expect(apiKeyState({ revokedAt: null, expiresAt: '2026-12-30T00:00:00Z', isActive: true }, now)).toBe('active');
    expect(endpointState({ isActive: true, disabledAt: null })).toBe('active');
    expect(endpointState({ isActive: false, disabledAt: null })).toBe('paused');
    expect(endpointState({ isActive: false, disabledAt: '2026-11-30T00:00:00Z' })).toBe('disabled');
  });
});

describe('Integrations in the console navigation', () => {
  const open = (role: 'OWNER' | 'MANAGER' | 'CASHIER') =>
    renderWithProviders(<ConsoleRoutes />, {
      session: staffSession(testShop({ role, canEdit: role !== 'CASHIER' })),
      route: '/console/demo-coffee/members',
      path: '/console/:shopSlug/*',
    });

  it('shows the entry to owners', async () => {
    open('OWNER');
    expect(await screen.findByRole('tab', { name: 'Integrations' })).toBeInTheDocument();
  });

  it('hides it from managers', async () => {
    open('MANAGER');
    expect(await screen.findByRole('tab', { name: 'Settings' })).toBeInTheDocument();
    expect(screen.queryByRole('tab', { name: 'Integrations' })).toBeNull();
  });

  it('hides it from cashiers', async () => {
    open('CASHIER');
    expect(await screen.findByRole('tab', { name: 'Members' })).toBeInTheDocument();
    expect(screen.queryByRole('tab', { name: 'Integrations' })).toBeNull();
  });
});
