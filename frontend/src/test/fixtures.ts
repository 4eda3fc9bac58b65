import type {
  AccountRewardFieldsFragment,
  AccountSummaryFieldsFragment,
  LedgerEntryFieldsFragment,
  RedemptionFieldsFragment,
  TillRedemptionFieldsFragment,
} from '../gql/graphql';

/** Test data shaped like the API's answers. */
export const silver = { id: 'VGllcjox', name: 'Silver', color: '#a0a0a0', nameTranslations: [{ language: 'fa', text: 'نقره‌ای' }] };
/** The tier above `silver`. */
export const gold = { id: 'VGllcjoy', name: 'Gold', color: '#d4af37', nameTranslations: [{ language: 'fa', text: 'طلایی' }] };

/** A points-basis account 1,250 available, 300 pending, 750 short of Gold. */
export function accountFixture(overrides: Partial<AccountSummaryFieldsFragment> = {}): AccountSummaryFieldsFragment {
  return {
    id: 'TWVtYmVyQWNjb3VudDox',
    pointsAvailable: 1250,
    pointsPending: 300,
    lifetimePoints: 2250,
    shop: { id: 'U2hvcDox', name: 'Demo Coffee', slug: 'demo-coffee', currency: 'USD' },
    program: { id: 'UHJvZ3JhbTox', tierBasis: 'POINTS' },
    tier: silver,
    tierProgress: {
      nextTier: gold,
      qualifyingValue: '2250',
      nextThreshold: '3000',
      remaining: '750',
      fraction: 0.6,
      windowEndsAt: null,
    },
    pendingReleases: [{ date: '2026-12-10', points: 300 }],
    expiringPoints: [{ date: '2027-01-31', points: 120 }],
    ...overrides,
  };
}

/** A ledger entry; `n` makes ids and reasons distinct. */
export function entryFixture(n: number, overrides: Partial<LedgerEntryFieldsFragment> = {}): LedgerEntryFieldsFragment {
  return {
    id: `UG9pbnRzRW50cnk6${n}`,
    kind: 'EARN',
    points: 10 * n,
    reason: `Order ${n} delivered`,
    createdAt: '2026-11-20T10:00:00+00:00',
    source: { type: 'ORDER', orderExternalId: `ORD-${n}` },
    ...overrides,
  };
}

/** A reward as the member sees it. */
export function rewardFixture(name: string, pointsCost: number, affordable: boolean): AccountRewardFieldsFragment {
  return {
    affordable,
    reasonUnavailable: affordable ? null : 'INSUFFICIENT_POINTS',
    message: affordable ? '' : 'Not enough points.',
    reward: {
      id: `UmV3YXJkOi${name}`,
      name,
      description: '',
      kind: 'GIFT',
      value: null,
      currency: 'USD',
      pointsCost,
      stock: null,
      imageUrl: '',
      translations: [],
      minTier: null,
    },
  };
}

/** An issued code for a Free espresso at Demo Coffee. */
export function redemptionFixture(overrides: Partial<RedemptionFieldsFragment> = {}): RedemptionFieldsFragment {
  return {
    id: 'UmVkZW1wdGlvbjox',
    code: '7Q2M-ZK4D-XR920',
    status: 'ISSUED',
    points: 150,
    issuedAt: '2026-11-20T10:00:00+00:00',
    expiresAt: '2026-12-20T10:00:00+00:00',
    usedAt: null,
    cancelledAt: null,
    expiredAt: null,
    reward: { id: 'UmV3YXJkOjE=', name: 'Free espresso', translations: [] },
    shop: { id: 'U2hvcDox', name: 'Demo Coffee' },
    ...overrides,
  };
}

/** A redemption as the till sees it. */
export function tillRedemptionFixture(overrides: Partial<TillRedemptionFieldsFragment> = {}): TillRedemptionFieldsFragment {
  return {
    ...redemptionFixture(),
    holder: { displayName: 'Ada', tier: silver },
    ...overrides,
  };
}
