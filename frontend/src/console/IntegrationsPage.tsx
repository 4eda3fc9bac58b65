import { Fragment, useMemo, useState, type ReactNode } from 'react';
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Card,
  Code,
  CopyButton,
  Group,
  Modal,
  MultiSelect,
  SegmentedControl,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  Tooltip,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import {
  IconAlertTriangle,
  IconCheck,
  IconChevronDown,
  IconChevronRight,
  IconCopy,
  IconEye,
  IconEyeOff,
  IconKey,
  IconLock,
  IconPlayerPause,
  IconPlayerPlay,
  IconPlus,
  IconRotate,
  IconSend,
  IconTrash,
  IconWebhook,
} from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type {
  ConsoleApiKeyFieldsFragment as ApiKeyRow,
  ConsoleWebhookEndpointFieldsFragment as EndpointRow,
} from '../gql/graphql';
import { formatDate, formatDateTime, formatNumber } from '../lib/format';
import {
  ConfirmDialog,
  EmptyPanel,
  ErrorAlert,
  errorCode,
  GeneralErrors,
  mutationErrorMessage,
  notifySuccess,
  PageHeader,
  PageLoader,
  ShopDateTimePicker,
  splitPayloadErrors,
  type PayloadError,
  useConsoleShop,
  usePayloadSubmit,
} from './shared';
import { localToIso } from './time';

/** The API key fields the page shows. */
export const ConsoleApiKeyFieldsFragment = graphql(`
  fragment ConsoleApiKeyFields on ApiKey {
    id
    name
    prefix
    scopes
    rateLimit
    createdAt
    expiresAt
    lastUsedAt
    revokedAt
    isActive
  }
`);

/** The webhook endpoint fields the page shows, with its latest 20 deliveries. */
export const ConsoleWebhookEndpointFieldsFragment = graphql(`
  fragment ConsoleWebhookEndpointFields on WebhookEndpoint {
    id
    url
    description
    isActive
    disabledAt
    disabledReason
    failingSince
    createdAt
    secret
    previousSecretExpiresAt
    eventTypes
    deliveries(first: 20) {
      id
      status
      attempts
      nextAttemptAt
      lastStatusCode
      lastAttemptAt
      createdAt
      event {
        id
        type
        occurredAt
      }
      log {
        attemptedAt
        statusCode
        latencyMs
        error
        responseExcerpt
      }
    }
  }
`);

const ApiKeysQuery = graphql(`
  query ConsoleApiKeys($slug: String!) {
    shop(slug: $slug) {
      id
      apiKeyScopes
      apiKeys {
        ...ConsoleApiKeyFields
      }
    }
  }
`);

const WebhooksQuery = graphql(`
  query ConsoleWebhooks($slug: String!) {
    shop(slug: $slug) {
      id
      webhookEventTypes
      webhookEndpoints {
        ...ConsoleWebhookEndpointFields
      }
    }
  }
`);

const ApiKeyCreateMutation = graphql(`
  mutation ConsoleApiKeyCreate($input: ApiKeyCreateInput!) {
    apiKeyCreate(input: $input) {
      issued {
        apiKey {
          ...ConsoleApiKeyFields
        }
        key
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const ApiKeyRotateMutation = graphql(`
  mutation ConsoleApiKeyRotate($id: ID!, $overlapSeconds: Int!) {
    apiKeyRotate(id: $id, overlapSeconds: $overlapSeconds) {
      issued {
        apiKey {
          ...ConsoleApiKeyFields
        }
        key
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const ApiKeyRevokeMutation = graphql(`
  mutation ConsoleApiKeyRevoke($id: ID!) {
    apiKeyRevoke(id: $id) {
      apiKey {
        ...ConsoleApiKeyFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const WebhookCreateMutation = graphql(`
  mutation ConsoleWebhookEndpointCreate($input: WebhookEndpointCreateInput!) {
    webhookEndpointCreate(input: $input) {
      endpoint {
        ...ConsoleWebhookEndpointFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const WebhookUpdateMutation = graphql(`
  mutation ConsoleWebhookEndpointUpdate($id: ID!, $input: WebhookEndpointUpdateInput!) {
    webhookEndpointUpdate(id: $id, input: $input) {
      endpoint {
        ...ConsoleWebhookEndpointFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const WebhookSecretRotateMutation = graphql(`
  mutation ConsoleWebhookSecretRotate($id: ID!, $overlapSeconds: Int!) {
    webhookSecretRotate(id: $id, overlapSeconds: $overlapSeconds) {
      endpoint {
        ...ConsoleWebhookEndpointFields
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const WebhookDeleteMutation = graphql(`
  mutation ConsoleWebhookEndpointDelete($id: ID!) {
    webhookEndpointDelete(id: $id) {
      deletedId
      errors {
        field
        code
        message
      }
    }
  }
`);

const WebhookRedeliverMutation = graphql(`
  mutation ConsoleWebhookRedeliver($id: ID!) {
    webhookRedeliver(id: $id) {
      delivery {
        id
        status
        attempts
        nextAttemptAt
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

type DeliveryRow = EndpointRow['deliveries'][number];

/** How long the old key or secret keeps working after a rotation. */
const OVERLAPS = [
  { key: 'none', seconds: 0 },
  { key: 'hour', seconds: 3600 },
  { key: 'day', seconds: 86400 },
] as const;
type OverlapKey = (typeof OVERLAPS)[number]['key'];

/** Where an API key stands: revoked (by the owner or a rotation without overlap), expired or active. */
export type ApiKeyState = 'active' | 'revoked' | 'expired';

/** The key's state at `now`. */
export function apiKeyState(k: Pick<ApiKeyRow, 'revokedAt' | 'expiresAt' | 'isActive'>, now = new Date()): ApiKeyState {
  if (k.revokedAt) return 'revoked';
  if (k.expiresAt && new Date(k.expiresAt) <= now) return 'expired';
  return k.isActive ? 'active' : 'expired';
}

const KEY_STATE_COLORS: Record<ApiKeyState, string> = { active: 'green', revoked: 'gray', expired: 'orange' };

/** Where an endpoint stands: active, paused by the owner, or disabled after failing. */
export type EndpointState = 'active' | 'paused' | 'disabled';

/** The endpoint's state. */
export function endpointState(e: Pick<EndpointRow, 'isActive' | 'disabledAt'>): EndpointState {
  if (e.isActive) return 'active';
  return e.disabledAt ? 'disabled' : 'paused';
}

const ENDPOINT_STATE_COLORS: Record<EndpointState, string> = { active: 'green', paused: 'gray', disabled: 'red' };
const DELIVERY_COLORS: Record<DeliveryRow['status'], string> = { PENDING: 'yellow', SUCCEEDED: 'green', FAILED: 'red' };

/** The visible part of a key as the API prints it: `ptn_<prefix>_…`. */
export function keyDisplay(prefix: string): string {
  return `ptn_${prefix}_…`;
}

/**
 * The messages of a failed action without a form (revoke, pause, delete, redeliver): the
 * GraphQL error (its code translated) or the payload's coded errors.
 */
function actionErrors(
  error: CombinedError | undefined,
  payloadErrors: readonly PayloadError[] | undefined,
  codeLabel: (code: string) => string,
): string[] {
  if (error) {
    const code = errorCode(error);
    const message = mutationErrorMessage(error);
    return [code ? `${codeLabel(code)} — ${message}` : message];
  }
  // No form: every coded error, on a field or not, is a message of its own.
  return splitPayloadErrors(payloadErrors, []).general;
}

/**
 * The shop's integrations, for its owner only: API keys (create, rotate, revoke; the full key
 * is shown once) and webhook endpoints (add, pause, re-enable, rotate the secret, delete) with
 * their delivery log and redelivery.
 */
export function IntegrationsPage() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  if (shop.role !== 'OWNER') {
    return (
      <Alert color="yellow" icon={<IconLock size={18} />} title={t('integrations.ownersOnlyTitle')} data-testid="console-forbidden">
        {t('integrations.ownersOnly')}
      </Alert>
    );
  }
  return (
    <Stack gap="xl">
      <PageHeader title={t('integrations.title')} hint={t('integrations.hint')} />
      <ApiKeysSection />
      <WebhooksSection />
    </Stack>
  );
}

/** A section's heading with its icon, hint and action. */
function SectionHeader({ icon, title, hint, children }: { icon: ReactNode; title: string; hint: string; children?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-end">
      <div>
        <Group gap="xs">
          {icon}
          <Title order={3}>{title}</Title>
        </Group>
        <Text size="sm" c="dimmed">
          {hint}
        </Text>
      </div>
      {children}
    </Group>
  );
}

/** A value to copy, with a button that says when it was copied. */
function CopyAction({ value, label }: { value: string; label: string }) {
  const { t } = useTranslation('console');
  return (
    <CopyButton value={value} timeout={1500}>
      {({ copied, copy }) => (
        <Tooltip label={copied ? t('integrations.copied') : label} withArrow>
          <ActionIcon variant="subtle" color={copied ? 'teal' : 'gray'} onClick={copy} aria-label={label}>
            {copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
          </ActionIcon>
        </Tooltip>
      )}
    </CopyButton>
  );
}

/** Overlap choice of a rotation. */
function OverlapChoice({ value, onChange }: { value: OverlapKey; onChange: (value: OverlapKey) => void }) {
  const { t } = useTranslation('console');
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500} id="integrations-overlap-label">
        {t('integrations.overlap.label')}
      </Text>
      <SegmentedControl
        aria-labelledby="integrations-overlap-label"
        value={value}
        onChange={(v) => onChange(v as OverlapKey)}
        data={OVERLAPS.map((o) => ({ value: o.key, label: t(`integrations.overlap.${o.key}`) }))}
        style={{ alignSelf: 'flex-start' }}
      />
    </Stack>
  );
}

/** A rotation's question: how long the old key or secret keeps working. */
function RotateDialog(props: {
  opened: boolean;
  title: string;
  message: string;
  confirmLabel: string;
  defaultOverlap: OverlapKey;
  loading: boolean;
  errors: string[];
  onConfirm: (overlapSeconds: number) => void;
  onClose: () => void;
}) {
  const { t } = useTranslation('console');
  const [overlap, setOverlap] = useState<OverlapKey>(props.defaultOverlap);
  const seconds = OVERLAPS.find((o) => o.key === overlap)?.seconds ?? 0;
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={props.title} centered>
      <Stack>
        <GeneralErrors messages={props.errors} />
        <Text size="sm">{props.message}</Text>
        <OverlapChoice value={overlap} onChange={setOverlap} />
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            {t('common.cancel')}
          </Button>
          <Button leftSection={<IconRotate size={16} />} onClick={() => props.onConfirm(seconds)} loading={props.loading}>
            {props.confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** The full key of a key just created or rotated, shown this once. */
function IssuedKeyModal({ issued, onClose }: { issued: { name: string; key: string } | null; onClose: () => void }) {
  const { t } = useTranslation('console');
  return (
    <Modal
      opened={issued !== null}
      onClose={onClose}
      title={t('integrations.keys.issuedTitle')}
      centered
      size="lg"
      closeOnClickOutside={false}
    >
      {issued ? (
        <Stack>
          <Alert color="orange" icon={<IconAlertTriangle size={18} />} data-testid="api-key-warning">
            {t('integrations.keys.issuedWarning')}
          </Alert>
          <Text size="sm" fw={500}>
            {t('integrations.keys.issuedFor', { name: issued.name })}
          </Text>
          <Group wrap="nowrap" gap="xs" align="center">
            <Code block style={{ flex: 1, wordBreak: 'break-all', whiteSpace: 'pre-wrap' }} dir="ltr" data-testid="api-key-secret" data-value={issued.key}>
              {issued.key}
            </Code>
            <CopyButton value={issued.key} timeout={2000}>
              {({ copied, copy }) => (
                <Button
                  variant={copied ? 'light' : 'filled'}
                  color={copied ? 'teal' : undefined}
                  leftSection={copied ? <IconCheck size={16} /> : <IconCopy size={16} />}
                  onClick={copy}
                >
                  {copied ? t('integrations.copied') : t('integrations.keys.copyKey')}
                </Button>
              )}
            </CopyButton>
          </Group>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {t('integrations.done')}
            </Button>
          </Group>
        </Stack>
      ) : null}
    </Modal>
  );
}

function ApiKeysSection() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }, refetch] = useQuery({ query: ApiKeysQuery, variables: { slug: shop.slug } });
  const [adding, setAdding] = useState(false);
  const [issued, setIssued] = useState<{ name: string; key: string } | null>(null);
  const [rotating, setRotating] = useState<ApiKeyRow | null>(null);
  const [rotateErrors, setRotateErrors] = useState<string[]>([]);
  const [revoking, setRevoking] = useState<ApiKeyRow | null>(null);
  const [actionError, setActionError] = useState<string[]>([]);
  const [rotateState, rotate] = useMutation(ApiKeyRotateMutation);
  const [revokeState, revoke] = useMutation(ApiKeyRevokeMutation);
  const codeLabel = (code: string) => t(`errorCodes.${code}`, { defaultValue: code });
  const keys = useMemo(() => data?.shop?.apiKeys ?? [], [data]);
  const scopes = data?.shop?.apiKeyScopes ?? [];
  const reload = () => refetch({ requestPolicy: 'network-only' });

  const doRotate = async (overlapSeconds: number) => {
    if (!rotating) return;
    const r = await rotate({ id: rotating.id, overlapSeconds });
    const errs = actionErrors(r.error, r.data?.apiKeyRotate.errors, codeLabel);
    setRotateErrors(errs);
    const next = r.data?.apiKeyRotate.issued;
    if (errs.length === 0 && next) {
      setRotating(null);
      setIssued({ name: next.apiKey.name, key: next.key });
      reload();
    }
  };

  const doRevoke = async () => {
    if (!revoking) return;
    const r = await revoke({ id: revoking.id });
    const errs = actionErrors(r.error, r.data?.apiKeyRevoke.errors, codeLabel);
    setActionError(errs);
    if (errs.length === 0) notifySuccess(t('integrations.keys.revoked', { name: revoking.name }));
    setRevoking(null);
    reload();
  };

  const body = () => {
    if (fetching && !data) return <PageLoader />;
    if (error) return <ErrorAlert error={error} />;
    if (keys.length === 0) return <EmptyPanel title={t('integrations.keys.empty')} description={t('integrations.keys.emptyHint')} />;
    return (
      <Table.ScrollContainer minWidth={860}>
        <Table verticalSpacing="xs" striped highlightOnHover aria-label={t('integrations.keys.title')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('integrations.keys.columns.name')}</Table.Th>
              <Table.Th>{t('integrations.keys.columns.prefix')}</Table.Th>
              <Table.Th>{t('integrations.keys.columns.scopes')}</Table.Th>
              <Table.Th>{t('integrations.keys.columns.created')}</Table.Th>
              <Table.Th>{t('integrations.keys.columns.expires')}</Table.Th>
              <Table.Th>{t('integrations.keys.columns.lastUsed')}</Table.Th>
              <Table.Th>{t('integrations.keys.columns.status')}</Table.Th>
              <Table.Th>{t('integrations.keys.columns.actions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {keys.map((k) => {
              const state = apiKeyState(k);
              return (
                <Table.Tr key={k.id} data-testid="api-key-row" data-key-name={k.name} data-state={state}>
                  <Table.Td>
                    <Text size="sm" fw={500}>
                      {k.name}
                    </Text>
                    {k.rateLimit ? (
                      <Text size="xs" c="dimmed">
                        {t('integrations.keys.rateLine', { rate: k.rateLimit })}
                      </Text>
                    ) : null}
                  </Table.Td>
                  <Table.Td>
                    <Code dir="ltr" data-testid="api-key-prefix">
                      {keyDisplay(k.prefix)}
                    </Code>
                  </Table.Td>
                  <Table.Td>
                    <Group gap={4}>
                      {k.scopes.map((s) => (
                        <Badge key={s} size="sm" variant="light" tt="none">
                          {s}
                        </Badge>
                      ))}
                    </Group>
                  </Table.Td>
                  <Table.Td>{formatDate(k.createdAt)}</Table.Td>
                  <Table.Td>{k.expiresAt ? formatDateTime(k.expiresAt) : t('integrations.never')}</Table.Td>
                  <Table.Td>{k.lastUsedAt ? formatDateTime(k.lastUsedAt) : t('integrations.never')}</Table.Td>
                  <Table.Td>
                    <Badge size="sm" variant="dot" color={KEY_STATE_COLORS[state]} data-testid="api-key-status">
                      {t(`integrations.keys.status.${state}`)}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {state === 'active' ? (
                      <Group gap={4} wrap="nowrap">
                        <Button
                          size="xs"
                          variant="light"
                          leftSection={<IconRotate size={14} />}
                          aria-label={t('integrations.keys.rotateNamed', { name: k.name })}
                          onClick={() => {
                            setRotateErrors([]);
                            setRotating(k);
                          }}
                        >
                          {t('integrations.keys.rotate')}
                        </Button>
                        <Button
                          size="xs"
                          variant="subtle"
                          color="red"
                          leftSection={<IconTrash size={14} />}
                          aria-label={t('integrations.keys.revokeNamed', { name: k.name })}
                          onClick={() => {
                            setActionError([]);
                            setRevoking(k);
                          }}
                        >
                          {t('integrations.keys.revoke')}
                        </Button>
                      </Group>
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    );
  };

  return (
    <Stack component="section" aria-label={t('integrations.keys.title')} data-testid="api-keys-section">
      <SectionHeader icon={<IconKey size={20} />} title={t('integrations.keys.title')} hint={t('integrations.keys.hint')}>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)} disabled={!data?.shop}>
          {t('integrations.keys.add')}
        </Button>
      </SectionHeader>
      <GeneralErrors messages={actionError} />
      {body()}
      <Modal opened={adding} onClose={() => setAdding(false)} title={t('integrations.keys.add')} size="lg">
        {adding ? (
          <ApiKeyForm
            scopes={scopes}
            onIssued={(next) => {
              setAdding(false);
              setIssued(next);
              reload();
            }}
          />
        ) : null}
      </Modal>
      <IssuedKeyModal issued={issued} onClose={() => setIssued(null)} />
      {rotating ? (
        <RotateDialog
          opened
          title={t('integrations.keys.rotateTitle')}
          message={t('integrations.keys.rotateMessage', { name: rotating.name })}
          confirmLabel={t('integrations.keys.rotate')}
          defaultOverlap="hour"
          loading={rotateState.fetching}
          errors={rotateErrors}
          onConfirm={(seconds) => void doRotate(seconds)}
          onClose={() => setRotating(null)}
        />
      ) : null}
      <ConfirmDialog
        opened={revoking !== null}
        title={t('integrations.keys.revokeTitle')}
        message={t('integrations.keys.revokeConfirm', { name: revoking?.name ?? '' })}
        confirmLabel={t('integrations.keys.revoke')}
        loading={revokeState.fetching}
        onConfirm={() => void doRevoke()}
        onClose={() => setRevoking(null)}
      />
    </Stack>
  );
}

interface ApiKeyValues {
  name: string;
  scopes: string[];
  expiresAt: string | null;
  rateLimit: string;
}

const KEY_FIELDS = ['name', 'scopes', 'expiresAt', 'rateLimit'];

function ApiKeyForm({ scopes, onIssued }: { scopes: readonly string[]; onIssued: (issued: { name: string; key: string }) => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [createState, create] = useMutation(ApiKeyCreateMutation);
  const form = useForm<ApiKeyValues>({
    initialValues: { name: '', scopes: [], expiresAt: null, rateLimit: '' },
    validate: {
      name: (v) => (v.trim() ? null : t('common.required')),
      scopes: (v) => (v.length > 0 ? null : t('common.required')),
    },
  });
  const { general, send } = usePayloadSubmit(form, KEY_FIELDS);

  const submit = form.onSubmit(async (values) => {
    const input = {
      shopId: shop.id,
      name: values.name.trim(),
      scopes: values.scopes,
      expiresAt: localToIso(values.expiresAt, shop.timezone),
      rateLimit: values.rateLimit.trim(),
    };
    const answer = await send(
      () => create({ input }),
      (data) => data.apiKeyCreate,
    );
    const issued = answer?.payload?.issued;
    if (!issued) return;
    onIssued({ name: issued.apiKey.name, key: issued.key });
  });

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <GeneralErrors messages={general} />
        <TextInput label={t('integrations.keys.fields.name')} description={t('integrations.keys.fields.nameHint')} required data-autofocus {...form.getInputProps('name')} />
        <MultiSelect
          label={t('integrations.keys.fields.scopes')}
          description={t('integrations.keys.fields.scopesHint')}
          required
          data={scopes.map((s) => ({ value: s, label: s }))}
          searchable
          clearable
          {...form.getInputProps('scopes')}
        />
        <ShopDateTimePicker
          label={t('integrations.keys.fields.expiresAt')}
          placeholder={t('integrations.keys.fields.expiresPlaceholder')}
          minDate={new Date()}
          {...form.getInputProps('expiresAt')}
        />
        <TextInput
          label={t('integrations.keys.fields.rateLimit')}
          description={t('integrations.keys.fields.rateLimitHint')}
          placeholder="600/minute"
          dir="ltr"
          {...form.getInputProps('rateLimit')}
        />
        <Group justify="flex-end">
          <Button type="submit" leftSection={<IconKey size={16} />} loading={createState.fetching}>
            {t('integrations.keys.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function WebhooksSection() {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [{ data, fetching, error }, refetch] = useQuery({ query: WebhooksQuery, variables: { slug: shop.slug } });
  const [adding, setAdding] = useState(false);
  const endpoints = useMemo(() => data?.shop?.webhookEndpoints ?? [], [data]);
  const eventTypes = data?.shop?.webhookEventTypes ?? [];
  const disabled = endpoints.filter((e) => endpointState(e) === 'disabled');
  const reload = () => refetch({ requestPolicy: 'network-only' });

  const body = () => {
    if (fetching && !data) return <PageLoader />;
    if (error) return <ErrorAlert error={error} />;
    if (endpoints.length === 0) return <EmptyPanel title={t('integrations.webhooks.empty')} description={t('integrations.webhooks.emptyHint')} />;
    return endpoints.map((e) => <EndpointCard key={e.id} endpoint={e} onChanged={reload} />);
  };

  return (
    <Stack component="section" aria-label={t('integrations.webhooks.title')} data-testid="webhooks-section">
      <SectionHeader icon={<IconWebhook size={20} />} title={t('integrations.webhooks.title')} hint={t('integrations.webhooks.hint')}>
        <Button leftSection={<IconPlus size={16} />} onClick={() => setAdding(true)} disabled={!data?.shop}>
          {t('integrations.webhooks.add')}
        </Button>
      </SectionHeader>
      {disabled.map((e) => (
        <Alert
          key={e.id}
          color="red"
          icon={<IconAlertTriangle size={18} />}
          title={t('integrations.webhooks.disabledAlertTitle')}
          role="alert"
          data-testid="webhook-disabled-alert"
        >
          {t('integrations.webhooks.disabledAlert', { url: e.url, reason: e.disabledReason || t('integrations.webhooks.noReason') })}
        </Alert>
      ))}
      {body()}
      <Modal opened={adding} onClose={() => setAdding(false)} title={t('integrations.webhooks.add')} size="lg">
        {adding ? (
          <EndpointForm
            eventTypes={eventTypes}
            onCreated={(url) => {
              setAdding(false);
              notifySuccess(t('integrations.webhooks.created', { url }));
              reload();
            }}
          />
        ) : null}
      </Modal>
    </Stack>
  );
}

interface EndpointValues {
  url: string;
  eventTypes: string[];
  description: string;
}

const ENDPOINT_FIELDS = ['url', 'eventTypes', 'description'];

function EndpointForm({ eventTypes, onCreated }: { eventTypes: readonly string[]; onCreated: (url: string) => void }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  const [createState, create] = useMutation(WebhookCreateMutation);
  const form = useForm<EndpointValues>({
    initialValues: { url: '', eventTypes: [], description: '' },
    validate: {
      url: (v) => (v.trim() ? null : t('common.required')),
      eventTypes: (v) => (v.length > 0 ? null : t('common.required')),
    },
  });
  const { general, send } = usePayloadSubmit(form, ENDPOINT_FIELDS);

  const submit = form.onSubmit(async (values) => {
    const input = { shopId: shop.id, url: values.url.trim(), eventTypes: values.eventTypes, description: values.description.trim() };
    const answer = await send(
      () => create({ input }),
      (data) => data.webhookEndpointCreate,
    );
    if (!answer) return;
    onCreated(input.url);
  });

  return (
    <form onSubmit={submit} noValidate>
      <Stack>
        <GeneralErrors messages={general} />
        <TextInput
          label={t('integrations.webhooks.fields.url')}
          description={t('integrations.webhooks.fields.urlHint')}
          placeholder="https://"
          type="url"
          dir="ltr"
          required
          data-autofocus
          {...form.getInputProps('url')}
        />
        <MultiSelect
          label={t('integrations.webhooks.fields.eventTypes')}
          description={t('integrations.webhooks.fields.eventTypesHint')}
          required
          data={eventTypes.map((s) => ({ value: s, label: s }))}
          searchable
          clearable
          {...form.getInputProps('eventTypes')}
        />
        <TextInput label={t('integrations.webhooks.fields.description')} {...form.getInputProps('description')} />
        <Group justify="flex-end">
          <Button type="submit" leftSection={<IconWebhook size={16} />} loading={createState.fetching}>
            {t('integrations.webhooks.create')}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function EndpointCard({ endpoint: e, onChanged }: { endpoint: EndpointRow; onChanged: () => void }) {
  const { t } = useTranslation('console');
  const [revealed, setRevealed] = useState(false);
  const [rotating, setRotating] = useState(false);
  const [rotateErrors, setRotateErrors] = useState<string[]>([]);
  const [deleting, setDeleting] = useState(false);
  const [actionError, setActionError] = useState<string[]>([]);
  const [updateState, update] = useMutation(WebhookUpdateMutation);
  const [rotateState, rotate] = useMutation(WebhookSecretRotateMutation);
  const [deleteState, remove] = useMutation(WebhookDeleteMutation);
  const codeLabel = (code: string) => t(`errorCodes.${code}`, { defaultValue: code });
  const state = endpointState(e);

  const setActive = async (isActive: boolean) => {
    setActionError([]);
    const r = await update({ id: e.id, input: { isActive } });
    const errs = actionErrors(r.error, r.data?.webhookEndpointUpdate.errors, codeLabel);
    setActionError(errs);
    if (errs.length === 0) {
      notifySuccess(t(isActive ? 'integrations.webhooks.resumed' : 'integrations.webhooks.paused', { url: e.url }));
      onChanged();
    }
  };

  const doRotate = async (overlapSeconds: number) => {
    const r = await rotate({ id: e.id, overlapSeconds });
    const errs = actionErrors(r.error, r.data?.webhookSecretRotate.errors, codeLabel);
    setRotateErrors(errs);
    if (errs.length === 0) {
      setRotating(false);
      notifySuccess(t('integrations.webhooks.rotated', { url: e.url }));
      onChanged();
    }
  };

  const doDelete = async () => {
    const r = await remove({ id: e.id });
    const errs = actionErrors(r.error, r.data?.webhookEndpointDelete.errors, codeLabel);
    setActionError(errs);
    setDeleting(false);
    if (errs.length === 0) notifySuccess(t('integrations.webhooks.deleted', { url: e.url }));
    onChanged();
  };

  const hiddenSecret = `${e.secret.split('_')[0] || 'whsec'}_${'•'.repeat(16)}`;

  return (
    <Card withBorder data-testid="webhook-endpoint" data-url={e.url} data-state={state}>
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="nowrap">
          <div style={{ minWidth: 0 }}>
            <Text fw={600} dir="ltr" style={{ wordBreak: 'break-all' }}>
              {e.url}
            </Text>
            {e.description ? (
              <Text size="sm" c="dimmed">
                {e.description}
              </Text>
            ) : null}
          </div>
          <Badge color={ENDPOINT_STATE_COLORS[state]} variant="light" data-testid="webhook-status" style={{ flexShrink: 0 }}>
            {t(`integrations.webhooks.status.${state}`)}
          </Badge>
        </Group>
        {state === 'disabled' && e.disabledAt ? (
          <Text size="sm" c="red">
            {t('integrations.webhooks.disabledSince', {
              date: formatDateTime(e.disabledAt),
              reason: e.disabledReason || t('integrations.webhooks.noReason'),
            })}
          </Text>
        ) : null}
        {e.failingSince ? (
          <Text size="sm" c="orange" data-testid="webhook-failing-since">
            {t('integrations.webhooks.failingSince', { date: formatDateTime(e.failingSince) })}
          </Text>
        ) : null}
        <Group gap={4}>
          <Text size="sm" c="dimmed">
            {t('integrations.webhooks.eventTypes')}:
          </Text>
          {e.eventTypes.map((type) => (
            <Badge key={type} size="sm" variant="outline" tt="none">
              {type}
            </Badge>
          ))}
        </Group>
        <Group gap="xs" wrap="nowrap" align="center">
          <Text size="sm" c="dimmed" style={{ flexShrink: 0 }}>
            {t('integrations.webhooks.secret')}:
          </Text>
          <Code dir="ltr" data-testid="webhook-secret" style={{ wordBreak: 'break-all' }}>
            {revealed ? e.secret : hiddenSecret}
          </Code>
          <Tooltip label={revealed ? t('integrations.webhooks.hideSecret') : t('integrations.webhooks.revealSecret')} withArrow>
            <ActionIcon
              variant="subtle"
              color="gray"
              onClick={() => setRevealed((v) => !v)}
              aria-label={revealed ? t('integrations.webhooks.hideSecret') : t('integrations.webhooks.revealSecret')}
              aria-pressed={revealed}
            >
              {revealed ? <IconEyeOff size={16} /> : <IconEye size={16} />}
            </ActionIcon>
          </Tooltip>
          <CopyAction value={e.secret} label={t('integrations.webhooks.copySecret')} />
        </Group>
        {e.previousSecretExpiresAt && new Date(e.previousSecretExpiresAt) > new Date() ? (
          <Text size="xs" c="dimmed">
            {t('integrations.webhooks.previousSecret', { date: formatDateTime(e.previousSecretExpiresAt) })}
          </Text>
        ) : null}
        <GeneralErrors messages={actionError} />
        <Group gap="xs" role="group" aria-label={t('integrations.webhooks.actionsFor', { url: e.url })}>
          {state === 'active' ? (
            <Button size="xs" variant="light" color="gray" leftSection={<IconPlayerPause size={14} />} loading={updateState.fetching} onClick={() => void setActive(false)}>
              {t('integrations.webhooks.pause')}
            </Button>
          ) : (
            <Button size="xs" variant="light" leftSection={<IconPlayerPlay size={14} />} loading={updateState.fetching} onClick={() => void setActive(true)}>
              {state === 'disabled' ? t('integrations.webhooks.reenable') : t('integrations.webhooks.resume')}
            </Button>
          )}
          <Button
            size="xs"
            variant="light"
            leftSection={<IconRotate size={14} />}
            onClick={() => {
              setRotateErrors([]);
              setRotating(true);
            }}
          >
            {t('integrations.webhooks.rotateSecret')}
          </Button>
          <Button
            size="xs"
            variant="subtle"
            color="red"
            leftSection={<IconTrash size={14} />}
            onClick={() => {
              setActionError([]);
              setDeleting(true);
            }}
          >
            {t('integrations.webhooks.delete')}
          </Button>
        </Group>
        <DeliveryLog deliveries={e.deliveries} onChanged={onChanged} />
      </Stack>
      {rotating ? (
        <RotateDialog
          opened
          title={t('integrations.webhooks.rotateTitle')}
          message={t('integrations.webhooks.rotateMessage', { url: e.url })}
          confirmLabel={t('integrations.webhooks.rotateSecret')}
          defaultOverlap="day"
          loading={rotateState.fetching}
          errors={rotateErrors}
          onConfirm={(seconds) => void doRotate(seconds)}
          onClose={() => setRotating(false)}
        />
      ) : null}
      <ConfirmDialog
        opened={deleting}
        title={t('integrations.webhooks.deleteTitle')}
        message={t('integrations.webhooks.deleteConfirm', { url: e.url })}
        confirmLabel={t('integrations.webhooks.delete')}
        loading={deleteState.fetching}
        onConfirm={() => void doDelete()}
        onClose={() => setDeleting(false)}
      />
    </Card>
  );
}

function DeliveryLog({ deliveries, onChanged }: { deliveries: readonly DeliveryRow[]; onChanged: () => void }) {
  const { t } = useTranslation('console');
  const [open, setOpen] = useState<Set<string>>(new Set());
  const [sending, setSending] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string[]>([]);
  const [, redeliver] = useMutation(WebhookRedeliverMutation);
  const codeLabel = (code: string) => t(`errorCodes.${code}`, { defaultValue: code });

  const toggle = (id: string) =>
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(id)) next.delete(id);
      else next.add(id);
      return next;
    });

  const doRedeliver = async (d: DeliveryRow) => {
    setActionError([]);
    setSending(d.id);
    const r = await redeliver({ id: d.id });
    setSending(null);
    const errs = actionErrors(r.error, r.data?.webhookRedeliver.errors, codeLabel);
    setActionError(errs);
    if (errs.length === 0) {
      notifySuccess(t('integrations.webhooks.redelivered', { id: d.event.id }));
      onChanged();
    }
  };

  return (
    <Stack gap="xs">
      <div>
        <Text fw={500} size="sm">
          {t('integrations.webhooks.deliveries')}
        </Text>
        <Text size="xs" c="dimmed">
          {t('integrations.webhooks.deliveriesHint')}
        </Text>
      </div>
      <GeneralErrors messages={actionError} />
      {deliveries.length === 0 ? (
        <Text size="sm" c="dimmed">
          {t('integrations.webhooks.noDeliveries')}
        </Text>
      ) : (
        <Table.ScrollContainer minWidth={760}>
          <Table verticalSpacing={4} fz="sm" aria-label={t('integrations.webhooks.deliveries')}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>{t('integrations.webhooks.columns.eventType')}</Table.Th>
                <Table.Th>{t('integrations.webhooks.columns.eventId')}</Table.Th>
                <Table.Th>{t('integrations.webhooks.columns.status')}</Table.Th>
                <Table.Th>{t('integrations.webhooks.columns.attempts')}</Table.Th>
                <Table.Th>{t('integrations.webhooks.columns.lastStatusCode')}</Table.Th>
                <Table.Th>{t('integrations.webhooks.columns.nextAttempt')}</Table.Th>
                <Table.Th>{t('integrations.webhooks.columns.actions')}</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {deliveries.map((d) => {
                const expanded = open.has(d.id);
                return (
                  <Fragment key={d.id}>
                    <Table.Tr data-testid="webhook-delivery" data-delivery-id={d.id} data-status={d.status}>
                      <Table.Td>
                        <Code>{d.event.type}</Code>
                      </Table.Td>
                      <Table.Td>
                        <Code dir="ltr">{d.event.id}</Code>
                      </Table.Td>
                      <Table.Td>
                        <Badge size="sm" variant="light" color={DELIVERY_COLORS[d.status]}>
                          {t(`integrations.webhooks.deliveryStatus.${d.status}`)}
                        </Badge>
                      </Table.Td>
                      <Table.Td>{formatNumber(d.attempts, 0)}</Table.Td>
                      <Table.Td>{d.lastStatusCode != null ? d.lastStatusCode : '—'}</Table.Td>
                      <Table.Td>{d.nextAttemptAt ? formatDateTime(d.nextAttemptAt) : '—'}</Table.Td>
                      <Table.Td>
                        <Group gap={4} wrap="nowrap">
                          <Button
                            size="compact-xs"
                            variant="subtle"
                            leftSection={expanded ? <IconChevronDown size={12} /> : <IconChevronRight size={12} />}
                            aria-expanded={expanded}
                            aria-label={t('integrations.webhooks.showAttemptsFor', { id: d.event.id })}
                            onClick={() => toggle(d.id)}
                          >
                            {t('integrations.webhooks.showAttempts')}
                          </Button>
                          <Button
                            size="compact-xs"
                            variant="light"
                            leftSection={<IconSend size={12} />}
                            loading={sending === d.id}
                            aria-label={t('integrations.webhooks.redeliverFor', { id: d.event.id })}
                            onClick={() => void doRedeliver(d)}
                          >
                            {t('integrations.webhooks.redeliver')}
                          </Button>
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                    {expanded ? (
                      <Table.Tr data-testid="webhook-attempts">
                        <Table.Td colSpan={7} bg="var(--mantine-color-default-hover)">
                          {d.log.length === 0 ? (
                            <Text size="xs" c="dimmed">
                              {t('integrations.webhooks.log.empty')}
                            </Text>
                          ) : (
                            <Table fz="xs" verticalSpacing={2} aria-label={t('integrations.webhooks.showAttemptsFor', { id: d.event.id })}>
                              <Table.Thead>
                                <Table.Tr>
                                  <Table.Th>{t('integrations.webhooks.log.attemptedAt')}</Table.Th>
                                  <Table.Th>{t('integrations.webhooks.log.statusCode')}</Table.Th>
                                  <Table.Th>{t('integrations.webhooks.log.latencyMs')}</Table.Th>
                                  <Table.Th>{t('integrations.webhooks.log.error')}</Table.Th>
                                </Table.Tr>
                              </Table.Thead>
                              <Table.Tbody>
                                {d.log.map((a, i) => (
                                  <Table.Tr key={`${a.attemptedAt}-${i}`} data-testid="webhook-attempt">
                                    <Table.Td>{formatDateTime(a.attemptedAt)}</Table.Td>
                                    <Table.Td>{a.statusCode != null ? a.statusCode : t('integrations.webhooks.noAnswer')}</Table.Td>
                                    <Table.Td>{formatNumber(a.latencyMs, 0)}</Table.Td>
                                    <Table.Td>
                                      <Text size="xs" c={a.error ? 'red' : undefined} title={a.responseExcerpt || undefined}>
                                        {a.error || '—'}
                                      </Text>
                                    </Table.Td>
                                  </Table.Tr>
                                ))}
                              </Table.Tbody>
                            </Table>
                          )}
                        </Table.Td>
                      </Table.Tr>
                    ) : null}
                  </Fragment>
                );
              })}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
