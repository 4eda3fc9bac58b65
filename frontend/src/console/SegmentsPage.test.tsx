import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { EMPTY_CRITERIA, SegmentsPage, criteriaOf, criteriaValues } from './SegmentsPage';
import { renderConsolePage, testShop } from './testing';

const GOLD = 'VGllcjoz';
const segment = (id: string, name: string, extra: Record<string, unknown> = {}) => ({
  id,
  name,
  description: '',
  kind: 'DYNAMIC',
  criteria: {},
  count: 0,
  updatedAt: '2026-11-01T10:00:00Z',
  ...extra,
});
const lapsed = segment('U2VnbWVudDox', 'Lapsed gold', {
  criteria: { tierIds: [GOLD], lastVisitDaysMin: 60, consentSms: true },
  count: 7,
});

const tagSettings = {
  vipTierId: null,
  vipSpend: '500.00',
  newDays: 30,
  frequentVisits: 4,
  frequentDays: 90,
  highValuePercentile: 90,
  highValueSpend: null,
  dormantDays: 90,
};

const list = (segments: unknown[] = [lapsed]) => ({
  data: {
    shop: {
      id: 'U2hvcDox',
      program: { id: 'UHJvZ3JhbTox', tiers: [{ id: 'VGllcjox', name: 'Bronze' }, { id: GOLD, name: 'Gold' }] },
      segments,
      tagSettings,
    },
  },
});

const preview = (count: number) => ({
  data: {
    shop: {
      id: 'U2hvcDox',
      segmentPreview: {
        count,
        members: [{ id: 'TWVtYmVyQWNjb3VudDox', member: { displayName: 'Ada', email: 'ada@example.com', phone: '' } }],
      },
    },
  },
});

describe('criteria', () => {
  it('sends only the criteria set: ints as numbers, amounts as strings, consents as booleans', () => {
    expect(criteriaOf(EMPTY_CRITERIA)).toEqual({});
    expect(
      criteriaOf({
        ...EMPTY_CRITERIA,
        tierIds: [GOLD],
        statuses: ['active'],
        tagsNone: ['dormant'],
        visitsMin: 3,
        totalSpendMin: 12.5,
        lastVisitDaysMin: 60,
        joinedDaysMax: '',
        consentSms: 'yes',
        consentEmail: 'no',
        birthdayMonth: '4',
      }),
    ).toEqual({
      tierIds: [GOLD],
      statuses: ['active'],
      tagsNone: ['dormant'],
      visitsMin: 3,
      totalSpendMin: '12.5',
      lastVisitDaysMin: 60,
      consentSms: true,
      consentEmail: false,
      birthdayMonth: 4,
    });
  });

  it('reads saved criteria back into the builder', () => {
    const v = criteriaValues(lapsed.criteria);
    expect(v.tierIds).toEqual([GOLD]);
    expect(v.lastVisitDaysMin).toBe(60);
    expect(v.consentSms).toBe('yes');
    expect(v.consentPush).toBe('any');
    expect(criteriaOf(v)).toEqual(lapsed.criteria);
  });
});

describe('SegmentsPage', { timeout: 20_000 }, () => {
  it('lists segments with their counts and a link to their members', async () => {
    renderConsolePage(<SegmentsPage />, { mocks: { ConsoleSegments: list() } });
    const row = await screen.findByTestId('segment-row');
    expect(within(row).getByText('Lapsed gold')).toBeInTheDocument();
    expect(within(row).getByTestId('segment-count')).toHaveAttribute('data-value', '7');
    expect(within(row).getByRole('link', { name: 'Show members' })).toHaveAttribute(
      'href',
      '/console/demo-coffee/members?segment=U2VnbWVudDox',
    );
    expect(screen.getByTestId('tag-settings')).toBeInTheDocument();
  });

  it('counts the criteria live (debounced) and saves a dynamic segment', async () => {
    let previews = 0;
    const { calls } = renderConsolePage(<SegmentsPage />, {
      mocks: {
        ConsoleSegments: list([]),
        ConsoleSegmentPreview: (v) => {
          previews += 1;
          return preview((v.criteria as Record<string, unknown>).lastVisitDaysMin ? 3 : 40);
        },
        ConsoleSegmentCreate: { data: { segmentCreate: { segment: { id: 'U2VnbWVudDoy', name: 'Lapsed', count: 3 }, errors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'New segment' }));
    const live = await screen.findByTestId('segment-live-count');
    await waitFor(() => expect(live).toHaveAttribute('data-value', '40'));
    expect(screen.getByTestId('segment-preview-members')).toHaveTextContent('Ada');

    await userEvent.type(await screen.findByLabelText(/^Name/, { selector: 'input' }), 'Lapsed');
    await userEvent.type(screen.getByLabelText('No visit for at least (days)'), '60');
    await waitFor(() => expect(live).toHaveAttribute('data-value', '3'));
    // Debounced: never a request per keystroke of the name (it is no criterion).
    expect(previews).toBeLessThanOrEqual(4);
    const last = calls.filter((c) => c.name === 'ConsoleSegmentPreview').at(-1);
    expect(last?.variables.criteria).toEqual({ lastVisitDaysMin: 60 });

    await userEvent.click(within(screen.getByRole('form', { name: 'Segment' })).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(calls.some((c) => c.name === 'ConsoleSegmentCreate')).toBe(true));
    expect(calls.find((c) => c.name === 'ConsoleSegmentCreate')?.variables).toEqual({
      shopId: 'U2hvcDox',
      input: { name: 'Lapsed', description: '', kind: 'DYNAMIC', criteria: { lastVisitDaysMin: 60 }, accountIds: [] },
    });
  });

  it('shows INVALID_CRITERIA next to the criterion it names', async () => {
    renderConsolePage(<SegmentsPage />, {
      mocks: {
        ConsoleSegments: list([]),
        ConsoleSegmentPreview: preview(1),
        ConsoleSegmentCreate: {
          data: {
            segmentCreate: {
              segment: null,
              errors: [{ field: 'criteria.visitsMin', code: 'INVALID_CRITERIA', message: 'Must be at most visitsMax' }],
            },
          },
        },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'New segment' }));
    await userEvent.type(await screen.findByLabelText(/^Name/, { selector: 'input' }), 'Broken');
    await userEvent.click(within(screen.getByRole('form', { name: 'Segment' })).getByRole('button', { name: 'Save' }));
    const error = await screen.findByText('Must be at most visitsMax');
    // Under the criterion it names: the input described by it is "Visits from".
    expect(screen.getByLabelText('Visits from').getAttribute('aria-describedby')).toContain(error.id);
  });

  it('saves a static segment with the picked members', async () => {
    const { calls } = renderConsolePage(<SegmentsPage />, {
      mocks: {
        ConsoleSegments: list([]),
        ConsoleSegmentPreview: preview(1),
        ConsoleSegmentMemberSearch: {
          data: {
            shop: {
              id: 'U2hvcDox',
              members: { edges: [{ node: { id: 'TWVtYmVyQWNjb3VudDox', member: { displayName: 'Ada', email: '', phone: '' } } }] },
            },
          },
        },
        ConsoleSegmentCreate: { data: { segmentCreate: { segment: { id: 'U2VnbWVudDoz', name: 'Friends', count: 1 }, errors: [] } } },
      },
    });
    await userEvent.click(await screen.findByRole('button', { name: 'New segment' }));
    await userEvent.type(await screen.findByLabelText(/^Name/, { selector: 'input' }), 'Friends');
    await userEvent.click(screen.getByText('Static'));
    await userEvent.click(await screen.findByRole('button', { name: 'Ada' }));
    expect(screen.getByText('1 member picked')).toBeInTheDocument();
    await userEvent.click(within(screen.getByRole('form', { name: 'Segment' })).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleSegmentCreate')?.variables.input).toMatchObject({
        kind: 'STATIC',
        criteria: null,
        accountIds: ['TWVtYmVyQWNjb3VudDox'],
      }),
    );
  });

  it('saves the tag thresholds', async () => {
    const { calls } = renderConsolePage(<SegmentsPage />, {
      mocks: {
        ConsoleSegments: list(),
        ConsoleTagSettingsSet: { data: { tagSettingsSet: { settings: { ...tagSettings, dormantDays: 60 }, errors: [] } } },
      },
    });
    const card = await screen.findByTestId('tag-settings');
    const dormant = within(card).getByLabelText('Dormant: no visit for (days)');
    await userEvent.clear(dormant);
    await userEvent.type(dormant, '60');
    await userEvent.click(within(card).getByRole('button', { name: 'Save' }));
    await waitFor(() =>
      expect(calls.find((c) => c.name === 'ConsoleTagSettingsSet')?.variables).toEqual({
        shopId: 'U2hvcDox',
        input: { vipTierId: null, vipSpend: '500.00', newDays: 30, frequentVisits: 4, frequentDays: 90, highValuePercentile: 90, dormantDays: 60 },
      }),
    );
  });

  it('refuses cashiers', () => {
    renderConsolePage(<SegmentsPage />, { shop: testShop({ role: 'CASHIER', canEdit: false }) });
    expect(screen.getByTestId('console-forbidden')).toBeInTheDocument();
  });
});
