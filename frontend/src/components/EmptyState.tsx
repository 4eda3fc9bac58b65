import type { ReactNode } from 'react';
import { Paper, Stack, Text } from '@mantine/core';

/** A friendly "nothing here yet" box. */
export function EmptyState({ title, children, icon }: { title: string; children?: ReactNode; icon?: ReactNode }) {
  return (
    <Paper withBorder p="lg" ta="center" bg="var(--mantine-color-default-hover)">
      <Stack gap="xs" align="center">
        {icon}
        <Text fw={600}>{title}</Text>
        {children && (
          <Text size="sm" c="dimmed">
            {children}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
