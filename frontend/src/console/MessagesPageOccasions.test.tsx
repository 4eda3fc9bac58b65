import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MessagesPage } from './MessagesPage';
import { renderConsolePage } from './testing';

const SHOP = 'U2hvcDox';

const templates = { data: { shop: { id: SHOP, messageTemplates: [] } } };

const occasion = (kind: string, date: string, name: string, extra: Record<string, unknown> = {}) => ({
  kind,
  date,
  yearsAsMember: null,
  channels: ['email'],
  member: { id: `acct-${name}`, member: { displayName: name, email: `${name.toLowerCase()}@example.com`, phone: '' }, giftSuggestions: [] },
  ...extra,
});

const occasions = (list: unknown[]) => ({ data: { shop: { id: SHOP, upcomingOccasions: list } } });

// jsdom never finishes a dropdown's transition, so its options count as hidden.
const option = (name: string) => screen.queryByRole('option', { name, hidden: true });

async function pick(combobox: HTMLElement, name: string) {
  await userEvent.click(combobox);
  await waitFor(() => expect(option(name)).toBeInTheDocument());
  await userEvent.click(option(name)!);
}

describe('MessagesPage occasions', { timeout: 30_000 }, () => {
  it("lists members' coming birthdays and anniversaries with channels and gift ideas", async () => {
    const { calls } = renderConsolePage(<MessagesPage />, {
      mocks: {
        ConsoleMessageTemplates: templates,
        ConsoleUpcomingOccasions: (v) =>
          v.days === 7
            ? occasions([])
            : occasions([
                occasion('BIRTHDAY', '2026-12-10', 'Ada', {
                  channels: ['email', 'sms', 'push'],
                  member: {
                    id: 'TWVtYmVyQWNjb3VudDox',
                    member: { displayName: 'Ada', email: 'ada@example.com', phone: '' },
                    giftSuggestions: ['Free latte', 'Beans'],
                  },
                }),
                occasion('ANNIVERSARY', '2026-12-20', 'Bob', { yearsAsMember: 3, channels: ['sms'] }),
                occasion('ANNIVERSARY', '2026-12-28', 'Cyrus', { yearsAsMember: 1 }),
              ]),
      },
    });
    await userEvent.click(await screen.findByRole('tab', { name: 'Occasions' }));
    const rows = await screen.findAllByTestId('occasion-row');
    expect(rows).toHaveLength(3);
    expect(calls.find((c) => c.name === 'ConsoleUpcomingOccasions')?.variables).toEqual({ slug: 'demo-coffee', days: 30 });

    expect(rows[0]).toHaveTextContent('Dec 10, 2026');
    expect(within(rows[0]).getByText('Birthday')).toBeInTheDocument();
    expect(within(rows[0]).getByText('Ada')).toBeInTheDocument();
    expect(within(rows[0]).getByTestId('occasion-channels').textContent).toBe('EmailSMSPush');
    expect(within(rows[0]).getByTestId('occasion-gifts')).toHaveTextContent('Free latte, Beans');

    expect(within(rows[1]).getByText('Anniversary: 3 years')).toBeInTheDocument();
    expect(within(rows[1]).getByText('No suggestion')).toBeInTheDocument();
    expect(within(rows[2]).getByText('Anniversary: 1 year')).toBeInTheDocument();

    await pick(screen.getByRole('combobox', { name: 'Coming up' }), 'Next 7 days');
    expect(await screen.findByText('No occasions in the next 7 days')).toBeInTheDocument();
    expect(calls.filter((c) => c.name === 'ConsoleUpcomingOccasions').at(-1)?.variables).toEqual({ slug: 'demo-coffee', days: 7 });
  });
});
