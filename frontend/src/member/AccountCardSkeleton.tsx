import { Card, Group, Skeleton, Stack } from '@mantine/core';

/** Placeholder with the shape of an account card while it loads. */
export function AccountCardSkeleton() {
  return (
    <Card withBorder padding="lg" aria-hidden>
      <Stack>
        <Group justify="space-between">
          <Skeleton h={24} w="50%" />
          <Skeleton h={24} w={60} radius="xl" />
        </Group>
        <Skeleton h={36} w="40%" />
        <Skeleton h={12} radius="xl" />
        <Skeleton h={14} w="70%" />
      </Stack>
    </Card>
  );
}
