import { ActionIcon, CopyButton, Group, Text, Tooltip, type TextProps } from '@mantine/core';
import { IconCheck, IconCopy } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';

interface RedemptionCodeProps extends TextProps {
  code: string;
  'data-testid'?: string;
}

/** A code in large monospace, always left-to-right, with a copy button. */
export function RedemptionCode({ code, fz = 28, ...props }: RedemptionCodeProps) {
  const { t } = useTranslation('common');
  return (
    <Group gap="xs" wrap="nowrap" justify="center">
      <Text className="patron-code" fz={fz} fw={700} data-code={code} style={{ whiteSpace: 'nowrap' }} {...props}>
        {code}
      </Text>
      <CopyButton value={code} timeout={1500}>
        {({ copied, copy }) => (
          <Tooltip label={copied ? t('copied') : t('copy')} withArrow>
            <ActionIcon
              variant="subtle"
              color={copied ? 'teal' : 'gray'}
              onClick={copy}
              aria-label={copied ? t('copied') : t('copyValue', { value: code })}
            >
              {copied ? <IconCheck size={18} /> : <IconCopy size={18} />}
            </ActionIcon>
          </Tooltip>
        )}
      </CopyButton>
    </Group>
  );
}
