import { Button } from '@mantine/core';
import { IconLanguage } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { setLanguage } from '../i18n';

/** Toggles English / Persian; the label names the language it switches to. */
export function LanguageSwitch() {
  const { t, i18n } = useTranslation('common');
  const next = i18n.language === 'fa' ? 'en' : 'fa';
  return (
    <Button
      variant="subtle"
      size="compact-md"
      leftSection={<IconLanguage size={18} aria-hidden />}
      onClick={() => void setLanguage(next)}
      data-testid="lang-switch"
      lang={next}
      aria-label={t('language.switchTo', { context: next })}
    >
      {t('language.name', { context: next })}
    </Button>
  );
}
