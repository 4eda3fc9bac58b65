import { createContext, useContext, useRef, useState, type ReactNode } from 'react';
import { Alert, Button, Center, EmptyState, Group, Loader, Modal, Stack, Text, Title } from '@mantine/core';
import { DateTimePicker, type DateTimePickerProps } from '@mantine/dates';
import { IconAlertTriangle, IconLock, IconInbox } from '@tabler/icons-react';
import { notifications } from '@mantine/notifications';
import { useTranslation } from 'react-i18next';
import type { CombinedError, OperationResult } from 'urql';
import { graphQLErrorCode, type ApiError } from '../lib/errors';

/** Staff roles as the API spells them. */
export type StaffRole = 'OWNER' | 'MANAGER' | 'CASHIER';

/** The shop the console is open for, and what the logged-in user may do there. */
export interface ConsoleShop {
  id: string;
  name: string;
  slug: string;
  currency: string;
  timezone: string;
  role: StaffRole;
  /** Owners and managers edit the program, tiers, rewards, rules and adjust points. */
  canEdit: boolean;
}

const ConsoleShopContext = createContext<ConsoleShop | null>(null);

/** Provides the console's shop to the sub-pages (tests wrap pages in it directly). */
export function ConsoleShopProvider({ shop, children }: { shop: ConsoleShop; children: ReactNode }) {
  return <ConsoleShopContext.Provider value={shop}>{children}</ConsoleShopContext.Provider>;
}

/** The console's shop; only valid inside `ConsoleShopProvider`. */
export function useConsoleShop(): ConsoleShop {
  const shop = useContext(ConsoleShopContext);
  if (!shop) throw new Error('useConsoleShop outside ConsoleShopProvider');
  return shop;
}

/** Renders its children for owners and managers, a clear refusal for anyone else. */
export function EditorOnly({ children }: { children: ReactNode }) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  if (!shop.canEdit) {
    return (
      <Alert color="yellow" icon={<IconLock size={18} />} title={t('access.editorsOnlyTitle')} data-testid="console-forbidden">
        {t('access.editorsOnly')}
      </Alert>
    );
  }
  return <>{children}</>;
}

/** A console page's title with its hint below, and the page's actions (children) at the other end. */
export function PageHeader({ title, hint, children }: { title: string; hint: ReactNode; children?: ReactNode }) {
  return (
    <Group justify="space-between" align="flex-end">
      <div>
        <Title order={2}>{title}</Title>
        <Text size="sm" c="dimmed">
          {hint}
        </Text>
      </div>
      {children}
    </Group>
  );
}

/** Centered spinner with an accessible label. */
export function PageLoader() {
  const { t } = useTranslation('console');
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Stack align="center" gap="xs">
        <Loader />
        <Text size="sm" c="dimmed">
          {t('common.loading')}
        </Text>
      </Stack>
    </Center>
  );
}

/** "Nothing here yet" panel. */
export function EmptyPanel({ title, description, action }: { title: string; description?: string; action?: ReactNode }) {
  return (
    <EmptyState icon={<IconInbox size={28} />} title={title} description={description} withIndicatorBackground>
      {action ? <EmptyState.Actions>{action}</EmptyState.Actions> : null}
    </EmptyState>
  );
}

/** The API code of a GraphQL error (extensions.code), if any. */
export const errorCode = graphQLErrorCode;

/** A failed mutation's GraphQL or transport error as one line: the server's message, untranslated. */
export function mutationErrorMessage(error: CombinedError): string {
  return error.graphQLErrors[0]?.message ?? error.message;
}

/** Alert for a failed query or mutation, with the API code translated when known. */
export function ErrorAlert({ error, title }: { error: CombinedError | undefined; title?: string }) {
  const { t } = useTranslation('console');
  if (!error) return null;
  const code = errorCode(error);
  const message = error.graphQLErrors?.[0]?.message ?? (error.networkError ? t('errors.network') : error.message);
  return (
    <Alert color="red" icon={<IconAlertTriangle size={18} />} title={title ?? t('errors.title')} role="alert">
      {code ? `${t(`errorCodes.${code}`, { defaultValue: code })} — ` : ''}
      {message}
    </Alert>
  );
}

/** A coded error of a mutation payload (`errors { field code message }`). */
export type PayloadError = ApiError;

/**
 * Splits payload errors into field messages (by camelCase field) and form-level messages.
 * `known` lists the form's fields; errors on other fields become form-level messages so
 * nothing is silently dropped.
 */
export function splitPayloadErrors(
  errors: readonly PayloadError[] | null | undefined,
  known?: readonly string[],
): { fields: Record<string, string>; general: string[] } {
  const fields: Record<string, string> = {};
  const general: string[] = [];
  for (const e of errors ?? []) {
    const text = e.message || e.code;
    if (e.field && (!known || known.includes(e.field))) {
      fields[e.field] = fields[e.field] ? `${fields[e.field]} ${text}` : text;
    } else {
      general.push(e.field ? `${e.field}: ${text}` : text);
    }
  }
  return { fields, general };
}

/**
 * A mutation payload with its coded errors: `errors`, or `loyaltyErrors` for the program, tier and
 * earning-rule payloads (whose `errors` is deprecated).
 */
type ErrorPayload = { errors: readonly PayloadError[] } | { loyaltyErrors: readonly PayloadError[] };

/** The coded errors of `payload`, wherever it keeps them. */
function payloadErrors(payload: ErrorPayload): readonly PayloadError[] {
  return 'loyaltyErrors' in payload ? payload.loyaltyErrors : payload.errors;
}

/**
 * The submit flow of the console's forms. `send` clears the form-level messages, runs the
 * mutation and reports a GraphQL or transport error as one form-level message; of the
 * payload's coded errors, those on the form's `fields` go under their inputs
 * (`form.setErrors`) and the rest above the form (`general`, for `GeneralErrors`).
 * It resolves to `{ payload }` when the API accepted (the payload as `pick` finds it in the
 * answer's data, if any), to null when the change was refused.
 */
export function usePayloadSubmit(form: { setErrors: (errors: Record<string, string>) => void }, fields: readonly string[]) {
  const [general, setGeneral] = useState<string[]>([]);
  const send = async <M extends () => Promise<OperationResult>, P extends ErrorPayload>(
    mutate: M,
    pick: (data: NonNullable<Awaited<ReturnType<M>>['data']>) => P | null | undefined,
  ): Promise<{ payload: P | null | undefined } | null> => {
    setGeneral([]);
    const result = await mutate();
    if (result.error) {
      setGeneral([mutationErrorMessage(result.error)]);
      return null;
    }
    const payload = result.data ? pick(result.data) : undefined;
    if (payload && payloadErrors(payload).length > 0) {
      const split = splitPayloadErrors(payloadErrors(payload), fields);
      form.setErrors(split.fields);
      setGeneral(split.general);
      return null;
    }
    return { payload };
  };
  return { general, clearGeneral: () => setGeneral([]), send };
}

/** Form-level error messages as one alert. */
export function GeneralErrors({ messages }: { messages: string[] }) {
  const { t } = useTranslation('console');
  if (messages.length === 0) return null;
  return (
    <Alert color="red" icon={<IconAlertTriangle size={18} />} title={t('errors.title')} role="alert">
      {messages.map((m, i) => (
        <Text key={i} size="sm">
          {m}
        </Text>
      ))}
    </Alert>
  );
}

/** A fresh idempotency key (UUID v4). */
export function newIdempotencyKey(): string {
  if (typeof crypto !== 'undefined' && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  return `k-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

/**
 * One idempotency key per user action: the same inputs (the retry of an action) reuse the
 * key, changed inputs start a new action. `reset()` after success.
 */
export function useIdempotencyKey() {
  const ref = useRef<{ key: string; signature: string } | null>(null);
  return {
    keyFor(signature: string): string {
      if (!ref.current || ref.current.signature !== signature) {
        ref.current = { key: newIdempotencyKey(), signature };
      }
      return ref.current.key;
    },
    reset() {
      ref.current = null;
    },
  };
}

/** Empty strings and undefined as null, for optional API fields. */
export function nullIfEmpty<T>(value: T | '' | undefined | null): T | null {
  return value === '' || value === undefined || value === null ? null : value;
}

/** A numeric form value as an API `Decimal` string, or null when empty. */
export function toDecimal(value: string | number | null | undefined): string | null {
  if (value === '' || value === null || value === undefined) return null;
  return String(value);
}

/** A numeric form value as an API `Int`, or null when empty. */
export function toInt(value: string | number | null | undefined): number | null {
  if (value === '' || value === null || value === undefined) return null;
  const n = typeof value === 'number' ? value : Number(value);
  return Number.isFinite(n) ? Math.trunc(n) : null;
}

/**
 * A clearable date and time in the shop's time zone, as `isoToLocal` gives it and
 * `localToIso` reads it (./time); the description names the zone.
 */
export function ShopDateTimePicker(props: DateTimePickerProps) {
  const { t } = useTranslation('console');
  const shop = useConsoleShop();
  return (
    <DateTimePicker description={t('common.inShopZone', { zone: shop.timezone })} clearable valueFormat="YYYY-MM-DD HH:mm" {...props} />
  );
}

/** A yes/no question before a destructive action (archive, delete). */
export function ConfirmDialog(props: {
  opened: boolean;
  title: string;
  message: ReactNode;
  confirmLabel: string;
  loading?: boolean;
  onConfirm: () => void;
  onClose: () => void;
}) {
  const { t } = useTranslation('console');
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={props.title} centered>
      <Stack>
        <Text size="sm">{props.message}</Text>
        <Group justify="flex-end">
          <Button variant="default" onClick={props.onClose}>
            {t('common.cancel')}
          </Button>
          <Button color="red" onClick={props.onConfirm} loading={props.loading} data-autofocus>
            {props.confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/**
 * A short success toast at the top: the default corner would cover the console's Save
 * buttons, which sit at the bottom right of long forms.
 */
export function notifySuccess(message: string) {
  notifications.show({ color: 'green', message, position: 'top-center', autoClose: 3000 });
}
