import { SimpleGrid, Stack, Title } from '@mantine/core';
import { IconBuildingStore } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useQuery } from 'urql';
import { graphql } from '../gql';
import { EmptyState } from '../components/EmptyState';
import { QueryError } from '../components/QueryError';
import { useRefetchOnReconnect } from '../lib/live';
import { useSession } from '../lib/session';
import { AccountCard } from './AccountCard';
import { AccountCardSkeleton } from './AccountCardSkeleton';
import { ProfileSection } from './ProfileSection';
import { StaffHome } from './StaffHome';
import { YourDataSection } from './YourDataSection';

const HomeAccountsDocument = graphql(`
  query HomeAccounts {
    viewer {
      accounts(first: 100) {
        totalCount
        edges {
          node {
            ...AccountSummaryFields
          }
        }
      }
    }
  }
`);

function MemberAccounts() {
  const { t } = useTranslation('member');
  const [result, reexecute] = useQuery({ query: HomeAccountsDocument, requestPolicy: 'cache-and-network' });
  const refetch = () => reexecute({ requestPolicy: 'network-only' });
  useRefetchOnReconnect(refetch);
  const accounts = result.data?.viewer.accounts.edges.map((edge) => edge.node);

  return (
    <Stack>
      <Title order={1} size="h2">
        {t('home.title')}
      </Title>
      {result.error && !accounts && <QueryError error={result.error} onRetry={refetch} />}
      {!accounts && !result.error && (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} aria-busy>
          <AccountCardSkeleton />
          <AccountCardSkeleton />
          <AccountCardSkeleton />
        </SimpleGrid>
      )}
      {accounts?.length === 0 && (
        <EmptyState title={t('home.emptyTitle')} icon={<IconBuildingStore size={32} aria-hidden />}>
          {t('home.emptyText')}
        </EmptyState>
      )}
      {accounts && accounts.length > 0 && (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {accounts.map((account) => (
            <AccountCard key={account.id} account={account} />
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}

/** The landing page: a member's shop accounts, their profile (birth date, calendar, consents) and their data (export, erasure), or a staff member's shops. */
export function HomePage() {
  const { isMember, staffShops, tokenMode } = useSession();
  if (!isMember) return <StaffHome />;
  return (
    <Stack gap="xl">
      <MemberAccounts />
      {staffShops.length > 0 && <StaffHome />}
      {/* On a storefront token the storefront owns the member's session and their data requests. */}
      {!tokenMode && <ProfileSection />}
      {!tokenMode && <YourDataSection />}
    </Stack>
  );
}
