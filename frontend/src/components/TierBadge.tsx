import { Badge, type BadgeProps } from '@mantine/core';
import { useTranslation } from 'react-i18next';
import { tierName } from '../lib/localize';

interface TierBadgeProps extends BadgeProps {
  tier: { name: string; color: string; nameTranslations?: readonly { language: string; text: string }[] };
  'data-testid'?: string;
}

/** A tier's name on a badge in the tier's own colour. */
export function TierBadge({ tier, ...props }: TierBadgeProps) {
  const { i18n } = useTranslation();
  return (
    <Badge color={tier.color} autoContrast variant="filled" data-tier-name={tier.name} {...props}>
      {tierName(tier, i18n.language)}
    </Badge>
  );
}
