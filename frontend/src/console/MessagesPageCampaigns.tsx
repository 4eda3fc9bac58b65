import { useMemo, useState } from 'react';
import { Badge, Button, Chip, Fieldset, Group, Input, Modal, Select, SimpleGrid, Stack, Table, Text, TextInput, Textarea, VisuallyHidden } from '@mantine/core';
import { useForm } from '@mantine/form';
import { IconPlus, IconX } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { CampaignInput, CampaignStatus, MessageChannel } from '../gql/graphql';
import { formatDateTime, formatPoints } from '../lib/format';
import { CHANNELS } from './MessagesPageShared';
import {
  ConfirmDialog,
  EmptyPanel,
  ErrorAlert,
  GeneralErrors,
  notifySuccess,
  PageLoader,
  ShopDateTimePicker,
  splitPayloadErrors,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';
import { localToIso } from './time';

const CampaignsQuery = graphql(`
  query ConsoleCampaigns($slug: String!) {
    shop(slug: $slug) {
      id
      segments {
        id
        name
      }
      campaigns {
        id
        name
        channels
        sendAt
        status
        planned
        sentAt
        segmentId
        texts {
          language
          subject
          body
        }
      }
    }
  }
`);

const CampaignCreateMutation = graphql(`
  mutation ConsoleCampaignCreate($shopId: ID!, $input: CampaignInput!) {
    campaignCreate(shopId: $shopId, input: $input) {
      campaign {
        id
        name
        status
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const CampaignCancelMutation = graphql(`
  mutation ConsoleCampaignCancel($campaignId: ID!) {
    campaignCancel(campaignId: $campaignId) {
      campaign {
        id
        status
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

type CampaignRow = {
  id: string;
  name: string;
  channels: MessageChannel[];
  sendAt: string;
  status: CampaignStatus;
  planned: number;
  sentAt?: string | null;
  segmentId?: string | null;
};

const STATUS_COLORS: Record<CampaignStatus, string> = { SCHEDULED: 'blue', SENT: 'teal', CANCELLED: 'gray' };

/** The campaign form's values. */
export interface CampaignValues {
  name: string;
  segmentId: string | null;
  channels: string[];
  sendAt: string | null;
  enSubject: string;
  enBody: string;
  faSubject: string;
  faBody: string;
}

/** The `CampaignInput` of the form: Persian text only when written, the time in the shop's zone. */
export function campaignInput(v: CampaignValues, timeZone: string): CampaignInput {
  const texts = [{ language: 'en', subject: v.enSubject.trim(), body: v.enBody.trim() }];
  if (v.faSubject.trim() || v.faBody.trim()) texts.push({ language: 'fa', subject: v.faSubject.trim(), body: v.faBody.trim() });
  return {
    name: v.name.trim(),
    segmentId: v.segmentId || null,
    channels: CHANNELS.filter((c) => v.channels.includes(c)),
    sendAt: localToIso(v.sendAt, timeZone),
    texts,
  };
}

/** The shop's campaigns, newest first, with "New campaign" and Cancel for scheduled ones. */
export function CampaignsPanel() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }, refetch] = useQuery({ query: CampaignsQuery, variables: { slug: shop.slug } });
  const [creating, setCreating] = useState(false);
  const [cancelling, setCancelling] = useState<CampaignRow | null>(null);
  const [cancelState, cancel] = useMutation(CampaignCancelMutation);
  const [messages, setMessages] = useState<string[]>([]);
  const campaigns = (data?.shop?.campaigns ?? []) as CampaignRow[];
  const segments = useMemo(() => data?.shop?.segments ?? [], [data]);
  const segmentNames = useMemo(() => new Map(segments.map((s) => [s.id, s.name])), [segments]);
  const reload = () => refetch({ requestPolicy: 'network-only' });

  const doCancel = async () => {
    if (!cancelling) return;
    const r = await cancel({ campaignId: cancelling.id });
    const errs = r.error ? [r.error.graphQLErrors[0]?.message ?? r.error.message] : splitPayloadErrors(r.data?.campaignCancel.errors).general;
    setMessages(errs);
    setCancelling(null);
    if (errs.length === 0) notifySuccess(t('messages.campaigns.cancelled', { name: cancelling.name }));
    reload();
  };

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;

  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed">
          {t('messages.campaigns.hint')}
        </Text>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
          {t('messages.campaigns.add')}
        </Button>
      </Group>
      <GeneralErrors messages={messages} />
      {campaigns.length === 0 ? (
        <EmptyPanel title={t('messages.campaigns.empty')} description={t('messages.campaigns.emptyHint')} />
      ) : (
        <Table.ScrollContainer minWidth={720}>
          <Table striped verticalSpacing="xs" data-testid="campaigns-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('messages.campaigns.columns.name')}</Table.Th>
                <Table.Th>{t('messages.campaigns.columns.status')}</Table.Th>
                <Table.Th>{t('messages.campaigns.columns.audience')}</Table.Th>
                <Table.Th>{t('messages.campaigns.columns.channels')}</Table.Th>
                <Table.Th>{t('messages.campaigns.columns.sendAt')}</Table.Th>
                <Table.Th ta="end">{t('messages.campaigns.columns.planned')}</Table.Th>
                <Table.Th>
                  <VisuallyHidden>{t('messages.campaigns.columns.actions')}</VisuallyHidden>
                </Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {campaigns.map((c) => (
                <Table.Tr key={c.id} data-testid="campaign-row" data-status={c.status}>
                  <Table.Td fw={600}>{c.name}</Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={STATUS_COLORS[c.status]}>
                      {t(`messages.campaigns.statuses.${c.status}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{c.segmentId ? (segmentNames.get(c.segmentId) ?? '?') : t('messages.campaigns.everyMember')}</Table.Td>
                  <Table.Td>{c.channels.map((ch) => t(`messages.channels.${ch}`)).join(', ')}</Table.Td>
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(c.sentAt ?? c.sendAt)}</Table.Td>
                  <Table.Td ta="end">{c.status === 'SENT' ? formatPoints(c.planned) : '—'}</Table.Td>
                  <Table.Td>
                    {c.status === 'SCHEDULED' ? (
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        leftSection={<IconX size={14} />}
                        onClick={() => setCancelling(c)}
                        aria-label={t('messages.campaigns.cancelNamed', { name: c.name })}
                      >
                        {t('messages.campaigns.cancel')}
                      </Button>
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={creating} onClose={() => setCreating(false)} title={t('messages.campaigns.add')} size="xl">
        {creating ? (
          <CampaignForm
            segments={segments}
            onDone={(saved) => {
              setCreating(false);
              if (saved) reload();
            }}
          />
        ) : null}
      </Modal>
      <ConfirmDialog
        opened={cancelling !== null}
        title={t('messages.campaigns.cancelTitle')}
        message={t('messages.campaigns.cancelConfirm', { name: cancelling?.name ?? '' })}
        confirmLabel={t('messages.campaigns.cancel')}
        loading={cancelState.fetching}
        onConfirm={doCancel}
        onClose={() => setCancelling(null)}
      />
    </Stack>
  );
}

const CAMPAIGN_FIELDS = ['name', 'segmentId', 'channels', 'sendAt'];

function CampaignForm({ segments, onDone }: { segments: readonly { id: string; name: string }[]; onDone: (saved: boolean) => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [state, create] = useMutation(CampaignCreateMutation);
  const form = useForm<CampaignValues>({
    initialValues: { name: '', segmentId: null, channels: ['INBOX'], sendAt: null, enSubject: '', enBody: '', faSubject: '', faBody: '' },
    validate: {
      name: (v) => (v.trim() ? null : t('common.required')),
      channels: (v) => (v.length ? null : t('messages.campaigns.noChannel')),
      enSubject: (v) => (v.trim() ? null : t('common.required')),
      enBody: (v) => (v.trim() ? null : t('common.required')),
      faSubject: (v, values) => (!v.trim() && values.faBody.trim() ? t('messages.campaigns.bothFa') : null),
      faBody: (v, values) => (!v.trim() && values.faSubject.trim() ? t('messages.campaigns.bothFa') : null),
    },
  });
  const { general, send } = usePayloadSubmit(form, CAMPAIGN_FIELDS);

  const submit = form.onSubmit(async (values) => {
    const input = campaignInput(values, shop.timezone);
    const answer = await send(() => create({ shopId: shop.id, input }), (data) => data.campaignCreate);
    if (!answer) return;
    notifySuccess(t('messages.campaigns.saved', { name: input.name }));
    onDone(true);
  });

  return (
    <form onSubmit={submit} noValidate aria-label={t('messages.campaigns.formLabel')}>
      <Stack>
        <GeneralErrors messages={general} />
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <TextInput label={t('messages.campaigns.fields.name')} required data-autofocus maxLength={120} {...form.getInputProps('name')} />
          <Select
            label={t('messages.campaigns.fields.segment')}
            placeholder={t('messages.campaigns.everyMember')}
            data={segments.map((s) => ({ value: s.id, label: s.name }))}
            clearable
            searchable
            {...form.getInputProps('segmentId')}
          />
        </SimpleGrid>
        <Input.Wrapper label={t('messages.campaigns.fields.channels')} description={t('messages.campaigns.channelsHint')} error={form.errors.channels}>
          <Chip.Group multiple {...form.getInputProps('channels')}>
            <Group gap={6} mt={4}>
              {CHANNELS.map((c) => (
                <Chip key={c} value={c} size="sm">
                  {t(`messages.channels.${c}`)}
                </Chip>
              ))}
            </Group>
          </Chip.Group>
        </Input.Wrapper>
        <ShopDateTimePicker label={t('messages.campaigns.fields.sendAt')} placeholder={t('messages.campaigns.now')} {...form.getInputProps('sendAt')} />
        <Text size="xs" c="dimmed">
          {t('messages.campaigns.textsHint')}
        </Text>
        <Fieldset legend={t('messages.languages.en')}>
          <Stack gap="xs">
            <TextInput label={t('messages.fields.subject')} required maxLength={200} {...form.getInputProps('enSubject')} />
            <Textarea label={t('messages.fields.body')} required rows={3} maxLength={5000} {...form.getInputProps('enBody')} />
          </Stack>
        </Fieldset>
        <Fieldset legend={t('messages.campaigns.persianOptional')}>
          <Stack gap="xs">
            <TextInput label={t('messages.campaigns.fields.faSubject')} dir="rtl" maxLength={200} {...form.getInputProps('faSubject')} />
            <Textarea label={t('messages.campaigns.fields.faBody')} dir="rtl" rows={3} maxLength={5000} {...form.getInputProps('faBody')} />
          </Stack>
        </Fieldset>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => onDone(false)}>
            {t('common.cancel')}
          </Button>
          <Button type="submit" loading={state.fetching}>
            {t('messages.campaigns.schedule')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
