import { useState } from 'react';
import { Alert, Button, Stack, Text } from '@mantine/core';
import { IconBell } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import { combinedErrorMessage, errorMessage } from '../lib/errors';
import { pushSupported, subscribeToPush, type RegisterServiceWorker } from './pushSubscribe';

const WebPushKeyDocument = graphql(`
  query MemberWebPushKey {
    webPushPublicKey
  }
`);

const PushSubscriptionAddDocument = graphql(`
  mutation MemberPushSubscriptionAdd($endpoint: String!, $p256dh: String!, $auth: String!) {
    pushSubscriptionAdd(endpoint: $endpoint, p256dh: $p256dh, auth: $auth) {
      count
      errors {
        field
        code
        message
      }
    }
  }
`);

type Outcome = { kind: 'done' } | { kind: 'denied' } | { kind: 'dismissed' } | { kind: 'error'; message: string };

/** True when this browser can show web push notifications and ask for them. */
function browserCanPush(): boolean {
  return pushSupported() && 'Notification' in window;
}

/**
 * Turns on web push for this browser: asks the notification permission, subscribes through the
 * dashboard's service worker and keeps the subscription on the server. Nothing shows when the
 * server has push off (no public key) or the browser cannot take push messages.
 */
export function PushOptIn({ register }: { register?: RegisterServiceWorker }) {
  const { t } = useTranslation('member');
  const supported = browserCanPush();
  const [{ data }] = useQuery({ query: WebPushKeyDocument, pause: !supported });
  const [, add] = useMutation(PushSubscriptionAddDocument);
  const [working, setWorking] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const publicKey = data?.webPushPublicKey;
  if (!supported || !publicKey) return null;

  const turnOn = async () => {
    setWorking(true);
    setOutcome(null);
    try {
      const permission = await Notification.requestPermission();
      if (permission !== 'granted') {
        setOutcome({ kind: permission === 'denied' ? 'denied' : 'dismissed' });
        return;
      }
      let keys;
      try {
        keys = await subscribeToPush(publicKey, register);
      } catch {
        setOutcome({ kind: 'error', message: t('push.failed') });
        return;
      }
      const r = await add(keys);
      if (r.error) {
        setOutcome({ kind: 'error', message: combinedErrorMessage(r.error) });
        return;
      }
      const errors = r.data?.pushSubscriptionAdd.errors ?? [];
      setOutcome(errors.length ? { kind: 'error', message: errors.map(errorMessage).join(' ') } : { kind: 'done' });
    } finally {
      setWorking(false);
    }
  };

  return (
    <Stack gap={6} data-testid="push-opt-in">
      <Text size="sm" c="dimmed">
        {t('push.hint')}
      </Text>
      {outcome?.kind === 'done' ? (
        <Alert color="green" role="status">
          {t('push.done')}
        </Alert>
      ) : (
        <div>
          <Button variant="light" leftSection={<IconBell size={16} />} onClick={() => void turnOn()} loading={working}>
            {t('push.turnOn')}
          </Button>
        </div>
      )}
      {outcome && outcome.kind !== 'done' ? (
        <Alert color={outcome.kind === 'error' ? 'red' : 'yellow'} role="alert">
          {outcome.kind === 'error' ? outcome.message : t(`push.${outcome.kind}`)}
        </Alert>
      ) : null}
    </Stack>
  );
}
