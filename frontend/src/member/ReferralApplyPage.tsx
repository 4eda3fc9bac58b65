import { useState } from 'react';
import { Alert, Button, Group, Paper, Skeleton, Stack, Text, Title } from '@mantine/core';
import { IconGift } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../gql';
import { QueryError } from '../components/QueryError';
import i18n from '../i18n';
import { combinedErrorMessage, errorMessage, graphQLErrorCode, type ApiError } from '../lib/errors';
import { formatMoney, formatPoints } from '../lib/format';

const ReferralCodeLookupDocument = graphql(`
  query ReferralCodeLookup($code: String!) {
    referralCode(code: $code) {
      code
      shop {
        id
        name
        slug
        currency
        referralSettings {
          enabled
          refereeBonusPoints
          minOrderAmount
        }
      }
    }
  }
`);

const ReferralApplyDocument = graphql(`
  mutation ReferralApply($shopId: ID!, $code: String!) {
    referralApply(shopId: $shopId, code: $code) {
      referral {
        status
        shopName
        refereePoints
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

/**
 * A refused referral as the friend should read it: the referral-specific text of its code
 * (`member:referralApply.errors.<CODE>`; CODE_EXPIRED means something else for reward codes),
 * else the shared translation, else the server's message.
 */
export function referralErrorMessage(error: Pick<ApiError, 'code' | 'message'>): string {
  return i18n.t(`member:referralApply.errors.${error.code}`, { defaultValue: errorMessage(error) });
}

/** Why the apply failed: a coded refusal of the payload, or a transport/GraphQL error. */
type Refusal = { code: string; error: ApiError } | { code: string; combined: CombinedError };

/** A friend's shared link (/r/CODE): names the shop the code belongs to and applies it there. */
export function ReferralApplyPage() {
  const { t } = useTranslation('member');
  const { code = '' } = useParams();
  const [lookup, relookup] = useQuery({ query: ReferralCodeLookupDocument, variables: { code } });
  const [{ fetching }, apply] = useMutation(ReferralApplyDocument);
  // Kept untranslated so a language switch re-words them.
  const [appliedAt, setAppliedAt] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const found = lookup.data?.referralCode;

  const submit = async () => {
    if (!found) return;
    setRefusal(null);
    const result = await apply({ shopId: found.shop.id, code: found.code });
    if (result.error) {
      setRefusal({ code: graphQLErrorCode(result.error) ?? 'unknown', combined: result.error });
      return;
    }
    const payload = result.data?.referralApply;
    if (payload?.errors.length) {
      const [first] = payload.errors;
      setRefusal({ code: first.code, error: first });
    } else if (payload?.referral) {
      setAppliedAt(payload.referral.shopName);
    }
  };

  let body;
  if (lookup.error && !found) {
    body = <QueryError error={lookup.error} onRetry={() => relookup({ requestPolicy: 'network-only' })} />;
  } else if (!lookup.data) {
    body = <Skeleton h={120} />;
  } else if (!found) {
    body = (
      <Alert color="orange" title={t('referralApply.unknownTitle')} data-testid="referral-unknown">
        <Stack gap="sm" align="flex-start">
          <Text size="sm">{t('referralApply.unknownText', { code })}</Text>
          <Button component={Link} to="/" variant="light" size="xs">
            {t('account.toAccounts')}
          </Button>
        </Stack>
      </Alert>
    );
  } else if (appliedAt) {
    body = (
      <Stack>
        <Alert color="teal" data-testid="referral-applied">
          {t('referralApply.done', { shop: appliedAt })}
        </Alert>
        <Button component={Link} to="/">
          {t('account.toAccounts')}
        </Button>
      </Stack>
    );
  } else {
    const settings = found.shop.referralSettings;
    const bonus = settings?.refereeBonusPoints ?? 0;
    const minOrder = settings && Number(settings.minOrderAmount) > 0 ? formatMoney(settings.minOrderAmount, found.shop.currency) : null;
    body = (
      <Stack>
        <Text size="lg" data-testid="referral-shop" data-shop-slug={found.shop.slug}>
          {t('referralApply.invited', { shop: found.shop.name })}
        </Text>
        <Group gap="xs">
          <Text size="sm" c="dimmed">
            {t('referralApply.code')}:
          </Text>
          <Text className="patron-code" fw={700} data-code={found.code}>
            {found.code}
          </Text>
        </Group>
        {bonus > 0 && (
          <Text size="sm">
            {minOrder
              ? t('referralApply.bonusMin', { points: formatPoints(bonus), amount: minOrder })
              : t('referralApply.bonus', { points: formatPoints(bonus) })}
          </Text>
        )}
        {refusal && (
          <Alert color="red" role="alert" data-testid="referral-error" data-code={refusal.code}>
            {'error' in refusal ? referralErrorMessage(refusal.error) : combinedErrorMessage(refusal.combined)}
          </Alert>
        )}
        <Button onClick={() => void submit()} loading={fetching}>
          {t('referralApply.submit')}
        </Button>
      </Stack>
    );
  }

  return (
    <Paper withBorder p={{ base: 'md', sm: 'xl' }} maw={520} mx="auto">
      <Stack>
        <Group gap="xs" wrap="nowrap">
          <IconGift size={28} aria-hidden />
          <Title order={1} size="h2">
            {t('referralApply.title')}
          </Title>
        </Group>
        {body}
      </Stack>
    </Paper>
  );
}
