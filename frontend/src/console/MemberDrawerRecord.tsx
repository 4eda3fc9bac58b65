import { useState } from 'react';
import {
  ActionIcon,
  Alert,
  Button,
  Divider,
  Fieldset,
  Group,
  Modal,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { DateInput } from '@mantine/dates';
import { useForm } from '@mantine/form';
import { IconAlertTriangle, IconPlus, IconTrash } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import type { MemberStatus, TagSource } from '../gql/graphql';
import { formatDateTime } from '../lib/format';
import { MemberTags } from './MemberDrawer';
import { ConfirmDialog, GeneralErrors, mutationErrorMessage, notifySuccess, splitPayloadErrors, useConsoleShop } from './shared';

const RecordUpdateMutation = graphql(`
  mutation ConsoleMemberRecordUpdate($accountId: ID!, $input: MemberRecordInput!) {
    memberRecordUpdate(accountId: $accountId, input: $input) {
      account {
        id
        record {
          firstName
          lastName
          email
          phone
          birthDate
          personalDates
          preferences
          updatedAt
        }
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const StatusSetMutation = graphql(`
  mutation ConsoleMemberStatusSet($accountId: ID!, $status: MemberStatus!) {
    memberStatusSet(accountId: $accountId, status: $status) {
      account {
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

const NoteAddMutation = graphql(`
  mutation ConsoleMemberNoteAdd($accountId: ID!, $text: String!) {
    memberNoteAdd(accountId: $accountId, text: $text) {
      note {
        text
        createdAt
        author
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const TagSetMutation = graphql(`
  mutation ConsoleMemberTagSet($accountId: ID!, $tag: String!, $present: Boolean!, $reason: String!) {
    memberTagSet(accountId: $accountId, tag: $tag, present: $present, reason: $reason) {
      account {
        id
        tags {
          tag
          source
          reason
          assignedAt
        }
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const EraseMutation = graphql(`
  mutation ConsoleMemberErase($input: MemberEraseInput!) {
    memberErase(input: $input) {
      erasure {
        customerId
        accounts
        profilesBlanked
        notesDeleted
        redemptionsCancelled
        pointsRefunded
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

type PersonalDate = { kind: 'anniversary' | 'custom'; label: string; date: string | null };
type Preference = { key: string; value: string };

/** The account as the drawer reads it, for the record panel. */
export interface CrmAccount {
  id: string;
  status: MemberStatus;
  record?: {
    firstName: string;
    lastName: string;
    email: string;
    phone: string;
    birthDate?: string | null;
    personalDates: unknown;
    preferences: unknown;
    updatedAt: string;
  } | null;
  member: { displayName: string; email: string; phone: string };
  tags: readonly { tag: string; source: TagSource; reason: string }[];
  notes: readonly { text: string; createdAt: string; author: string }[];
}

/** ISO 3166 regions offered for phone numbers written without +code. */
const REGIONS =
  'AD AE AF AG AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BN BO BR BS BT BW BY BZ CA CD CF CG CH CI CL CM CN CO CR CU CV CY CZ DE DJ DK DM DO DZ EC EE EG ER ES ET FI FJ FR GA GB GD GE GH GM GN GQ GR GT GW GY HK HN HR HT HU ID IE IL IN IQ IR IS IT JM JO JP KE KG KH KM KN KP KR KW KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MG MK ML MM MN MO MR MT MU MV MW MX MY MZ NA NE NG NI NL NO NP NZ OM PA PE PG PH PK PL PS PT PY QA RO RS RU RW SA SB SC SD SE SG SI SK SL SM SN SO SR SS ST SV SY SZ TD TG TH TJ TL TM TN TO TR TT TW TZ UA UG US UY UZ VA VC VE VN VU WS YE ZA ZM ZW'.split(
    ' ',
  );

function regionName(code: string, language: string): string {
  try {
    return new Intl.DisplayNames([language], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}

interface RecordValues {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  phoneRegion: string | null;
  birthDate: string | null;
  personalDates: PersonalDate[];
  preferences: Preference[];
}

const RECORD_FIELDS = ['firstName', 'lastName', 'email', 'phone', 'phoneRegion', 'birthDate', 'personalDates', 'preferences'];

function recordValues(a: CrmAccount): RecordValues {
  const r = a.record;
  const dates = Array.isArray(r?.personalDates) ? (r!.personalDates as PersonalDate[]) : [];
  const prefs = r?.preferences && typeof r.preferences === 'object' ? (r.preferences as Record<string, unknown>) : {};
  return {
    firstName: r?.firstName ?? '',
    lastName: r?.lastName ?? '',
    email: r?.email ?? a.member.email ?? '',
    phone: r?.phone ?? a.member.phone ?? '',
    // The API does not tell the shop's country: no region unless staff pick one.
    phoneRegion: null,
    birthDate: r?.birthDate ?? null,
    personalDates: dates.map((d) => ({ kind: d.kind === 'anniversary' ? 'anniversary' : 'custom', label: d.label ?? '', date: d.date ?? null })),
    preferences: Object.entries(prefs).map(([key, value]) => ({ key, value: String(value) })),
  };
}

/** The `MemberRecordInput` of the form's values. */
export function recordInput(v: RecordValues) {
  return {
    firstName: v.firstName.trim(),
    lastName: v.lastName.trim(),
    email: v.email.trim(),
    phone: v.phone.trim(),
    phoneRegion: v.phoneRegion || null,
    birthDate: v.birthDate ? v.birthDate.slice(0, 10) : null,
    personalDates: v.personalDates
      .filter((d) => d.date)
      .map((d) => ({ kind: d.kind, label: d.label.trim(), date: d.date!.slice(0, 10) })),
    preferences: Object.fromEntries(v.preferences.filter((p) => p.key.trim()).map((p) => [p.key.trim().toLowerCase(), p.value])),
  };
}

/** Payload errors of `memberRecordUpdate` by input (the code's words, then the server's), and the rest. */
export function recordErrors(
  errors: readonly { field?: string | null; code: string; message: string }[],
  t: (key: string, options?: Record<string, unknown>) => string,
): { fields: Record<string, string>; general: string[] } {
  const fields: Record<string, string> = {};
  const general: string[] = [];
  for (const e of errors) {
    const text = t(`crm.errorCodes.${e.code}`, { defaultValue: t(`errorCodes.${e.code}`, { defaultValue: e.code }) });
    const top = (e.field ?? '').split('.')[0];
    const field = e.code === 'INVALID_PHONE' ? 'phone' : top;
    if (field && RECORD_FIELDS.includes(field)) {
      const line = e.message ? `${text}: ${e.message}` : text;
      fields[field] = fields[field] ? `${fields[field]} ${line}` : line;
    } else {
      general.push(e.field ? `${e.field}: ${text} — ${e.message}` : `${text} — ${e.message}`);
    }
  }
  return { fields, general };
}

/** The shop's record of a member, status, tags and notes, each editable by owners and managers. */
export function MemberCrmPanel({ account, onChanged }: { account: CrmAccount; onChanged: () => void }) {
  const shop = useConsoleShop();
  return (
    <Stack>
      {shop.canEdit ? <RecordForm account={account} onSaved={onChanged} /> : <RecordView account={account} />}
      <Divider />
      <StatusSection account={account} onChanged={onChanged} />
      <TagsSection account={account} onChanged={onChanged} />
      <NotesSection account={account} onChanged={onChanged} />
      {shop.role === 'OWNER' ? <EraseSection account={account} onErased={onChanged} /> : null}
    </Stack>
  );
}

function RecordView({ account }: { account: CrmAccount }) {
  const { t } = useTranslation('console');
  const r = account.record;
  if (!r) return <Text c="dimmed">{t('crm.noRecord')}</Text>;
  return (
    <SimpleGrid cols={2} data-testid="member-record">
      <Text size="sm">{`${r.firstName} ${r.lastName}`.trim() || '—'}</Text>
      <Text size="sm">{r.email || '—'}</Text>
      <Text size="sm" dir="ltr">
        {r.phone || '—'}
      </Text>
      <Text size="sm">{r.birthDate ?? '—'}</Text>
    </SimpleGrid>
  );
}

function RecordForm({ account, onSaved }: { account: CrmAccount; onSaved: () => void }) {
  const { t, i18n } = useTranslation('console');
  const [state, save] = useMutation(RecordUpdateMutation);
  const form = useForm<RecordValues>({ initialValues: recordValues(account) });
  const [general, setGeneral] = useState<string[]>([]);
  const [savedPhone, setSavedPhone] = useState<string | null>(account.record?.phone ?? null);

  const submit = form.onSubmit(async (values) => {
    setGeneral([]);
    const r = await save({ accountId: account.id, input: recordInput(values) });
    if (r.error) {
      setGeneral([mutationErrorMessage(r.error)]);
      return;
    }
    const payload = r.data?.memberRecordUpdate;
    if (payload && payload.errors.length) {
      // Field errors by code: INVALID_PHONE on `phone`, INVALID_INPUT with the field it names.
      const { fields, general: rest } = recordErrors(payload.errors, t);
      form.setErrors(fields);
      setGeneral(rest);
      return;
    }
    const phone = payload?.account?.record?.phone ?? null;
    setSavedPhone(phone);
    if (phone !== null) form.setFieldValue('phone', phone);
    form.resetDirty();
    notifySuccess(t('crm.recordSaved'));
    onSaved();
  });

  // INVALID_PHONE comes with field `phone`; its own words say what is wrong.
  const regions = REGIONS.map((c) => ({ value: c, label: `${regionName(c, i18n.language)} (${c})` }));
  return (
    <form onSubmit={submit} noValidate aria-label={t('crm.recordForm')} data-testid="member-record-form">
      <Stack gap="sm">
        <Title order={5}>{t('crm.record')}</Title>
        <GeneralErrors messages={general} />
        <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="sm">
          <TextInput label={t('crm.fields.firstName')} maxLength={100} {...form.getInputProps('firstName')} />
          <TextInput label={t('crm.fields.lastName')} maxLength={100} {...form.getInputProps('lastName')} />
          <TextInput label={t('crm.fields.email')} type="email" dir="ltr" {...form.getInputProps('email')} />
          <DateInput label={t('crm.fields.birthDate')} valueFormat="YYYY-MM-DD" clearable maxDate={new Date()} {...form.getInputProps('birthDate')} />
          <TextInput label={t('crm.fields.phone')} type="tel" dir="ltr" {...form.getInputProps('phone')} />
          <Select
            label={t('crm.fields.phoneRegion')}
            placeholder={t('crm.noRegion')}
            data={regions}
            searchable
            clearable
            {...form.getInputProps('phoneRegion')}
          />
        </SimpleGrid>
        {savedPhone ? (
          <Text size="xs" c="dimmed" data-testid="member-record-phone" data-value={savedPhone}>
            {t('crm.savedPhone')} <bdi dir="ltr">{savedPhone}</bdi>
          </Text>
        ) : null}
        <Fieldset legend={t('crm.fields.personalDates')}>
          <Stack gap="xs">
            {form.values.personalDates.map((_, i) => (
              <Group key={i} align="flex-end" gap="xs" wrap="nowrap">
                <Select
                  label={t('crm.dates.kind')}
                  data={(['anniversary', 'custom'] as const).map((k) => ({ value: k, label: t(`crm.dates.${k}`) }))}
                  allowDeselect={false}
                  w={140}
                  {...form.getInputProps(`personalDates.${i}.kind`)}
                />
                <TextInput label={t('crm.dates.label')} style={{ flex: 1 }} maxLength={60} {...form.getInputProps(`personalDates.${i}.label`)} />
                <DateInput label={t('crm.dates.date')} valueFormat="YYYY-MM-DD" w={140} {...form.getInputProps(`personalDates.${i}.date`)} />
                <ActionIcon variant="subtle" color="red" aria-label={t('crm.dates.remove')} onClick={() => form.removeListItem('personalDates', i)} mb={4}>
                  <IconTrash size={16} />
                </ActionIcon>
              </Group>
            ))}
            {form.errors.personalDates ? (
              <Text size="xs" c="red">
                {form.errors.personalDates}
              </Text>
            ) : null}
            <Group>
              <Button
                size="xs"
                variant="light"
                leftSection={<IconPlus size={14} />}
                disabled={form.values.personalDates.length >= 10}
                onClick={() => form.insertListItem('personalDates', { kind: 'anniversary', label: '', date: null })}
              >
                {t('crm.dates.add')}
              </Button>
            </Group>
          </Stack>
        </Fieldset>
        <Fieldset legend={t('crm.fields.preferences')}>
          <Stack gap="xs">
            {form.values.preferences.map((_, i) => (
              <Group key={i} align="flex-end" gap="xs" wrap="nowrap">
                <TextInput label={t('crm.prefs.key')} w={160} maxLength={40} {...form.getInputProps(`preferences.${i}.key`)} />
                <TextInput label={t('crm.prefs.value')} style={{ flex: 1 }} maxLength={200} {...form.getInputProps(`preferences.${i}.value`)} />
                <ActionIcon variant="subtle" color="red" aria-label={t('crm.prefs.remove')} onClick={() => form.removeListItem('preferences', i)} mb={4}>
                  <IconTrash size={16} />
                </ActionIcon>
              </Group>
            ))}
            {form.errors.preferences ? (
              <Text size="xs" c="red">
                {form.errors.preferences}
              </Text>
            ) : null}
            <Group>
              <Button
                size="xs"
                variant="light"
                leftSection={<IconPlus size={14} />}
                disabled={form.values.preferences.length >= 30}
                onClick={() => form.insertListItem('preferences', { key: '', value: '' })}
              >
                {t('crm.prefs.add')}
              </Button>
            </Group>
          </Stack>
        </Fieldset>
        <Group justify="flex-end">
          <Button type="submit" loading={state.fetching}>
            {t('crm.saveRecord')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function StatusSection({ account, onChanged }: { account: CrmAccount; onChanged: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [state, setStatus] = useMutation(StatusSetMutation);
  const [confirming, setConfirming] = useState(false);
  const [errors, setErrors] = useState<string[]>([]);
  const apply = async (status: MemberStatus) => {
    const r = await setStatus({ accountId: account.id, status });
    const errs = r.error ? [mutationErrorMessage(r.error)] : splitPayloadErrors(r.data?.memberStatusSet.errors).general;
    setErrors(errs);
    setConfirming(false);
    if (errs.length === 0) {
      notifySuccess(t('crm.statusSaved', { status: t(`memberStatus.${status}`) }));
      onChanged();
    }
  };
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500} id="member-status-label">
        {t('members.status')}
      </Text>
      <SegmentedControl
        aria-labelledby="member-status-label"
        disabled={!shop.canEdit || state.fetching}
        value={account.status}
        data={(['ACTIVE', 'INACTIVE', 'BLOCKED'] as const).map((s) => ({ value: s, label: t(`memberStatus.${s}`) }))}
        onChange={(v) => (v === 'BLOCKED' ? setConfirming(true) : void apply(v as MemberStatus))}
      />
      <GeneralErrors messages={errors} />
      <ConfirmDialog
        opened={confirming}
        title={t('crm.blockTitle')}
        message={t('crm.blockConfirm')}
        confirmLabel={t('crm.block')}
        loading={state.fetching}
        onConfirm={() => void apply('BLOCKED')}
        onClose={() => setConfirming(false)}
      />
    </Stack>
  );
}

function TagsSection({ account, onChanged }: { account: CrmAccount; onChanged: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [state, setTag] = useMutation(TagSetMutation);
  const [tag, setTagText] = useState('');
  const [errors, setErrors] = useState<string[]>([]);
  const run = async (name: string, present: boolean) => {
    const r = await setTag({ accountId: account.id, tag: name, present, reason: '' });
    const errs = r.error ? [mutationErrorMessage(r.error)] : splitPayloadErrors(r.data?.memberTagSet.errors).general;
    setErrors(errs);
    if (errs.length === 0) {
      if (present) setTagText('');
      onChanged();
    }
  };
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>
        {t('members.tags')}
      </Text>
      <MemberTags tags={account.tags} onRemove={shop.canEdit ? (name) => void run(name, false) : undefined} />
      {shop.canEdit ? (
        <Group
          component="form"
          gap="xs"
          align="flex-end"
          onSubmit={(e) => {
            e.preventDefault();
            if (tag.trim()) void run(tag.trim().toLowerCase(), true);
          }}
        >
          <TextInput label={t('crm.newTag')} value={tag} maxLength={40} onChange={(e) => setTagText(e.currentTarget.value)} />
          <Button type="submit" variant="light" loading={state.fetching} disabled={!tag.trim()}>
            {t('crm.addTag')}
          </Button>
        </Group>
      ) : null}
      <GeneralErrors messages={errors} />
    </Stack>
  );
}

function NotesSection({ account, onChanged }: { account: CrmAccount; onChanged: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [state, add] = useMutation(NoteAddMutation);
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<string[]>([]);
  const submit = async () => {
    const r = await add({ accountId: account.id, text: text.trim() });
    const errs = r.error ? [mutationErrorMessage(r.error)] : splitPayloadErrors(r.data?.memberNoteAdd.errors).general;
    setErrors(errs);
    if (errs.length === 0) {
      setText('');
      onChanged();
    }
  };
  return (
    <Stack gap="xs">
      <Text size="sm" fw={500}>
        {t('crm.notes')}
      </Text>
      {account.notes.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('crm.noNotes')}
        </Text>
      ) : (
        account.notes.map((n, i) => (
          <Paper key={i} withBorder p="xs" data-testid="member-note">
            <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
              {n.text}
            </Text>
            <Text size="xs" c="dimmed">
              {formatDateTime(n.createdAt)}
              {n.author ? ` · ${n.author}` : ''}
            </Text>
          </Paper>
        ))
      )}
      {shop.canEdit ? (
        <>
          <Textarea label={t('crm.addNote')} value={text} maxLength={2000} rows={2} onChange={(e) => setText(e.currentTarget.value)} />
          <Group justify="flex-end">
            <Button variant="light" onClick={() => void submit()} loading={state.fetching} disabled={!text.trim()}>
              {t('crm.saveNote')}
            </Button>
          </Group>
        </>
      ) : null}
      <GeneralErrors messages={errors} />
    </Stack>
  );
}

/**
 * The owner's erasure of a member's personal data. The API takes the customer's external id,
 * which the account does not expose, so the owner types it (and that is the confirmation).
 */
function EraseSection({ account, onErased }: { account: CrmAccount; onErased: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [open, setOpen] = useState(false);
  const [customerId, setCustomerId] = useState('');
  const [reason, setReason] = useState('');
  const [confirm, setConfirm] = useState('');
  const [errors, setErrors] = useState<string[]>([]);
  const [state, erase] = useMutation(EraseMutation);
  const word = t('crm.erase.word');
  const submit = async () => {
    const r = await erase({ input: { shopId: shop.id, customerId: customerId.trim(), reason: reason.trim() } });
    const errs = r.error
      ? [mutationErrorMessage(r.error)]
      : (r.data?.memberErase.errors ?? []).map((e) => `${t(`errorCodes.${e.code}`, { defaultValue: e.code })} — ${e.message}`);
    setErrors(errs);
    if (errs.length === 0) {
      notifySuccess(t('crm.erase.done'));
      setOpen(false);
      onErased();
    }
  };
  return (
    <>
      <Divider />
      <Group>
        <Button color="red" variant="outline" leftSection={<IconAlertTriangle size={16} />} onClick={() => setOpen(true)}>
          {t('crm.erase.button')}
        </Button>
      </Group>
      <Modal opened={open} onClose={() => setOpen(false)} title={t('crm.erase.title')} centered>
        <Stack>
          <Alert color="red" icon={<IconAlertTriangle size={18} />}>
            {t('crm.erase.warning', { name: account.member.displayName || account.id })}
          </Alert>
          <GeneralErrors messages={errors} />
          <TextInput label={t('crm.erase.customerId')} description={t('crm.erase.customerIdHint')} value={customerId} onChange={(e) => setCustomerId(e.currentTarget.value)} dir="ltr" />
          <Textarea label={t('crm.erase.reason')} value={reason} maxLength={500} onChange={(e) => setReason(e.currentTarget.value)} />
          <TextInput label={t('crm.erase.confirm', { word })} value={confirm} onChange={(e) => setConfirm(e.currentTarget.value)} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setOpen(false)}>
              {t('common.cancel')}
            </Button>
            <Button
              color="red"
              loading={state.fetching}
              disabled={confirm.trim() !== word || !customerId.trim() || !reason.trim()}
              onClick={() => void submit()}
            >
              {t('crm.erase.submit')}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
