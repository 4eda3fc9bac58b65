import { Anchor, Button, Grid, Skeleton, Stack } from '@mantine/core';
import { IconBuildingStore } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { EmptyState } from '../components/EmptyState';
import { QueryError } from '../components/QueryError';
import { useRefetchOnReconnect } from '../lib/live';
import { AccountCard } from './AccountCard';
import { CodesList } from './CodesList';
import { InboxCard } from './InboxCard';
import { LedgerList } from './LedgerList';
import { MembershipCard } from './MembershipCard';
import { ReferralCard } from './ReferralCard';
import { RewardsList } from './RewardsList';

const AccountDetailDocument = graphql(`
  query AccountDetail($id: ID!) {
    viewer {
      account(id: $id) {
        ...AccountSummaryFields
        referralCode {
          code
          link
          pointsEarned
        }
        rewards {
          ...AccountRewardFields
        }
      }
    }
  }
`);

function AccountNotFound() {
  const { t } = useTranslation('member');
  return (
    <EmptyState title={t('account.notFound')} icon={<IconBuildingStore size={28} aria-hidden />}>
      <Stack gap="sm" align="center" component="span" data-testid="account-not-found">
        <span>{t('account.notFoundText')}</span>
        <Button component={Link} to="/" variant="light" size="xs">
          {t('account.toAccounts')}
        </Button>
      </Stack>
    </EmptyState>
  );
}

/** One shop account: balances, the paid membership, the shop's messages, rewards to redeem, the member's codes, referral and history. */
export function AccountPage() {
  const { t } = useTranslation('member');
  const { accountId = '' } = useParams();
  const [result, reexecute] = useQuery({
    query: AccountDetailDocument,
    variables: { id: accountId },
    requestPolicy: 'cache-and-network',
  });
  const refetch = () => reexecute({ requestPolicy: 'network-only' });
  useRefetchOnReconnect(refetch);
  const account = result.data?.viewer?.account;

  let body;
  // The API answers null for an id that is not one of the member's accounts (another member's,
  // or a mangled link), so an error here is a real failure worth a retry.
  if (result.error && !account) {
    body = <QueryError error={result.error} onRetry={refetch} />;
  } else if (!result.data && !result.error) {
    body = <Skeleton h={240} />;
  } else if (!account) {
    body = <AccountNotFound />;
  } else {
    body = (
      <Stack gap="xl">
        <Grid gap="lg">
          <Grid.Col span={{ base: 12, md: 7 }}>
            <AccountCard account={account} showLink={false} scheduleLimit={3} headingLevel={1} />
          </Grid.Col>
          <Grid.Col span={{ base: 12, md: 5 }}>
            <ReferralCard referral={account.referralCode} />
          </Grid.Col>
        </Grid>
        <MembershipCard key={`membership-${account.id}`} accountId={account.id} />
        <InboxCard key={`inbox-${account.id}`} accountId={account.id} />
        <RewardsList rewards={account.rewards} />
        <CodesList key={account.shop.id} shopId={account.shop.id} />
        <LedgerList key={account.id} accountId={account.id} />
      </Stack>
    );
  }

  return (
    <Stack>
      <Anchor component={Link} to="/" size="sm">
        {t('account.back')}
      </Anchor>
      {body}
    </Stack>
  );
}
