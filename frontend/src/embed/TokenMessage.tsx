import { Alert, Text } from '@mantine/core';
import { IconClockExclamation, IconLink } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import './i18n';

/** Codes that mean the token ran out (the socket's 4403 comes after an expiry, mostly). */
const EXPIRED = new Set(['TOKEN_EXPIRED', 'SOCKET_REFUSED']);

/**
 * What the embedded member view shows instead of a broken page: the token expired or was refused
 * (`code`, from the server), or the page was opened with no token at all (`code` null).
 */
export function TokenMessage({ code }: { code: string | null }) {
  const { t } = useTranslation('embed');
  const kind = code === null ? 'missing' : EXPIRED.has(code) ? 'expired' : 'refused';
  return (
    <Alert
      color={kind === 'missing' ? 'blue' : 'orange'}
      role="alert"
      icon={kind === 'missing' ? <IconLink aria-hidden /> : <IconClockExclamation aria-hidden />}
      title={t(`${kind}Title`)}
      data-testid="token-message"
      data-kind={kind}
      data-code={code ?? ''}
    >
      <Text size="sm">{t(`${kind}Text`)}</Text>
    </Alert>
  );
}
