import { useEffect } from 'react';
import { notifications } from '@mantine/notifications';
import { useTranslation } from 'react-i18next';
import { useSubscription } from 'urql';
import { graphql } from '../gql';
import { formatPoints } from '../lib/format';
import { LIVE_ACCOUNT_TYPENAMES } from '../lib/live';
import { tierName } from '../lib/localize';
import { announceInboxMessage } from './inboxLive';

const AccountUpdatedDocument = graphql(`
  subscription AccountUpdated($language: String) {
    accountUpdated {
      kind
      points
      reason(language: $language)
      tierChanged
      account {
        id
        pointsAvailable
        pointsPending
        shop {
          id
          name
        }
        tier {
          ...TierBadgeFields
        }
      }
    }
  }
`);

// Each event invalidates every cached query holding these types, so urql refetches the
// cards, the account page and its history in place.
const context = { additionalTypenames: LIVE_ACCOUNT_TYPENAMES };

/**
 * Listens to the member's live account events while logged in: cached views refetch, and a
 * short notification says what happened.
 */
export function AccountUpdates() {
  const { t, i18n } = useTranslation('member');
  // The notification's reason in the member's language (a ledger entry's code, rendered by the server).
  const language = i18n.resolvedLanguage ?? i18n.language;
  const [{ data }] = useSubscription({ query: AccountUpdatedDocument, variables: { language }, context });
  const event = data?.accountUpdated;

  useEffect(() => {
    if (!event) return;
    const shop = event.account.shop.name;
    if (event.kind === 'inbox') {
      // A new inbox message (the reason is its subject): the account's inbox refetches.
      announceInboxMessage(event.account.id);
      notifications.show({ title: t('live.inbox', { shop }), message: event.reason, color: 'blue', autoClose: 5000 });
      return;
    }
    const points = formatPoints(Math.abs(event.points));
    let message: string | null = null;
    if (event.tierChanged && event.account.tier) {
      message = t('live.tier', { shop, tier: tierName(event.account.tier, i18n.language) });
    } else if (event.points) {
      const generic = t(event.points > 0 ? 'live.gained' : 'live.lost', { shop, points });
      message = t(`live.kinds.${event.kind.toLowerCase()}`, { shop, points, defaultValue: generic });
    }
    if (!message) return;
    notifications.show({ title: message, message: event.reason, color: event.points >= 0 ? 'teal' : 'orange', autoClose: 5000 });
  }, [event, t, i18n.language]);

  return null;
}
