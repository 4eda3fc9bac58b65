import { useEffect, type ReactNode } from 'react';
import { DirectionProvider, MantineProvider, useDirection } from '@mantine/core';
import { Notifications } from '@mantine/notifications';
import { I18nextProvider, useTranslation } from 'react-i18next';
import i18n, { directionOf } from '../i18n';
import { theme } from './theme';

function DirectionSync() {
  const { i18n: instance } = useTranslation();
  const { setDirection } = useDirection();
  useEffect(() => {
    setDirection(directionOf(instance.language));
  }, [instance.language, setDirection]);
  return null;
}

/**
 * Mantine (theme, right-to-left for Persian, notifications) and i18next: everything the UI
 * needs that does not talk to the server. Used by the app and by component tests.
 */
export function UiProviders({ children }: { children: ReactNode }) {
  return (
    <I18nextProvider i18n={i18n}>
      <DirectionProvider initialDirection={directionOf(i18n.language)} detectDirection={false}>
        <DirectionSync />
        <MantineProvider theme={theme}>
          <Notifications />
          {children}
        </MantineProvider>
      </DirectionProvider>
    </I18nextProvider>
  );
}
