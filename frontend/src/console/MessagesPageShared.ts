import type { EngagementKind, MessageChannel, MessageStatus } from '../gql/graphql';

/** Why messages are sent, in the order the console lists them. */
export const ENGAGEMENT_KINDS: EngagementKind[] = [
  'BIRTHDAY',
  'ANNIVERSARY',
  'PERSONAL_DATE',
  'CULTURAL_EVENT',
  'TIER_UPGRADE',
  'POINTS_EXPIRING',
  'REDEMPTION_ISSUED',
  'REFERRAL_COMPLETED',
  'WIN_BACK',
  'CAMPAIGN',
];

/** The languages messages are written in; Persian reads right to left. */
export const LANGUAGES = ['en', 'fa'] as const;

/** Text direction of a message language. */
export const dirOf = (language: string) => (language === 'fa' ? 'rtl' : 'ltr');

/** The channels a message goes through. */
export const CHANNELS: MessageChannel[] = ['INBOX', 'EMAIL', 'SMS', 'PUSH'];

/** Where a message stands, in the order the log's filter lists them. */
export const STATUSES: MessageStatus[] = [
  'PLANNED',
  'SENT',
  'DELIVERED',
  'FAILED',
  'SKIPPED_CONSENT',
  'SKIPPED_QUIET',
  'SKIPPED_CAP',
  'SKIPPED_NO_ADDRESS',
  'SKIPPED_UNAVAILABLE',
  'EXPIRED',
];

/** Badge colour of a message status. */
export function statusColor(status: MessageStatus): string {
  if (status === 'SENT' || status === 'DELIVERED') return 'teal';
  if (status === 'FAILED') return 'red';
  if (status === 'PLANNED') return 'blue';
  return 'gray';
}
