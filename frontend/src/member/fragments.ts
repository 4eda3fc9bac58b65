import { graphql } from '../gql';

/** A tier as badges show it: name (with translations) and colour. */
export const TierBadgeFields = graphql(`
  fragment TierBadgeFields on Tier {
    id
    name
    color
    nameTranslations {
      language
      text
    }
  }
`);

/** What an account card shows: balances, tier, progress and the points schedules. */
export const AccountSummaryFields = graphql(`
  fragment AccountSummaryFields on MemberAccount {
    id
    pointsAvailable
    pointsPending
    lifetimePoints
    shop {
      id
      name
      slug
      currency
    }
    program {
      id
      tierBasis
    }
    tier {
      ...TierBadgeFields
    }
    tierProgress {
      nextTier {
        ...TierBadgeFields
      }
      qualifyingValue
      nextThreshold
      remaining
      fraction
      windowEndsAt
    }
    pendingReleases {
      date
      points
    }
    expiringPoints(limit: 3) {
      date
      points
    }
  }
`);

/** One ledger line of the member's history. */
export const LedgerEntryFields = graphql(`
  fragment LedgerEntryFields on PointsEntry {
    id
    kind
    points
    reason(language: $language)
    createdAt
    source {
      type
      orderExternalId
    }
  }
`);

/** A reward of the shop's catalogue as this member sees it. */
export const AccountRewardFields = graphql(`
  fragment AccountRewardFields on AccountReward {
    affordable
    reasonUnavailable
    message
    reward {
      id
      name
      description
      kind
      value
      currency
      pointsCost
      stock
      imageUrl
      translations {
        language
        name
        description
      }
      minTier {
        ...TierBadgeFields
      }
    }
  }
`);

/** A redemption code and what it is for. */
export const RedemptionFields = graphql(`
  fragment RedemptionFields on Redemption {
    id
    code
    status
    points
    issuedAt
    expiresAt
    usedAt
    cancelledAt
    expiredAt
    reward {
      id
      name
      translations {
        language
        name
        description
      }
    }
    shop {
      id
      name
    }
  }
`);

/**
 * A code as redeeming or cancelling it answers, with the account's new balance: an answer
 * naming the MemberAccount invalidates the cached queries holding it, so the account views refetch.
 */
export const RedemptionWithBalanceFields = graphql(`
  fragment RedemptionWithBalanceFields on Redemption {
    ...RedemptionFields
    account {
      id
      pointsAvailable
    }
  }
`);
