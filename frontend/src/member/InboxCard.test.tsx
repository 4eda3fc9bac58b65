import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { liveSubject, renderConsolePageLive } from '../console/testing';
import { renderWithProviders } from '../test/utils';
import { AccountUpdates } from './AccountUpdates';
import { InboxCard } from './InboxCard';

const accountId = 'TWVtYmVyQWNjb3VudDox';

const message = (id: string, subject: string, read: boolean, language = 'en') => ({
  id,
  language,
  subject,
  body: `${subject}: the details`,
  plannedAt: '2026-11-20T09:00:00Z',
  sentAt: '2026-11-20T09:00:05Z',
  readAt: read ? '2026-11-21T10:00:00Z' : null,
});

const inbox = (messages: ReturnType<typeof message>[]) => ({
  data: {
    viewer: {
      account: {
        id: accountId,
        inboxUnreadCount: messages.filter((m) => !m.readAt).length,
        inbox: { edges: messages.map((node) => ({ node })) },
      },
    },
  },
});

const three = [
  message('RW5nYWdlbWVudEV2ZW50OjM=', 'نوروز مبارک', false, 'fa'),
  message('RW5nYWdlbWVudEV2ZW50OjI=', 'Double points week', false),
  message('RW5nYWdlbWVudEV2ZW50OjE=', 'Welcome', true),
];

describe('InboxCard', () => {
  it('shows the messages, unread ones marked, and marks them all read', async () => {
    let read = false;
    const { calls } = renderWithProviders(<InboxCard accountId={accountId} />, {
      mocks: {
        AccountInbox: () => inbox(read ? three.map((m) => ({ ...m, readAt: '2026-11-22T10:00:00Z' })) : three),
        InboxMarkRead: () => {
          read = true;
          return { data: { inboxMarkRead: { count: 2, errors: [] } } };
        },
      },
    });
    expect(await screen.findByTestId('inbox-unread')).toHaveTextContent('2 unread');
    const items = screen.getAllByTestId('inbox-message');
    expect(items.map((i) => i.dataset.unread)).toEqual(['true', 'true', 'false']);
    // Persian reads right to left: the text says dir="auto".
    expect(within(items[0]).getByText('نوروز مبارک')).toHaveAttribute('dir', 'auto');
    expect(within(items[1]).getByText('Double points week: the details')).toBeInTheDocument();
    expect(calls.find((c) => c.name === 'AccountInbox')?.variables).toEqual({ id: accountId, first: 20 });

    await userEvent.click(screen.getByRole('button', { name: 'Mark all read' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'InboxMarkRead')?.variables).toEqual({
        ids: ['RW5nYWdlbWVudEV2ZW50OjM=', 'RW5nYWdlbWVudEV2ZW50OjI='],
      }),
    );
    await waitFor(() => expect(screen.queryByTestId('inbox-unread')).toBeNull());
    expect(screen.queryByRole('button', { name: 'Mark all read' })).toBeNull();
  });

  it('says so when there is no message', async () => {
    renderWithProviders(<InboxCard accountId={accountId} />, { mocks: { AccountInbox: inbox([]) } });
    expect(await screen.findByText('No messages yet.')).toBeInTheDocument();
    expect(screen.queryByTestId('inbox-unread')).toBeNull();
  });

  it('refetches when a live update brings a new inbox message', async () => {
    const updates = liveSubject();
    let arrived = false;
    let fetchedAfter = 0;
    renderConsolePageLive(
      <>
        <AccountUpdates />
        <InboxCard accountId={accountId} />
      </>,
      {
        live: { AccountUpdated: updates },
        mocks: {
          AccountInbox: () => {
            if (arrived) fetchedAfter += 1;
            return inbox(arrived ? [message('RW5nYWdlbWVudEV2ZW50OjQ=', 'Flash sale', false), ...three] : three);
          },
        },
      },
    );
    expect(await screen.findByTestId('inbox-unread')).toHaveTextContent('2 unread');
    arrived = true;
    act(() =>
      updates.next({
        data: {
          accountUpdated: {
            kind: 'inbox',
            points: 0,
            reason: 'Flash sale',
            tierChanged: false,
            account: { id: accountId, pointsAvailable: 10, pointsPending: 0, shop: { id: 'U2hvcDox', name: 'Demo Coffee' }, tier: null },
          },
        },
      }),
    );
    await waitFor(() => expect(screen.getByTestId('inbox-unread')).toHaveTextContent('3 unread'));
    expect(fetchedAfter).toBeGreaterThan(0);
    expect(screen.getAllByText('Flash sale').length).toBeGreaterThan(0);
    expect(await screen.findByText('New message from Demo Coffee')).toBeInTheDocument();
  });
});
