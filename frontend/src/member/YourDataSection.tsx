import { useState } from 'react';
import { Alert, Button, Group, Modal, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconDownload, IconTrash } from '@tabler/icons-react';
import { useTranslation } from 'react-i18next';
import { useMutation, type CombinedError } from 'urql';
import { graphql } from '../gql';
import type { DataExportFormat } from '../gql/graphql';
import { combinedErrorMessage, errorMessage, type ApiError } from '../lib/errors';
import { useSession } from '../lib/session';

const MemberDataExportDocument = graphql(`
  mutation MemberDataExport($input: MemberDataExportInput!) {
    memberDataExport(input: $input) {
      file {
        filename
        contentType
        content
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const ViewerEraseDocument = graphql(`
  mutation ViewerErase($input: ViewerEraseInput!) {
    viewerErase(input: $input) {
      erasure {
        customerId
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

/** The word the server wants typed before it erases (not translated: the API compares it). */
export const ERASE_WORD = 'ERASE';

/** A file the server sent as text, for the browser to save. */
export interface DownloadedFile {
  filename: string;
  contentType: string;
  content: string;
}

/** Saves `file` through a Blob and a temporary link (the browser's download). */
export function saveFile(file: DownloadedFile): void {
  const url = URL.createObjectURL(new Blob([file.content], { type: `${file.contentType};charset=utf-8` }));
  const link = document.createElement('a');
  link.href = url;
  link.download = file.filename;
  document.body.appendChild(link);
  link.click();
  link.remove();
  URL.revokeObjectURL(url);
}

type Failure = ApiError | CombinedError;

function useFailureText() {
  const { t } = useTranslation('member');
  return (failure: Failure) => {
    if ('graphQLErrors' in failure) return combinedErrorMessage(failure);
    if (failure.field === 'confirm') return t('yourData.errors.confirm');
    // INVALID_INPUT naming no field: the login also works for a shop (its roles go first).
    if (failure.code === 'INVALID_INPUT') return t('yourData.errors.staffLogin');
    return t(`yourData.errors.${failure.code}`, { defaultValue: errorMessage(failure) });
  };
}

/**
 * "Your data": download everything the marketplace holds about the member (JSON or CSV, every
 * shop), or erase it for good after typing ERASE; the session then ends (docs/privacy.md).
 */
export function YourDataSection() {
  const { t } = useTranslation('member');
  const { logout } = useSession();
  const failureText = useFailureText();
  const [exporting, setExporting] = useState<DataExportFormat | null>(null);
  const [exportFailure, setExportFailure] = useState<Failure | null>(null);
  const [, exportData] = useMutation(MemberDataExportDocument);
  const [confirmOpen, setConfirmOpen] = useState(false);
  const [typed, setTyped] = useState('');
  const [eraseFailure, setEraseFailure] = useState<Failure | null>(null);
  const [{ fetching: erasing }, erase] = useMutation(ViewerEraseDocument);

  const download = async (format: DataExportFormat) => {
    setExporting(format);
    setExportFailure(null);
    try {
      const result = await exportData({ input: { format } });
      if (result.error) return setExportFailure(result.error);
      const payload = result.data?.memberDataExport;
      if (payload?.errors.length) return setExportFailure(payload.errors[0]);
      if (payload?.file) saveFile(payload.file);
    } finally {
      setExporting(null);
    }
  };

  const closeConfirm = () => {
    setConfirmOpen(false);
    setTyped('');
    setEraseFailure(null);
  };

  const confirmErase = async () => {
    setEraseFailure(null);
    const result = await erase({ input: { confirm: typed } });
    if (result.error) return setEraseFailure(result.error);
    const payload = result.data?.viewerErase;
    if (payload?.errors.length) return setEraseFailure(payload.errors[0]);
    if (payload?.erasure) await logout();
  };

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="your-data-title">
      <Stack gap="sm">
        <Title order={2} size="h3" id="your-data-title">
          {t('yourData.title')}
        </Title>
        <Text size="sm">{t('yourData.exportText')}</Text>
        <Group gap="xs">
          <Button
            variant="default"
            leftSection={<IconDownload size={16} aria-hidden />}
            loading={exporting === 'JSON'}
            disabled={exporting !== null}
            onClick={() => void download('JSON')}
          >
            {t('yourData.downloadJson')}
          </Button>
          <Button
            variant="default"
            leftSection={<IconDownload size={16} aria-hidden />}
            loading={exporting === 'CSV'}
            disabled={exporting !== null}
            onClick={() => void download('CSV')}
          >
            {t('yourData.downloadCsv')}
          </Button>
        </Group>
        {exportFailure && (
          <Alert color="red" role="alert">
            {failureText(exportFailure)}
          </Alert>
        )}
        <Text size="sm">{t('yourData.eraseText')}</Text>
        <Group>
          <Button
            color="red"
            variant="outline"
            leftSection={<IconTrash size={16} aria-hidden />}
            onClick={() => setConfirmOpen(true)}
          >
            {t('yourData.erase')}
          </Button>
        </Group>
      </Stack>
      <Modal opened={confirmOpen} onClose={closeConfirm} title={t('yourData.confirmTitle')} centered>
        <Stack data-testid="erase-dialog">
          <Text size="sm">{t('yourData.confirmText')}</Text>
          <TextInput
            label={t('yourData.confirmLabel', { word: ERASE_WORD })}
            value={typed}
            onChange={(event) => setTyped(event.currentTarget.value)}
            autoComplete="off"
            data-autofocus
          />
          {eraseFailure && (
            <Alert color="red" role="alert">
              {failureText(eraseFailure)}
            </Alert>
          )}
          <Group justify="flex-end" gap="xs">
            <Button variant="default" onClick={closeConfirm} disabled={erasing}>
              {t('yourData.keep')}
            </Button>
            <Button color="red" onClick={() => void confirmErase()} loading={erasing} disabled={typed !== ERASE_WORD}>
              {t('yourData.confirmErase')}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}
