import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MessagesPage, insertAt } from './MessagesPage';
import { campaignInput } from './MessagesPageCampaigns';
import { renderConsolePage, testShop } from './testing';

const SHOP = 'U2hvcDox';
const VARIABLES = ['first_name', 'shop_name', 'points'];

const templates = {
  data: {
    shop: {
      id: SHOP,
      messageTemplates: [
        { kind: 'BIRTHDAY', language: 'fa', subject: 'تولدت مبارک', body: 'سلام {{ first_name }}', isDefault: false, variables: VARIABLES },
        { kind: 'BIRTHDAY', language: 'en', subject: 'Happy birthday', body: 'Hi {{ first_name }}', isDefault: true, variables: VARIABLES },
        { kind: 'WIN_BACK', language: 'en', subject: 'We miss you', body: 'Come back', isDefault: true, variables: VARIABLES },
      ],
    },
  },
};

const savedTemplate = (body: string) => ({
  data: {
    messageTemplateSave: {
      template: { kind: 'BIRTHDAY', language: 'en', subject: 'Happy birthday!', body, isDefault: false, variables: VARIABLES },
      errors: [],
    },
  },
});

const segments = [
  { id: 'U2VnbWVudDox', name: 'Lapsed gold' },
  { id: 'U2VnbWVudDoy', name: 'Friends' },
];

const campaigns = {
  data: {
    shop: {
      id: SHOP,
      segments,
      campaigns: [
        {
          id: 'Q2FtcGFpZ246Mg==',
          name: 'Yalda night',
          channels: ['INBOX', 'SMS'],
          sendAt: '2026-12-21T15:00:00Z',
          status: 'SCHEDULED',
          planned: 0,
          sentAt: null,
          segmentId: 'U2VnbWVudDox',
          texts: [{ language: 'en', subject: 'Yalda', body: 'Long night' }],
        },
        {
          id: 'Q2FtcGFpZ246MQ==',
          name: 'Autumn news',
          channels: ['EMAIL'],
          sendAt: '2026-10-01T09:00:00Z',
          status: 'SENT',
          planned: 42,
          sentAt: '2026-10-01T09:00:30Z',
          segmentId: null,
          texts: [{ language: 'en', subject: 'News', body: 'Hello' }],
        },
      ],
    },
  },
};

const logEvent = (id: string, status: string, extra: Record<string, unknown> = {}) => ({
  id,
  kind: 'BIRTHDAY',
  key: 'birthday:2026',
  channel: 'EMAIL',
  status,
  response: null,
  language: 'en',
  subject: `Subject ${id}`,
  body: `Body of ${id}`,
  plannedAt: '2026-11-20T09:00:00Z',
  sentAt: status === 'SENT' ? '2026-11-20T09:00:05Z' : null,
  readAt: null,
  attempts: 0,
  deliveryAttempts: [],
  member: { id: 'TWVtYmVyQWNjb3VudDox', member: { displayName: 'Ada', email: 'ada@example.com', phone: '' } },
  ...extra,
});

const log = (events: unknown[]) => ({
  data: {
    shop: {
      id: SHOP,
      engagementLog: {
        totalCount: events.length,
        pageInfo: { hasNextPage: false, endCursor: null },
        edges: events.map((node) => ({ node })),
      },
    },
  },
});

const figures = {
  data: {
    shop: {
      id: SHOP,
      engagementFigures: [
        { kind: 'BIRTHDAY', planned: 12, sent: 9, failed: 1, skipped: 2, opened: 4 },
        { kind: 'WIN_BACK', planned: 0, sent: 0, failed: 0, skipped: 0, opened: 0 },
      ],
    },
  },
};

const nowruz = {
  id: 'Q3VsdHVyYWxFdmVudDox',
  name: 'Nowruz',
  nameFa: 'نوروز',
  calendar: 'JALALI',
  month: 1,
  day: 1,
  bonusPoints: 100,
  message: true,
  active: true,
};

const events = (list: unknown[] = [nowruz]) => ({ data: { shop: { id: SHOP, culturalEvents: list } } });

// jsdom never finishes a dropdown's transition, so its options count as hidden.
const option = (name: string) => screen.queryByRole('option', { name, hidden: true });

async function pick(combobox: HTMLElement, name: string) {
  await userEvent.click(combobox);
  await waitFor(() => expect(option(name)).toBeInTheDocument());
  await userEvent.click(option(name)!);
}

describe('insertAt', () => {
  it('puts the token in place of the selection, or at the end', () => {
    expect(insertAt('Hi !', '{{ first_name }}', 3, 3)).toEqual({ text: 'Hi {{ first_name }}!', caret: 19 });
    expect(insertAt('Hi X!', 'Y', 3, 4)).toEqual({ text: 'Hi Y!', caret: 4 });
    expect(insertAt('Hi ', 'Y')).toEqual({ text: 'Hi Y', caret: 4 });
  });
});

describe('campaignInput', () => {
  it('leaves the Persian text out when it is empty and reads the time in the shop zone', () => {
    const input = campaignInput(
      { name: ' News ', segmentId: null, channels: ['SMS', 'INBOX'], sendAt: '2026-12-24 10:00:00', enSubject: 'S', enBody: 'B', faSubject: '', faBody: ' ' },
      'America/New_York',
    );
    expect(input).toEqual({
      name: 'News',
      segmentId: null,
      channels: ['INBOX', 'SMS'],
      sendAt: '2026-12-24T10:00:00-05:00',
      texts: [{ language: 'en', subject: 'S', body: 'B' }],
    });
  });
});

describe('MessagesPage', { timeout: 30_000 }, () => {
  it('lists every template with its state and opens the Persian one right to left', async () => {
    renderConsolePage(<MessagesPage />, { mocks: { ConsoleMessageTemplates: templates } });
    const rows = await screen.findAllByTestId('template-row');
    // Sorted by kind, then English before Persian.
    expect(rows.map((r) => `${r.dataset.kind}/${r.dataset.language}`)).toEqual(['BIRTHDAY/en', 'BIRTHDAY/fa', 'WIN_BACK/en']);
    expect(within(rows[0]).getByText('Default')).toBeInTheDocument();
    expect(within(rows[1]).getByText('Custom')).toBeInTheDocument();

    await userEvent.click(screen.getByRole('button', { name: 'Edit Birthday (Persian)' }));
    const form = await screen.findByRole('form', { name: 'Template' });
    // Mantine puts `dir` on the input's wrapper; the field inherits its direction.
    expect(within(form).getByRole('textbox', { name: /^Subject/ }).closest('[dir="rtl"]')).not.toBeNull();
    expect(within(form).getByRole('textbox', { name: /^Message/ }).closest('[dir="rtl"]')).not.toBeNull();
    // The default can't be reset to; this one is custom.
    expect(within(form).getByRole('button', { name: 'Reset to default' })).toBeEnabled();
  });

  it('saves a template with an inserted variable and shows INVALID_TEMPLATE under the body', async () => {
    let saves = 0;
    const { calls } = renderConsolePage(<MessagesPage />, {
      mocks: {
        ConsoleMessageTemplates: templates,
        ConsoleMessageTemplateSave: (v) => {
          saves += 1;
          if (saves === 1) {
            return {
              data: {
                messageTemplateSave: {
                  template: null,
                  errors: [{ field: 'body', code: 'INVALID_TEMPLATE', message: 'Unknown variable: nam' }],
                },
              },
            };
          }
          return savedTemplate(String((v.input as { body: string }).body));
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Edit Birthday (English)' }));
    const form = await screen.findByRole('form', { name: 'Template' });
    expect(within(form).getByRole('button', { name: 'Reset to default' })).toBeDisabled();
    const subject = within(form).getByRole('textbox', { name: /^Subject/ });
    await userEvent.type(subject, '!');
    const body = within(form).getByRole('textbox', { name: /^Message/ });
    await userEvent.clear(body);
    await userEvent.type(body, 'Happy birthday ');
    await userEvent.click(within(form).getByRole('button', { name: 'Insert first_name' }));
    expect(body).toHaveValue('Happy birthday {{ first_name }}');

    await userEvent.click(within(form).getByRole('button', { name: 'Save' }));
    const error = await screen.findByText('Unknown variable: nam');
    expect(body.getAttribute('aria-describedby')).toContain(error.id);
    expect(calls.find((c) => c.name === 'ConsoleMessageTemplateSave')?.variables).toEqual({
      shopId: SHOP,
      input: { kind: 'BIRTHDAY', language: 'en', subject: 'Happy birthday!', body: 'Happy birthday {{ first_name }}' },
    });

    await userEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(screen.queryByRole('form', { name: 'Template' })).toBeNull());
    expect(saves).toBe(2);
  });

  it('previews a template, for a member when one is given', async () => {
    const { calls } = renderConsolePage(<MessagesPage />, {
      mocks: {
        ConsoleMessageTemplates: templates,
        ConsoleMessagePreview: { data: { messagePreview: { preview: { subject: 'Come back, Ada', body: 'We kept 120 points for you' }, errors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'Edit Win-back (English)' }));
    const form = await screen.findByRole('form', { name: 'Template' });
    await userEvent.type(within(form).getByRole('textbox', { name: /^Preview for a member/ }), 'TWVtYmVyQWNjb3VudDox');
    await userEvent.click(within(form).getByRole('button', { name: 'Preview' }));
    expect(await screen.findByTestId('template-preview')).toHaveTextContent('We kept 120 points for you');
    expect(calls.find((c) => c.name === 'ConsoleMessagePreview')?.variables).toEqual({
      shopId: SHOP,
      input: { kind: 'WIN_BACK', language: 'en', subject: 'We miss you', body: 'Come back' },
      accountId: 'TWVtYmVyQWNjb3VudDox',
    });
  });

  it('lists campaigns and creates one for a segment in both languages', async () => {
    const { calls } = renderConsolePage(<MessagesPage />, {
      mocks: {
        ConsoleMessageTemplates: templates,
        ConsoleCampaigns: campaigns,
        ConsoleCampaignCreate: { data: { campaignCreate: { campaign: { id: 'Q2FtcGFpZ246Mw==', name: 'Nowruz', status: 'SCHEDULED' }, errors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('tab', { name: 'Campaigns' }));
    const rows = await screen.findAllByTestId('campaign-row');
    expect(within(rows[0]).getByText('Scheduled')).toBeInTheDocument();
    expect(within(rows[0]).getByText('Lapsed gold')).toBeInTheDocument();
    expect(within(rows[0]).getByText('Inbox, SMS')).toBeInTheDocument();
    expect(within(rows[1]).getByText('Every member')).toBeInTheDocument();
    expect(within(rows[1]).getByText('42')).toBeInTheDocument();
    // Only a scheduled campaign can be cancelled.
    expect(within(rows[0]).getByRole('button', { name: 'Cancel Yalda night' })).toBeInTheDocument();
    expect(within(rows[1]).queryByRole('button', { name: /^Cancel/ })).toBeNull();

    await userEvent.click(screen.getByRole('button', { name: 'New campaign' }));
    const form = await screen.findByRole('form', { name: 'Campaign' });
    await userEvent.type(within(form).getByRole('textbox', { name: /^Name/ }), 'Nowruz');
    await pick(within(form).getByRole('combobox', { name: 'Segment' }), 'Friends');
    await userEvent.click(within(form).getByRole('checkbox', { name: 'Email' }));
    await userEvent.type(within(form).getByRole('textbox', { name: /^Subject\s*\*?$/ }), 'Happy Nowruz');
    await userEvent.type(within(form).getByRole('textbox', { name: /^Message\s*\*?$/ }), 'Double points all week');
    const faSubject = within(form).getByRole('textbox', { name: 'Subject (Persian)' });
    expect(faSubject.closest('[dir="rtl"]')).not.toBeNull();
    await userEvent.type(faSubject, 'نوروز مبارک');
    await userEvent.type(within(form).getByRole('textbox', { name: 'Message (Persian)' }), 'امتیاز دوبرابر');
    await userEvent.click(within(form).getByRole('button', { name: 'Schedule' }));
    await waitFor(() => expect(calls.some((c) => c.name === 'ConsoleCampaignCreate')).toBe(true));
    expect(calls.find((c) => c.name === 'ConsoleCampaignCreate')?.variables).toEqual({
      shopId: SHOP,
      input: {
        name: 'Nowruz',
        segmentId: 'U2VnbWVudDoy',
        channels: ['INBOX', 'EMAIL'],
        sendAt: null,
        texts: [
          { language: 'en', subject: 'Happy Nowruz', body: 'Double points all week' },
          { language: 'fa', subject: 'نوروز مبارک', body: 'امتیاز دوبرابر' },
        ],
      },
    });
  });

  it('cancels a scheduled campaign after confirming', async () => {
    const { calls } = renderConsolePage(<MessagesPage />, {
      mocks: {
        ConsoleMessageTemplates: templates,
        ConsoleCampaigns: campaigns,
        ConsoleCampaignCancel: { data: { campaignCancel: { campaign: { id: 'Q2FtcGFpZ246Mg==', status: 'CANCELLED' }, errors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('tab', { name: 'Campaigns' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel Yalda night' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Cancel campaign' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleCampaignCancel')?.variables).toEqual({ campaignId: 'Q2FtcGFpZ246Mg==' }),
    );
  });

  it('shows the log with statuses in words, filters it and opens a message', async () => {
    const { calls } = renderConsolePage(<MessagesPage />, {
      mocks: {
        ConsoleMessageTemplates: templates,
        ConsoleEngagementFigures: figures,
        ConsoleEngagementLog: (v) =>
          v.status === 'FAILED'
            ? log([
                logEvent('RW5nYWdlbWVudEV2ZW50OjM=', 'FAILED', {
                  attempts: 2,
                  deliveryAttempts: [
                    { at: '2026-11-20T09:00:05Z', outcome: 'DEFERRED', detail: 'Provider busy' },
                    { at: '2026-11-20T09:10:05Z', outcome: 'FAILED', detail: 'Mailbox full' },
                  ],
                }),
              ])
            : log([logEvent('RW5nYWdlbWVudEV2ZW50OjE=', 'SENT'), logEvent('RW5nYWdlbWVudEV2ZW50OjI=', 'SKIPPED_CONSENT')]),
      },
    });
    await userEvent.click(await screen.findByRole('tab', { name: 'Delivery log' }));
    const rows = await screen.findAllByTestId('log-row');
    expect(rows.map((r) => within(r).getByTestId('log-status').textContent)).toEqual(['Sent', 'Skipped: no consent']);
    expect(within(rows[0]).getByText('Ada')).toBeInTheDocument();
    // Figures: kinds with messages only.
    const figureRows = await screen.findAllByTestId('figures-row');
    expect(figureRows.map((r) => r.dataset.kind)).toEqual(['BIRTHDAY']);
    const figuresCall = calls.find((c) => c.name === 'ConsoleEngagementFigures')!;
    const span = Date.parse(String(figuresCall.variables.to)) - Date.parse(String(figuresCall.variables.from));
    expect(span).toBe(30 * 24 * 3600 * 1000);

    await pick(screen.getByRole('combobox', { name: 'Status' }), 'Failed');
    await waitFor(() => expect(screen.getAllByTestId('log-row')).toHaveLength(1));
    expect(calls.filter((c) => c.name === 'ConsoleEngagementLog').at(-1)?.variables).toEqual({
      slug: 'demo-coffee',
      kind: null,
      channel: null,
      status: 'FAILED',
      first: 50,
    });

    await userEvent.click(screen.getByRole('button', { name: 'Details of Subject RW5nYWdlbWVudEV2ZW50OjM=' }));
    const detail = await screen.findByTestId('log-detail');
    expect(detail).toHaveTextContent('Body of RW5nYWdlbWVudEV2ZW50OjM=');
    expect(detail).toHaveTextContent('Provider busy');
    expect(detail).toHaveTextContent('Mailbox full');
    expect(detail).toHaveTextContent('2 attempts');
  });

  it('creates a cultural event', async () => {
    const { calls } = renderConsolePage(<MessagesPage />, {
      mocks: {
        ConsoleMessageTemplates: templates,
        ConsoleCulturalEvents: events(),
        ConsoleCulturalEventSave: { data: { culturalEventSave: { event: { id: 'Q3VsdHVyYWxFdmVudDoy', name: 'Yalda' }, errors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('tab', { name: 'Cultural events' }));
    const row = await screen.findByTestId('event-row');
    expect(row).toHaveTextContent('1 Farvardin');
    expect(within(row).getByText('نوروز')).toHaveAttribute('dir', 'rtl');

    await userEvent.click(screen.getByRole('button', { name: 'New event' }));
    const form = await screen.findByRole('form', { name: 'Cultural event' });
    await userEvent.type(within(form).getByRole('textbox', { name: /^Name\s*\*?$/ }), 'Yalda');
    await userEvent.type(within(form).getByRole('textbox', { name: 'Name in Persian' }), 'یلدا');
    await pick(within(form).getByRole('combobox', { name: 'Month' }), 'Azar');
    const day = within(form).getByRole('textbox', { name: 'Day' });
    await userEvent.clear(day);
    await userEvent.type(day, '30');
    const bonus = within(form).getByRole('textbox', { name: 'Bonus points' });
    await userEvent.clear(bonus);
    await userEvent.type(bonus, '50');
    await userEvent.click(within(form).getByRole('switch', { name: 'Send members a message' }));
    await userEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleCulturalEventSave')?.variables).toEqual({
        shopId: SHOP,
        id: null,
        input: { name: 'Yalda', nameFa: 'یلدا', calendar: 'JALALI', month: 9, day: 30, bonusPoints: 50, message: false, active: true },
      }),
    );
  });

  it('deletes a cultural event after confirming', async () => {
    const { calls } = renderConsolePage(<MessagesPage />, {
      mocks: {
        ConsoleMessageTemplates: templates,
        ConsoleCulturalEvents: events(),
        ConsoleCulturalEventDelete: { data: { culturalEventDelete: { count: 1, errors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('tab', { name: 'Cultural events' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Delete Nowruz' }));
    await userEvent.click(await screen.findByRole('button', { name: 'Delete' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleCulturalEventDelete')?.variables).toEqual({ id: nowruz.id }),
    );
  });

  it('saves the contact rules', async () => {
    const rules = { quietStart: '22:00:00', quietEnd: '08:00:00', weeklyCap: 3, winBackDays: 60, expiringDays: 14, smsSender: '' };
    const { calls } = renderConsolePage(<MessagesPage />, {
      mocks: {
        ConsoleMessageTemplates: templates,
        ConsoleContactRules: { data: { shop: { id: SHOP, contactRules: rules } } },
        ConsoleContactRulesSet: { data: { contactRulesSet: { rules: { ...rules, weeklyCap: 5 }, errors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('tab', { name: 'Contact rules' }));
    const card = await screen.findByTestId('contact-rules');
    const cap = within(card).getByRole('textbox', { name: 'Messages per member per week' });
    await userEvent.clear(cap);
    await userEvent.type(cap, '5');
    await userEvent.type(within(card).getByRole('textbox', { name: 'SMS sender' }), 'DEMO');
    await userEvent.click(within(card).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleContactRulesSet')?.variables).toEqual({
        shopId: SHOP,
        input: { quietStart: '22:00:00', quietEnd: '08:00:00', weeklyCap: 5, winBackDays: 60, expiringDays: 14, smsSender: 'DEMO' },
      }),
    );
  });

  it('refuses cashiers', () => {
    renderConsolePage(<MessagesPage />, { shop: testShop({ role: 'CASHIER', canEdit: false }) });
    expect(screen.getByTestId('console-forbidden')).toBeInTheDocument();
  });
});
