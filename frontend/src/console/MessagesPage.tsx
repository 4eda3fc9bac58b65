import { useRef, useState, type FocusEvent } from 'react';
import {
  Badge,
  Button,
  Group,
  Input,
  Modal,
  NumberInput,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Textarea,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { TimeInput } from '@mantine/dates';
import { useForm } from '@mantine/form';
import { IconAdjustments, IconCalendarEvent, IconEdit, IconGift, IconList, IconSpeakerphone, IconTemplate } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { EngagementKind } from '../gql/graphql';
import { CampaignsPanel } from './MessagesPageCampaigns';
import { CulturalEventsPanel } from './MessagesPageEvents';
import { DeliveryLogPanel } from './MessagesPageLog';
import { OccasionsPanel } from './MessagesPageOccasions';
import {
  EditorOnly,
  ErrorAlert,
  GeneralErrors,
  notifySuccess,
  PageHeader,
  PageLoader,
  toInt,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';
import { inputToTime, timeToInput } from './time';
import { dirOf, ENGAGEMENT_KINDS, LANGUAGES } from './MessagesPageShared';

const TemplatesQuery = graphql(`
  query ConsoleMessageTemplates($slug: String!) {
    shop(slug: $slug) {
      id
      messageTemplates {
        kind
        language
        subject
        body
        isDefault
        variables
      }
    }
  }
`);

const TemplateSaveMutation = graphql(`
  mutation ConsoleMessageTemplateSave($shopId: ID!, $input: MessageTemplateInput!) {
    messageTemplateSave(shopId: $shopId, input: $input) {
      template {
        kind
        language
        subject
        body
        isDefault
        variables
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const TemplateResetMutation = graphql(`
  mutation ConsoleMessageTemplateReset($shopId: ID!, $kind: EngagementKind!, $language: String!) {
    messageTemplateReset(shopId: $shopId, kind: $kind, language: $language) {
      template {
        kind
        language
        subject
        body
        isDefault
        variables
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const PreviewMutation = graphql(`
  mutation ConsoleMessagePreview($shopId: ID!, $input: MessageTemplateInput!, $accountId: ID) {
    messagePreview(shopId: $shopId, input: $input, accountId: $accountId) {
      preview {
        subject
        body
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const ContactRulesQuery = graphql(`
  query ConsoleContactRules($slug: String!) {
    shop(slug: $slug) {
      id
      contactRules {
        quietStart
        quietEnd
        weeklyCap
        winBackDays
        expiringDays
        smsSender
      }
    }
  }
`);

const ContactRulesMutation = graphql(`
  mutation ConsoleContactRulesSet($shopId: ID!, $input: ContactRulesInput!) {
    contactRulesSet(shopId: $shopId, input: $input) {
      rules {
        quietStart
        quietEnd
        weeklyCap
        winBackDays
        expiringDays
        smsSender
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

/** Messages to members: templates, campaigns, the delivery log, cultural events, members' occasions and contact rules. */
export function MessagesPage() {
  return (
    <EditorOnly>
      <MessagesTabs />
    </EditorOnly>
  );
}

function MessagesTabs() {
  const { t } = useTranslation('console');
  return (
    <Stack>
      <PageHeader title={t('messages.title')} hint={t('messages.hint')} />
      <Tabs defaultValue="templates" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="templates" leftSection={<IconTemplate size={14} />}>
            {t('messages.tabs.templates')}
          </Tabs.Tab>
          <Tabs.Tab value="campaigns" leftSection={<IconSpeakerphone size={14} />}>
            {t('messages.tabs.campaigns')}
          </Tabs.Tab>
          <Tabs.Tab value="log" leftSection={<IconList size={14} />}>
            {t('messages.tabs.log')}
          </Tabs.Tab>
          <Tabs.Tab value="events" leftSection={<IconCalendarEvent size={14} />}>
            {t('messages.tabs.events')}
          </Tabs.Tab>
          <Tabs.Tab value="occasions" leftSection={<IconGift size={14} />}>
            {t('messages.tabs.occasions')}
          </Tabs.Tab>
          <Tabs.Tab value="rules" leftSection={<IconAdjustments size={14} />}>
            {t('messages.tabs.rules')}
          </Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="templates" pt="md">
          <TemplatesPanel />
        </Tabs.Panel>
        <Tabs.Panel value="campaigns" pt="md">
          <CampaignsPanel />
        </Tabs.Panel>
        <Tabs.Panel value="log" pt="md">
          <DeliveryLogPanel />
        </Tabs.Panel>
        <Tabs.Panel value="events" pt="md">
          <CulturalEventsPanel />
        </Tabs.Panel>
        <Tabs.Panel value="occasions" pt="md">
          <OccasionsPanel />
        </Tabs.Panel>
        <Tabs.Panel value="rules" pt="md">
          <ContactRulesPanel />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

type TemplateRow = {
  kind: EngagementKind;
  language: string;
  subject: string;
  body: string;
  isDefault: boolean;
  variables: string[];
};

function TemplatesPanel() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }, refetch] = useQuery({ query: TemplatesQuery, variables: { slug: shop.slug } });
  const [editing, setEditing] = useState<TemplateRow | null>(null);
  const templates = (data?.shop?.messageTemplates ?? []) as TemplateRow[];
  const order = (r: TemplateRow) => ENGAGEMENT_KINDS.indexOf(r.kind) * 10 + LANGUAGES.indexOf(r.language as 'en' | 'fa');
  const sorted = [...templates].sort((a, b) => order(a) - order(b));

  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;

  const label = (r: TemplateRow) => t('messages.templates.named', { kind: t(`messages.kinds.${r.kind}`), language: t(`messages.languages.${r.language}`) });

  return (
    <Stack>
      <Text size="sm" c="dimmed">
        {t('messages.templates.hint')}
      </Text>
      <Table.ScrollContainer minWidth={640}>
        <Table striped highlightOnHover verticalSpacing="xs" data-testid="templates-table">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('messages.templates.columns.kind')}</Table.Th>
              <Table.Th>{t('messages.templates.columns.language')}</Table.Th>
              <Table.Th>{t('messages.templates.columns.subject')}</Table.Th>
              <Table.Th>{t('messages.templates.columns.state')}</Table.Th>
              <Table.Th>
                <VisuallyHidden>{t('messages.templates.columns.actions')}</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {sorted.map((r) => (
              <Table.Tr key={`${r.kind}-${r.language}`} data-testid="template-row" data-kind={r.kind} data-language={r.language}>
                <Table.Td>{t(`messages.kinds.${r.kind}`)}</Table.Td>
                <Table.Td>{t(`messages.languages.${r.language}`)}</Table.Td>
                <Table.Td>
                  <Text size="sm" dir={dirOf(r.language)} lineClamp={1}>
                    {r.subject}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge variant="light" color={r.isDefault ? 'gray' : 'indigo'}>
                    {r.isDefault ? t('messages.templates.default') : t('messages.templates.custom')}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Button size="xs" variant="light" leftSection={<IconEdit size={14} />} onClick={() => setEditing(r)} aria-label={t('messages.templates.editNamed', { name: label(r) })}>
                    {t('common.edit')}
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <Modal opened={editing !== null} onClose={() => setEditing(null)} title={editing ? label(editing) : ''} size="xl">
        {editing ? (
          <TemplateEditor
            key={`${editing.kind}-${editing.language}`}
            template={editing}
            onDone={() => {
              setEditing(null);
              refetch({ requestPolicy: 'network-only' });
            }}
          />
        ) : null}
      </Modal>
    </Stack>
  );
}

const TEMPLATE_FIELDS = ['subject', 'body'];

/**
 * `text` with `token` put in place of its selection `[start, end)` (at the end when unknown),
 * and where the caret goes after it.
 */
export function insertAt(text: string, token: string, start?: number | null, end?: number | null): { text: string; caret: number } {
  const from = start ?? text.length;
  const to = end ?? from;
  return { text: text.slice(0, from) + token + text.slice(to), caret: from + token.length };
}

function TemplateEditor({ template, onDone }: { template: TemplateRow; onDone: () => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [saveState, save] = useMutation(TemplateSaveMutation);
  const [resetState, reset] = useMutation(TemplateResetMutation);
  const [previewState, preview] = useMutation(PreviewMutation);
  const [accountId, setAccountId] = useState('');
  const [rendered, setRendered] = useState<{ subject: string; body: string } | null>(null);
  const form = useForm({
    initialValues: { subject: template.subject, body: template.body },
    validate: {
      subject: (v) => (v.trim() ? null : t('common.required')),
      body: (v) => (v.trim() ? null : t('common.required')),
    },
  });
  const { general, send } = usePayloadSubmit(form, TEMPLATE_FIELDS);
  const subjectRef = useRef<HTMLInputElement>(null);
  const bodyRef = useRef<HTMLTextAreaElement>(null);
  const lastField = useRef<'subject' | 'body'>('body');
  const dir = dirOf(template.language);

  // The variable chips insert where the caret was in the field last focused.
  const focusing = (field: 'subject' | 'body') => {
    const props = form.getInputProps(field);
    return {
      ...props,
      onFocus: (e: FocusEvent) => {
        lastField.current = field;
        props.onFocus?.(e);
      },
    };
  };

  const input = () => ({ kind: template.kind, language: template.language, subject: form.values.subject, body: form.values.body });

  const insert = (name: string) => {
    const field = lastField.current;
    const el = field === 'subject' ? subjectRef.current : bodyRef.current;
    const { text, caret } = insertAt(form.values[field], `{{ ${name} }}`, el?.selectionStart, el?.selectionEnd);
    form.setFieldValue(field, text);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(caret, caret);
    });
  };

  const submit = form.onSubmit(async () => {
    const answer = await send(() => save({ shopId: shop.id, input: input() }), (data) => data.messageTemplateSave);
    if (!answer) return;
    notifySuccess(t('messages.templates.saved'));
    onDone();
  });

  const doPreview = async () => {
    setRendered(null);
    const answer = await send(
      () => preview({ shopId: shop.id, input: input(), accountId: accountId.trim() || null }),
      (data) => data.messagePreview,
    );
    if (answer?.payload?.preview) setRendered(answer.payload.preview);
  };

  const doReset = async () => {
    const answer = await send(
      () => reset({ shopId: shop.id, kind: template.kind, language: template.language }),
      (data) => data.messageTemplateReset,
    );
    if (!answer) return;
    notifySuccess(t('messages.templates.resetDone'));
    onDone();
  };

  return (
    <form onSubmit={submit} noValidate aria-label={t('messages.templates.formLabel')}>
      <Stack>
        <GeneralErrors messages={general} />
        <TextInput
          label={t('messages.fields.subject')}
          required
          dir={dir}
          maxLength={200}
          ref={subjectRef}
          {...focusing('subject')}
        />
        <Textarea
          label={t('messages.fields.body')}
          required
          dir={dir}
          rows={8}
          maxLength={5000}
          ref={bodyRef}
          {...focusing('body')}
        />
        <Input.Wrapper label={t('messages.templates.variables')} description={t('messages.templates.variablesHint')}>
          <Group gap={4} mt={4} data-testid="template-variables">
            {template.variables.map((v) => (
              <Button
                key={v}
                size="compact-xs"
                variant="light"
                radius="xl"
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => insert(v)}
                aria-label={t('messages.templates.insert', { name: v })}
              >
                {v}
              </Button>
            ))}
          </Group>
        </Input.Wrapper>
        <Group align="flex-end">
          <TextInput
            style={{ flex: 1 }}
            label={t('messages.templates.previewMember')}
            description={t('messages.templates.previewMemberHint')}
            value={accountId}
            onChange={(e) => setAccountId(e.currentTarget.value)}
          />
          <Button variant="default" onClick={doPreview} loading={previewState.fetching}>
            {t('messages.templates.preview')}
          </Button>
        </Group>
        {rendered ? (
          <Paper withBorder p="sm" data-testid="template-preview" aria-live="polite">
            <Text fw={600} dir={dir}>
              {rendered.subject}
            </Text>
            <Text size="sm" dir={dir} style={{ whiteSpace: 'pre-wrap' }}>
              {rendered.body}
            </Text>
          </Paper>
        ) : null}
        <Group justify="space-between">
          <Button variant="subtle" color="red" onClick={doReset} loading={resetState.fetching} disabled={template.isDefault}>
            {t('messages.templates.reset')}
          </Button>
          <Group>
            <Button variant="default" onClick={onDone}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={saveState.fetching}>
              {t('common.save')}
            </Button>
          </Group>
        </Group>
      </Stack>
    </form>
  );
}

type NumberValue = number | string;

interface ContactRulesValues {
  quietStart: string;
  quietEnd: string;
  weeklyCap: NumberValue;
  winBackDays: NumberValue;
  expiringDays: NumberValue;
  smsSender: string;
}

const RULE_FIELDS = ['quietStart', 'quietEnd', 'weeklyCap', 'winBackDays', 'expiringDays', 'smsSender'];

function ContactRulesPanel() {
  const shop = useConsoleShop();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ContactRulesQuery, variables: { slug: shop.slug } });
  const rules = data?.shop?.contactRules;
  if (fetching && !data) return <PageLoader />;
  if (error) return <ErrorAlert error={error} />;
  if (!rules) return null;
  return <ContactRulesForm rules={rules} onSaved={() => refetch({ requestPolicy: 'network-only' })} />;
}

function ContactRulesForm({
  rules,
  onSaved,
}: {
  rules: { quietStart: string; quietEnd: string; weeklyCap: number; winBackDays: number; expiringDays: number; smsSender: string };
  onSaved: () => void;
}) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [state, save] = useMutation(ContactRulesMutation);
  const form = useForm<ContactRulesValues>({
    initialValues: {
      quietStart: timeToInput(rules.quietStart) ?? '',
      quietEnd: timeToInput(rules.quietEnd) ?? '',
      weeklyCap: rules.weeklyCap,
      winBackDays: rules.winBackDays,
      expiringDays: rules.expiringDays,
      smsSender: rules.smsSender,
    },
    validate: {
      quietStart: (v) => (v ? null : t('common.required')),
      quietEnd: (v) => (v ? null : t('common.required')),
    },
  });
  const { general, send } = usePayloadSubmit(form, RULE_FIELDS);
  const submit = form.onSubmit(async (v) => {
    const input = {
      quietStart: inputToTime(v.quietStart)!,
      quietEnd: inputToTime(v.quietEnd)!,
      weeklyCap: toInt(v.weeklyCap) ?? rules.weeklyCap,
      winBackDays: toInt(v.winBackDays) ?? rules.winBackDays,
      expiringDays: toInt(v.expiringDays) ?? rules.expiringDays,
      smsSender: v.smsSender.trim(),
    };
    const answer = await send(() => save({ shopId: shop.id, input }), (data) => data.contactRulesSet);
    if (!answer) return;
    notifySuccess(t('messages.rules.saved'));
    onSaved();
  });
  return (
    <Paper withBorder p="md" component="section" aria-labelledby="contact-rules-title" data-testid="contact-rules">
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <Title order={4} id="contact-rules-title">
            {t('messages.rules.title')}
          </Title>
          <Text size="sm" c="dimmed">
            {t('messages.rules.hint')}
          </Text>
          <GeneralErrors messages={general} />
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
            <TimeInput label={t('messages.rules.quietStart')} description={t('messages.rules.quietHint')} {...form.getInputProps('quietStart')} />
            <TimeInput label={t('messages.rules.quietEnd')} description={t('messages.rules.quietEndHint')} {...form.getInputProps('quietEnd')} />
            <NumberInput label={t('messages.rules.weeklyCap')} description={t('messages.rules.weeklyCapHint')} min={1} max={50} allowDecimal={false} {...form.getInputProps('weeklyCap')} />
            <NumberInput label={t('messages.rules.winBackDays')} min={7} max={730} allowDecimal={false} {...form.getInputProps('winBackDays')} />
            <NumberInput label={t('messages.rules.expiringDays')} min={1} max={90} allowDecimal={false} {...form.getInputProps('expiringDays')} />
            <TextInput label={t('messages.rules.smsSender')} description={t('messages.rules.smsSenderHint')} maxLength={32} {...form.getInputProps('smsSender')} />
          </SimpleGrid>
          <Group justify="flex-end">
            <Button type="submit" loading={state.fetching}>
              {t('common.save')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}
