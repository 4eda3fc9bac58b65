import type { CombinedError } from 'urql';
import i18n from '../i18n';

/** The shape every mutation payload's `errors` list shares. */
export interface ApiError {
  field?: string | null;
  code: string;
  message: string;
}

/**
 * The message to show for a coded API error: the translation of its code when there is one
 * (`common:errors.<CODE>`), else the server's own message.
 */
export function errorMessage(error: Pick<ApiError, 'code' | 'message'>): string {
  return i18n.t(`common:errors.${error.code}`, { defaultValue: error.message || error.code });
}

/** Messages of the errors naming a field, keyed by that (camelCase) field. */
export function fieldErrors(errors: readonly ApiError[] | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const error of errors ?? []) {
    if (error.field && !(error.field in out)) out[error.field] = errorMessage(error);
  }
  return out;
}

/** Messages of the errors that name no field (or a field the form does not show). */
export function formErrors(errors: readonly ApiError[] | null | undefined, shownFields: readonly string[] = []): string[] {
  return (errors ?? [])
    .filter((error) => !error.field || !shownFields.includes(error.field))
    .map(errorMessage);
}

/** `extensions.code` of the first GraphQL error (NOT_AUTHENTICATED, PERMISSION_DENIED, ...). */
export function graphQLErrorCode(error: CombinedError | undefined | null): string | undefined {
  const code = error?.graphQLErrors[0]?.extensions?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A transport or GraphQL error as one readable, translated line. */
export function combinedErrorMessage(error: CombinedError): string {
  if (error.networkError) return i18n.t('common:errors.NETWORK');
  const first = error.graphQLErrors[0];
  const code = graphQLErrorCode(error);
  return code ? errorMessage({ code, message: first?.message ?? '' }) : first?.message ?? error.message;
}
