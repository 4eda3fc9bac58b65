import { createTheme } from '@mantine/core';

/** The dashboard's Mantine theme; Vazirmatn-like system fonts keep Persian readable. */
export const theme = createTheme({
  primaryColor: 'violet',
  defaultRadius: 'md',
  fontFamily:
    'system-ui, -apple-system, "Segoe UI", Roboto, "Vazirmatn", "Noto Sans Arabic", Tahoma, "Helvetica Neue", Arial, sans-serif',
  focusRing: 'auto',
});
