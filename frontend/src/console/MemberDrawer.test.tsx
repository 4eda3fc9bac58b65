import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { MemberDrawer } from './MemberDrawer';
import { recordInput } from './MemberDrawerRecord';
import { renderConsolePage, testShop } from './testing';

const ACCOUNT = 'TWVtYmVyQWNjb3VudDo1';

const account = (extra: Record<string, unknown> = {}) => ({
  id: ACCOUNT,
  member: { displayName: 'Ada', email: 'ada@example.com', phone: '' },
  pointsAvailable: 100,
  pointsPending: 0,
  pointsRedeemed: 0,
  pointsExpired: 0,
  lifetimePoints: 150,
  qualifyingValue: '150.00',
  enrolledAt: '2026-01-01T10:00:00Z',
  lastActivityAt: null,
  status: 'ACTIVE',
  record: {
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: 'ada@example.com',
    phone: '+989121234567',
    birthDate: '1990-12-10',
    personalDates: [{ kind: 'anniversary', label: 'Wedding', date: '2015-06-01' }],
    preferences: { milk: 'oat' },
    updatedAt: '2026-11-01T10:00:00Z',
  },
  stats: {
    visits: 4,
    totalSpend: '120.50',
    year: 2026,
    yearSpend: '80.00',
    averageOrderValue: '30.13',
    firstVisitAt: '2026-01-05T10:00:00Z',
    lastVisitAt: '2026-10-05T10:00:00Z',
    visitIntervalDays: '91.5',
    lifetimeValue: '120.50',
  },
  tags: [
    { tag: 'vip', source: 'AUTO', reason: 'Gold tier', assignedAt: '2026-10-01T00:00:00Z' },
    { tag: 'regular', source: 'MANUAL', reason: 'Knows the team', assignedAt: '2026-10-01T00:00:00Z' },
  ],
  notes: [{ text: 'Likes the window seat', createdAt: '2026-10-02T10:00:00Z', author: 'owner' }],
  tier: null,
  tierHistory: [],
  entries: { totalCount: 0, pageInfo: { hasNextPage: false }, edges: [] },
  ...extra,
});

const memberData = (extra: Record<string, unknown> = {}) => ({
  data: { shop: { id: 'U2hvcDox', program: { id: 'UHJvZ3JhbTox', tierBasis: 'SPEND' }, member: account(extra) } },
});

async function openRecord() {
  const detail = await screen.findByTestId('member-detail');
  await userEvent.click(within(detail).getByRole('tab', { name: 'Record' }));
  return detail;
}

describe('MemberDrawer customer record', { timeout: 20_000 }, () => {
  it('shows status, statistics, tags (automatic vs manual) and notes', async () => {
    renderConsolePage(<MemberDrawer accountId={ACCOUNT} onClose={() => {}} />, { mocks: { ConsoleMember: memberData() } });
    const detail = await screen.findByTestId('member-detail');
    expect(within(detail).getByTestId('member-status')).toHaveAttribute('data-value', 'ACTIVE');
    expect(within(detail).getByTestId('member-stats')).toHaveTextContent('$120.50');
    await openRecord();
    const tags = within(detail).getAllByTestId('member-tag');
    expect(tags.map((t) => [t.getAttribute('data-tag'), t.getAttribute('data-source')])).toEqual([
      ['vip', 'AUTO'],
      ['regular', 'MANUAL'],
    ]);
    // Only manual tags can be removed.
    expect(within(detail).queryByRole('button', { name: 'Remove tag vip' })).toBeNull();
    expect(within(detail).getByRole('button', { name: 'Remove tag regular' })).toBeInTheDocument();
    expect(within(detail).getByTestId('member-note')).toHaveTextContent('Likes the window seat');
  });

  it('shows INVALID_PHONE under the phone, then saves the record', async () => {
    let attempt = 0;
    const { calls } = renderConsolePage(<MemberDrawer accountId={ACCOUNT} onClose={() => {}} />, {
      mocks: {
        ConsoleMember: memberData(),
        ConsoleMemberRecordUpdate: () => {
          attempt += 1;
          return attempt === 1
            ? { data: { memberRecordUpdate: { account: null, errors: [{ field: 'phone', code: 'INVALID_PHONE', message: 'Not a possible number.' }] } } }
            : {
                data: {
                  memberRecordUpdate: {
                    account: { id: ACCOUNT, record: { ...account().record, phone: '+16502530000' } },
                    errors: [],
                  },
                },
              };
        },
      },
    });
    const detail = await openRecord();
    const phone = within(detail).getByLabelText('Phone');
    await userEvent.clear(phone);
    await userEvent.type(phone, '12345');
    await userEvent.click(within(detail).getByRole('button', { name: 'Save record' }));
    expect(await within(detail).findByText('Not a valid phone number: Not a possible number.')).toBeInTheDocument();
    expect(calls.find((c) => c.name === 'ConsoleMemberRecordUpdate')?.variables).toMatchObject({
      accountId: ACCOUNT,
      input: {
        firstName: 'Ada',
        phone: '12345',
        phoneRegion: null,
        birthDate: '1990-12-10',
        personalDates: [{ kind: 'anniversary', label: 'Wedding', date: '2015-06-01' }],
        preferences: { milk: 'oat' },
      },
    });

    await userEvent.clear(phone);
    await userEvent.type(phone, '+1 650-253-0000');
    await userEvent.click(within(detail).getByRole('button', { name: 'Save record' }));
    await waitFor(() => expect(within(detail).getByTestId('member-record-phone')).toHaveAttribute('data-value', '+16502530000'));
    expect(phone).toHaveValue('+16502530000');
  });

  it('builds the record input: trimmed names, dated personal dates, lower-case preference keys', () => {
    expect(
      recordInput({
        firstName: ' A ',
        lastName: '',
        email: '',
        phone: '0912 123 4567',
        phoneRegion: 'IR',
        birthDate: null,
        personalDates: [
          { kind: 'custom', label: 'First visit', date: '2020-01-01' },
          { kind: 'anniversary', label: 'empty', date: null },
        ],
        preferences: [
          { key: 'Milk', value: 'oat' },
          { key: ' ', value: 'dropped' },
        ],
      }),
    ).toEqual({
      firstName: 'A',
      lastName: '',
      email: '',
      phone: '0912 123 4567',
      phoneRegion: 'IR',
      birthDate: null,
      personalDates: [{ kind: 'custom', label: 'First visit', date: '2020-01-01' }],
      preferences: { milk: 'oat' },
    });
  });

  it('asks before blocking, adds a note and a manual tag', async () => {
    const { calls } = renderConsolePage(<MemberDrawer accountId={ACCOUNT} onClose={() => {}} />, {
      mocks: {
        ConsoleMember: memberData(),
        ConsoleMemberStatusSet: { data: { memberStatusSet: { account: { id: ACCOUNT, status: 'BLOCKED' }, errors: [] } } },
        ConsoleMemberNoteAdd: {
          data: { memberNoteAdd: { note: { text: 'Called', createdAt: '2026-11-02T10:00:00Z', author: 'owner' }, errors: [] } },
        },
        ConsoleMemberTagSet: { data: { memberTagSet: { account: { id: ACCOUNT, tags: [] }, errors: [] } } },
      },
    });
    const detail = await openRecord();
    await userEvent.click(within(detail).getByText('Blocked'));
    expect(calls.some((c) => c.name === 'ConsoleMemberStatusSet')).toBe(false);
    const dialog = await screen.findByRole('dialog', { name: 'Block this member?' });
    await userEvent.click(within(dialog).getByRole('button', { name: 'Block' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleMemberStatusSet')?.variables).toEqual({ accountId: ACCOUNT, status: 'BLOCKED' }),
    );

    await userEvent.type(within(detail).getByLabelText('New note'), 'Called');
    await userEvent.click(within(detail).getByRole('button', { name: 'Add note' }));
    await waitFor(() => expect(calls.find((c) => c.name === 'ConsoleMemberNoteAdd')?.variables).toEqual({ accountId: ACCOUNT, text: 'Called' }));

    await userEvent.type(within(detail).getByLabelText('New tag'), 'Birthday-Club');
    await userEvent.click(within(detail).getByRole('button', { name: 'Add tag' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleMemberTagSet')?.variables).toEqual({
        accountId: ACCOUNT,
        tag: 'birthday-club',
        present: true,
        reason: '',
      }),
    );
  });

  it('offers the erasure to owners only, behind a typed confirmation', async () => {
    const { calls } = renderConsolePage(<MemberDrawer accountId={ACCOUNT} onClose={() => {}} />, {
      mocks: {
        ConsoleMember: memberData(),
        ConsoleMemberErase: {
          data: {
            memberErase: {
              erasure: { customerId: 'erased-1', accounts: 1, profilesBlanked: 1, notesDeleted: 1, redemptionsCancelled: 0, pointsRefunded: 0 },
              errors: [],
            },
          },
        },
      },
    });
    const detail = await openRecord();
    await userEvent.click(within(detail).getByRole('button', { name: "Erase this member's data" }));
    const dialog = await screen.findByRole('dialog', { name: 'Erase personal data' });
    const submit = within(dialog).getByRole('button', { name: 'Erase for good' });
    await userEvent.type(within(dialog).getByLabelText('Customer id'), 'demo-member-1');
    await userEvent.type(within(dialog).getByLabelText(/^Reason/), 'Asked by e-mail');
    expect(submit).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Type ERASE to confirm'), 'ERASE');
    expect(submit).toBeEnabled();
    await userEvent.click(submit);
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleMemberErase')?.variables).toEqual({
        input: { shopId: 'U2hvcDox', customerId: 'demo-member-1', reason: 'Asked by e-mail' },
      }),
    );
  });

  it('hides the erasure from managers', async () => {
    renderConsolePage(<MemberDrawer accountId={ACCOUNT} onClose={() => {}} />, {
      shop: testShop({ role: 'MANAGER' }),
      mocks: { ConsoleMember: memberData() },
    });
    const detail = await openRecord();
    expect(within(detail).getByRole('button', { name: 'Save record' })).toBeInTheDocument();
    expect(within(detail).queryByRole('button', { name: "Erase this member's data" })).toBeNull();
  });
});
