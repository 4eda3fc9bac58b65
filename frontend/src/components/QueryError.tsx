import { Alert, Button, Group } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { CombinedError } from 'urql';
import { combinedErrorMessage } from '../lib/errors';

/** A failed query as an alert with a retry button. */
export function QueryError({ error, onRetry }: { error: CombinedError; onRetry?: () => void }) {
  const { t } = useTranslation('common');
  return (
    <Alert color="red" role="alert" title={t('errors.unknown')}>
      <Group justify="space-between">
        <span>{combinedErrorMessage(error)}</span>
        {onRetry && (
          <Button size="xs" variant="white" color="red" onClick={onRetry}>
            {t('retry')}
          </Button>
        )}
      </Group>
    </Alert>
  );
}
