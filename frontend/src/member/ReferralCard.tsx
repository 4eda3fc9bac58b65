import { Button, Card, CopyButton, Group, Stack, Text, Title } from '@mantine/core';
import { IconShare } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { formatPoints } from '../lib/format';
import { RedemptionCode } from './RedemptionCode';

interface ReferralCardProps {
  referral: { code: string; link: string; pointsEarned: number } | null | undefined;
}

/** The member's referral code for this shop, with copy and share of the link. */
export function ReferralCard({ referral }: ReferralCardProps) {
  const { t } = useTranslation('member');
  if (!referral) {
    return (
      <Card withBorder padding="lg" h="100%">
        <Title order={2} size="h4">
          {t('referral.title')}
        </Title>
        <Text size="sm" c="dimmed" mt="xs">
          {t('referral.off')}
        </Text>
      </Card>
    );
  }
  const url = new URL(referral.link, window.location.origin).toString();
  const canShare = typeof navigator !== 'undefined' && typeof navigator.share === 'function';
  return (
    <Card withBorder padding="lg" h="100%" data-testid="referral-card">
      <Stack gap="sm">
        <Title order={2} size="h4">
          {t('referral.title')}
        </Title>
        <Text size="sm" c="dimmed">
          {t('referral.text')}
        </Text>
        <RedemptionCode code={referral.code} fz={24} data-testid="referral-code" />
        <Group gap="xs" grow>
          <CopyButton value={url}>
            {({ copied, copy }) => (
              <Button variant="light" color={copied ? 'teal' : undefined} onClick={copy}>
                {copied ? t('referral.linkCopied') : t('referral.copyLink')}
              </Button>
            )}
          </CopyButton>
          {canShare && (
            <Button
              variant="default"
              leftSection={<IconShare size={16} aria-hidden />}
              onClick={() => void navigator.share({ title: t('referral.shareTitle'), url }).catch(() => undefined)}
            >
              {t('referral.share')}
            </Button>
          )}
        </Group>
        <Text size="sm">{t('referral.earned', { points: formatPoints(referral.pointsEarned) })}</Text>
      </Stack>
    </Card>
  );
}
