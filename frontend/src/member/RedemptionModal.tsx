import { Button, Modal, Stack, Text } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import type { RedemptionFieldsFragment } from '../gql/graphql';
import { formatDate, formatPoints } from '../lib/format';
import { rewardText } from '../lib/localize';
import { RedemptionCode } from './RedemptionCode';

interface RedemptionModalProps {
  redemption: RedemptionFieldsFragment | null;
  onClose: () => void;
}

/** The code a redemption just issued, big enough to show at the till. */
export function RedemptionModal({ redemption, onClose }: RedemptionModalProps) {
  const { t, i18n } = useTranslation('member');
  return (
    <Modal opened={redemption != null} onClose={onClose} title={t('redeem.doneTitle')} centered>
      {redemption && (
        <Stack align="center" ta="center">
          <Text fw={600}>{rewardText(redemption.reward, i18n.language).name}</Text>
          <RedemptionCode code={redemption.code} fz={{ base: 26, sm: 34 }} data-testid="redemption-code" />
          <Text size="sm" c="dimmed">
            {t('redeem.doneText', { date: formatDate(redemption.expiresAt), points: formatPoints(redemption.points) })}
          </Text>
          <Button onClick={onClose} fullWidth>
            {t('redeem.doneButton')}
          </Button>
        </Stack>
      )}
    </Modal>
  );
}
