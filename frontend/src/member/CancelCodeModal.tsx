import { useState } from 'react';
import { Alert, Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { useMutation, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { RedemptionFieldsFragment } from '../gql/graphql';
import { combinedErrorMessage, errorMessage, type ApiError } from '../lib/errors';
import { formatPoints } from '../lib/format';
import { rewardText } from '../lib/localize';
import { RedemptionCode } from './RedemptionCode';

const RedemptionCancelDocument = graphql(`
  mutation RedemptionCancel($input: RedemptionCancelInput!) {
    redemptionCancel(input: $input) {
      redemption {
        ...RedemptionWithBalanceFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

interface CancelCodeModalProps {
  /** The code to cancel; null keeps the dialog closed. */
  redemption: RedemptionFieldsFragment | null;
  onClose: () => void;
}

/**
 * Asks before cancelling an issued code, then cancels it: its points come back. The account,
 * the codes and the history refetch on their own (the answer names a Redemption and a
 * MemberAccount, which invalidates the cached queries holding them).
 */
export function CancelCodeModal({ redemption, onClose }: CancelCodeModalProps) {
  const { t, i18n } = useTranslation('member');
  const [{ fetching }, cancel] = useMutation(RedemptionCancelDocument);
  // Kept untranslated so a language switch re-words it.
  const [error, setError] = useState<ApiError | CombinedError | null>(null);
  const close = () => {
    setError(null);
    onClose();
  };

  const confirm = async () => {
    if (!redemption) return;
    setError(null);
    const result = await cancel({ input: { redemptionId: redemption.id } });
    if (result.error) return setError(result.error);
    const payload = result.data?.redemptionCancel;
    if (payload?.errors.length) return setError(payload.errors[0]);
    if (payload?.redemption) close();
  };

  return (
    <Modal opened={redemption != null} onClose={close} title={t('cancelCode.title')} centered>
      {redemption && (
        <Stack data-testid="cancel-code-dialog">
          <Text fw={600} ta="center">
            {rewardText(redemption.reward, i18n.language).name}
          </Text>
          <RedemptionCode code={redemption.code} fz={22} />
          <Text size="sm">{t('cancelCode.text', { points: formatPoints(redemption.points) })}</Text>
          {error && (
            <Alert color="red" role="alert">
              {'graphQLErrors' in error ? combinedErrorMessage(error) : errorMessage(error)}
            </Alert>
          )}
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={close} disabled={fetching}>
              {t('cancelCode.keep')}
            </Button>
            <Button color="red" onClick={() => void confirm()} loading={fetching}>
              {t('cancelCode.confirm')}
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
