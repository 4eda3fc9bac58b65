import { useState } from 'react';
import { Badge, Button, Group, Input, Modal, NumberInput, SegmentedControl, Select, SimpleGrid, Stack, Switch, Table, Text, TextInput, VisuallyHidden } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconEdit, IconPlus, IconTrash } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { CulturalEventInput, OccasionCalendar } from '../gql/graphql';
import { formatPoints } from '../lib/format';
import {
  ConfirmDialog,
  EmptyPanel,
  ErrorAlert,
  GeneralErrors,
  notifySuccess,
  PageLoader,
  splitPayloadErrors,
  toInt,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';

const EventsQuery = graphql(`
  query ConsoleCulturalEvents($slug: String!) {
    shop(slug: $slug) {
      id
      culturalEvents {
        id
        name
        nameFa
        calendar
        month
        day
        bonusPoints
        message
        active
      }
    }
  }
`);

const EventSaveMutation = graphql(`
  mutation ConsoleCulturalEventSave($shopId: ID!, $id: ID, $input: CulturalEventInput!) {
    culturalEventSave(shopId: $shopId, id: $id, input: $input) {
      event {
        id
        name
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const EventDeleteMutation = graphql(`
  mutation ConsoleCulturalEventDelete($id: ID!) {
    culturalEventDelete(id: $id) {
      count
      errors {
        field
        code
        message
      }
    }
  }
`);

type EventRow = {
  id: string;
  name: string;
  nameFa: string;
  calendar: OccasionCalendar;
  month: number;
  day: number;
  bonusPoints: number;
  message: boolean;
  active: boolean;
};

type NumberValue = number | string;

/** The cultural event form's values. */
export interface EventValues {
  name: string;
  nameFa: string;
  calendar: OccasionCalendar;
  month: string;
  day: NumberValue;
  bonusPoints: NumberValue;
  message: boolean;
  active: boolean;
}

/** The `CulturalEventInput` of the form. */
export function eventInput(v: EventValues): CulturalEventInput {
  return {
    name: v.name.trim(),
    nameFa: v.nameFa.trim(),
    calendar: v.calendar,
    month: Number(v.month),
    day: toInt(v.day) ?? 1,
    bonusPoints: toInt(v.bonusPoints) ?? 0,
    message: v.message,
    active: v.active,
  };
}

/** A month's name in its calendar. */
function monthName(t: (k: string) => string, calendar: OccasionCalendar, month: number) {
  return calendar === 'JALALI' ? t(`messages.events.jalaliMonths.${month}`) : t(`segments.months.${month}`);
}

/** The shop's yearly cultural events (Nowruz, Yalda…): bonus points and a message on the day. */
export function CulturalEventsPanel() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }, refetch] = useQuery({ query: EventsQuery, variables: { slug: shop.slug } });
  const [editing, setEditing] = useState<EventRow | 'new' | null>(null);
  const [deleting, setDeleting] = useState<EventRow | null>(null);
  const [deleteState, remove] = useMutation(EventDeleteMutation);
  const [messages, setMessages] = useState<string[]>([]);
  const events = (data?.shop?.culturalEvents ?? []) as EventRow[];
  const reload = () => refetch({ requestPolicy: 'network-only' });

  const doDelete = async () => {
    if (!deleting) return;
    const r = await remove({ id: deleting.id });
    const errs = r.error ? [r.error.graphQLErrors[0]?.message ?? r.error.message] : splitPayloadErrors(r.data?.culturalEventDelete.errors).general;
    setMessages(errs);
    if (errs.length === 0) {
      notifySuccess(t('messages.events.deleted', { name: deleting.name }));
      setDeleting(null);
      reload();
    }
  };

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;

  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {t('messages.events.hint')}
        </Text>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
          {t('messages.events.add')}
        </Button>
      </Group>
      <GeneralErrors messages={messages} />
      {events.length === 0 ? (
        <EmptyPanel title={t('messages.events.empty')} description={t('messages.events.emptyHint')} />
      ) : (
        <Table.ScrollContainer minWidth={640}>
          <Table striped verticalSpacing="xs" data-testid="events-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('messages.events.columns.name')}</Table.Th>
                <Table.Th>{t('messages.events.columns.date')}</Table.Th>
                <Table.Th ta="end">{t('messages.events.columns.bonus')}</Table.Th>
                <Table.Th>{t('messages.events.columns.state')}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t('messages.events.columns.actions')}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {events.map((e) => (
                <Table.Tr key={e.id} data-testid="event-row" data-event-name={e.name}>
                  <Table.Td>
                    <Text size="sm" fw={600}>
                      {e.name}
                    </Text>
                    {e.nameFa ? (
                      <Text size="xs" c="dimmed" dir="rtl">
                        {e.nameFa}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    {t('messages.events.date', { day: formatPoints(e.day), month: monthName(t, e.calendar, e.month) })}
                    <Text size="xs" c="dimmed">
                      {t(`messages.events.calendars.${e.calendar}`)}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="end">{e.bonusPoints ? formatPoints(e.bonusPoints) : '—'}</Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {!e.active ? <Badge color="gray">{t('messages.events.inactive')}</Badge> : null}
                      {e.message ? <Badge variant="light">{t('messages.events.withMessage')}</Badge> : null}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4} wrap="nowrap">
                      <Button size="xs" variant="light" leftSection={<IconEdit size={14} />} onClick={() => setEditing(e)} aria-label={t('messages.events.editNamed', { name: e.name })}>
                        {t('common.edit')}
                      </Button>
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        leftSection={<IconTrash size={14} />}
                        onClick={() => {
                          setMessages([]);
                          setDeleting(e);
                        }}
                        aria-label={t('messages.events.deleteNamed', { name: e.name })}
                      >
                        {t('common.delete')}
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing === 'new' ? t('messages.events.add') : t('messages.events.edit')} size="lg">
        {editing !== null ? (
          <EventForm
            event={editing === 'new' ? null : editing}
            onDone={(saved) => {
              setEditing(null);
              if (saved) reload();
            }}
          />
        ) : null}
      </Modal>
      <ConfirmDialog
        opened={deleting !== null}
        title={t('messages.events.deleteTitle')}
        message={t('messages.events.deleteConfirm', { name: deleting?.name ?? '' })}
        confirmLabel={t('common.delete')}
        loading={deleteState.fetching}
        onConfirm={doDelete}
        onClose={() => setDeleting(null)}
      />
    </Stack>
  );
}

const EVENT_FIELDS = ['name', 'nameFa', 'calendar', 'month', 'day', 'bonusPoints', 'message', 'active'];

function EventForm({ event, onDone }: { event: EventRow | null; onDone: (saved: boolean) => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [state, save] = useMutation(EventSaveMutation);
  const form = useForm<EventValues>({
    initialValues: {
      name: event?.name ?? '',
      nameFa: event?.nameFa ?? '',
      calendar: event?.calendar ?? 'JALALI',
      month: String(event?.month ?? 1),
      day: event?.day ?? 1,
      bonusPoints: event?.bonusPoints ?? 0,
      message: event?.message ?? true,
      active: event?.active ?? true,
    },
    validate: {
      name: (v) => (v.trim() ? null : t('common.required')),
      day: (v) => (toInt(v) && toInt(v)! >= 1 && toInt(v)! <= 31 ? null : t('messages.events.badDay')),
    },
  });
  const { general, send } = usePayloadSubmit(form, EVENT_FIELDS);
  const submit = form.onSubmit(async (values) => {
    const input = eventInput(values);
    const answer = await send(() => save({ shopId: shop.id, id: event?.id ?? null, input }), (data) => data.culturalEventSave);
    if (!answer) return;
    notifySuccess(t('messages.events.saved', { name: input.name }));
    onDone(true);
  });
  const calendar = form.values.calendar;
  return (
    <form onSubmit={submit} noValidate aria-label={t('messages.events.formLabel')}>
      <Stack>
        <GeneralErrors messages={general} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t('messages.events.fields.name')} required data-autofocus maxLength={120} {...form.getInputProps('name')} />
          <TextInput label={t('messages.events.fields.nameFa')} dir="rtl" maxLength={120} {...form.getInputProps('nameFa')} />
        </SimpleGrid>
        <Input.Wrapper label={t('messages.events.fields.calendar')} error={form.errors.calendar}>
          <SegmentedControl
            fullWidth
            data={(['JALALI', 'GREGORIAN'] as const).map((c) => ({ value: c, label: t(`messages.events.calendars.${c}`) }))}
            value={calendar}
            onChange={(v) => form.setFieldValue('calendar', v as OccasionCalendar)}
          />
        </Input.Wrapper>
        <SimpleGrid cols={{ base: 2 }}>
          <Select
            label={t('messages.events.fields.month')}
            data={Array.from({ length: 12 }, (_, i) => ({ value: String(i + 1), label: monthName(t, calendar, i + 1) }))}
            allowDeselect={false}
            {...form.getInputProps('month')}
          />
          <NumberInput label={t('messages.events.fields.day')} min={1} max={31} allowDecimal={false} {...form.getInputProps('day')} />
        </SimpleGrid>
        <NumberInput
          label={t('messages.events.fields.bonusPoints')}
          description={t('messages.events.bonusHint')}
          min={0}
          max={1000000}
          allowDecimal={false}
          {...form.getInputProps('bonusPoints')}
        />
        <Group>
          <Switch label={t('messages.events.fields.message')} {...form.getInputProps('message', { type: 'checkbox' })} />
          <Switch label={t('messages.events.fields.active')} {...form.getInputProps('active', { type: 'checkbox' })} />
        </Group>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => onDone(false)}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" loading={state.fetching}>
            {t('common.save')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
