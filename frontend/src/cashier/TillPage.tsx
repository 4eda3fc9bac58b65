import { useRef, useState } from 'react';
import { Button, Group, Paper, Stack, Tabs, Text, TextInput, Title } from '@mantine/core';
import { IconReceipt, IconTicket } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useParams, useSearchParams } from 'react-router-dom';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { TillRedemptionFieldsFragment, TillRedemptionPayloadFragment } from '../gql/graphql';
import { EmptyState } from '../components/EmptyState';
import { combinedErrorMessage, errorMessage, graphQLErrorCode } from '../lib/errors';
import { useSession } from '../lib/session';
import { CheckoutPanel } from './CheckoutPanel';
import { TillResult } from './TillResult';
import { stateOfError, type TillState } from './tillState';

// The fragments are picked up by codegen; the payload one is what both mutations below answer.
graphql(`
  fragment TillRedemptionFields on Redemption {
    ...RedemptionFields
    holder {
      displayName
      tier {
        ...TierBadgeFields
      }
    }
  }
`);

graphql(`
  fragment TillRedemptionPayload on RedemptionPayload {
    redemption {
      ...TillRedemptionFields
    }
    errors {
      field
      code
      message
    }
  }
`);

const RedemptionValidateDocument = graphql(`
  mutation RedemptionValidate($input: RedemptionCodeInput!) {
    redemptionValidate(input: $input) {
      ...TillRedemptionPayload
    }
  }
`);

const RedemptionConsumeDocument = graphql(`
  mutation RedemptionConsume($input: RedemptionCodeInput!) {
    redemptionConsume(input: $input) {
      ...TillRedemptionPayload
    }
  }
`);

interface Outcome {
  state: TillState;
  redemption: TillRedemptionFieldsFragment | null;
  message?: string;
}

/** The till's two tasks; `?mode=checkout` in the URL opens the checkout. */
type TillMode = 'code' | 'checkout';

/**
 * Cashier screen of one shop: a reward code (type or paste it, check what it is for, consume
 * it) or a checkout (basket, coupons and points: quote, then commit).
 */
export default function TillPage() {
  const { t } = useTranslation('cashier');
  const { shopSlug = '' } = useParams();
  const { staffShops } = useSession();
  const [params, setParams] = useSearchParams();
  const shop = staffShops.find((staff) => staff.shop.slug === shopSlug)?.shop;
  const mode: TillMode = params.get('mode') === 'checkout' ? 'checkout' : 'code';

  if (!shop) return <EmptyState title={t('notStaff')} />;

  return (
    <Stack maw={mode === 'checkout' ? 1040 : 640} mx="auto" w="100%">
      <div>
        <Title order={1} size="h2">
          {t('title')}
        </Title>
        <Text c="dimmed">{shop.name}</Text>
      </div>
      <Tabs
        value={mode}
        onChange={(value) => setParams(value === 'checkout' ? { mode: 'checkout' } : {}, { replace: true })}
        keepMounted={false}
      >
        <Tabs.List>
          <Tabs.Tab value="code" leftSection={<IconTicket size={16} aria-hidden />}>
            {t('tabs.code')}
          </Tabs.Tab>
          <Tabs.Tab value="checkout" leftSection={<IconReceipt size={16} aria-hidden />}>
            {t('tabs.checkout')}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="code" pt="md">
          <RedemptionPanel shopId={shop.id} />
        </Tabs.Panel>
        <Tabs.Panel value="checkout" pt="md">
          <CheckoutPanel shopId={shop.id} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

/** A reward code: check it, then consume it. */
function RedemptionPanel({ shopId }: { shopId: string }) {
  const { t } = useTranslation('cashier');
  const [code, setCode] = useState('');
  const [orderId, setOrderId] = useState('');
  const [codeError, setCodeError] = useState<string | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [validateState, validate] = useMutation(RedemptionValidateDocument);
  const [consumeState, consume] = useMutation(RedemptionConsumeDocument);
  const input = useRef<HTMLInputElement>(null);

  const handle = (payload: TillRedemptionPayloadFragment | undefined, successState: TillState) => {
    const error = payload?.errors[0];
    if (error) {
      setOutcome({ state: stateOfError(error.code), redemption: null, message: errorMessage(error) });
    } else if (payload?.redemption) {
      setOutcome({ state: successState, redemption: payload.redemption });
    }
  };

  const run = async (action: 'check' | 'consume') => {
    setCodeError(null);
    if (!code.trim()) {
      setCodeError(t('codeRequired'));
      input.current?.focus();
      return;
    }
    const variables = { input: { shopId, code, orderExternalId: action === 'consume' ? orderId.trim() : '' } };
    const result = action === 'check' ? await validate(variables) : await consume(variables);
    if (result.error) {
      const code = graphQLErrorCode(result.error);
      setOutcome({ state: code ? stateOfError(code) : 'error', redemption: null, message: combinedErrorMessage(result.error) });
      return;
    }
    const payload = result.data && ('redemptionValidate' in result.data ? result.data.redemptionValidate : result.data.redemptionConsume);
    handle(payload, action === 'check' ? 'valid' : 'consumed');
  };

  const next = () => {
    setCode('');
    setOrderId('');
    setOutcome(null);
    input.current?.focus();
  };

  return (
    <Stack>
      <Paper withBorder p={{ base: 'md', sm: 'lg' }}>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            void run('check');
          }}
        >
          <Stack>
            <TextInput
              ref={input}
              label={t('code')}
              description={t('codeHelp')}
              value={code}
              onChange={(event) => {
                setCode(event.currentTarget.value);
                setOutcome(null);
                setCodeError(null);
              }}
              error={codeError}
              size="lg"
              autoFocus
              autoComplete="off"
              autoCapitalize="characters"
              spellCheck={false}
              classNames={{ input: 'patron-code' }}
            />
            <TextInput
              label={t('order')}
              description={t('orderHelp')}
              value={orderId}
              onChange={(event) => setOrderId(event.currentTarget.value)}
              autoComplete="off"
            />
            <Group grow>
              <Button type="submit" size="md" variant="light" loading={validateState.fetching}>
                {t('check')}
              </Button>
              <Button
                type="button"
                size="md"
                onClick={() => void run('consume')}
                loading={consumeState.fetching}
                disabled={outcome != null && outcome.state !== 'valid'}
              >
                {t('consume')}
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
      {outcome && <TillResult {...outcome} />}
      {outcome?.state === 'consumed' && (
        <Button variant="default" onClick={next}>
          {t('next')}
        </Button>
      )}
    </Stack>
  );
}
