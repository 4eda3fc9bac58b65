import { Button, Group, Modal, NumberInput, Stack, Text, Textarea } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useTranslation } from 'react-i18next';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { formatPoints } from '../lib/format';
import { GeneralErrors, notifySuccess, toInt, useIdempotencyKey, usePayloadSubmit } from './shared';

const PointsAdjustMutation = graphql(`
  mutation ConsolePointsAdjust($input: PointsAdjustInput!, $idempotencyKey: String!) {
    pointsAdjust(input: $input, idempotencyKey: $idempotencyKey) {
      replayed
      entry {
        id
        kind
        points
        reason
        availableAfter
      }
      account {
        id
        pointsAvailable
        pointsPending
        lastActivityAt
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

const MAX_POINTS = 10_000_000;

interface AdjustValues {
  points: number | string;
  reason: string;
}

/** Props of the points adjustment dialog. */
export interface AdjustDialogProps {
  opened: boolean;
  accountId: string;
  memberName: string;
  available: number;
  onClose: () => void;
  /** Called after a successful (or replayed) adjustment. */
  onDone?: () => void;
}

/**
 * Adds or takes points with a required reason (`pointsAdjust`). One idempotency key per
 * adjustment: retrying the same points and reason reuses it, so a lost response never
 * adjusts twice.
 */
export function AdjustDialog({ opened, accountId, memberName, available, onClose, onDone }: AdjustDialogProps) {
  const { t } = useTranslation('console');
  const [{ fetching }, adjust] = useMutation(PointsAdjustMutation);
  const idempotency = useIdempotencyKey();
  const form = useForm<AdjustValues>({
    initialValues: { points: '', reason: '' },
    validate: {
      points: (v) => {
        const n = toInt(v);
        if (n === null || n === 0) return t('adjust.errors.points');
        if (Math.abs(n) > MAX_POINTS) return t('adjust.errors.pointsRange', { max: formatPoints(MAX_POINTS) });
        if (n < 0 && -n > available) return t('adjust.errors.insufficient', { available: formatPoints(available) });
        return null;
      },
      reason: (v) => {
        const len = v.trim().length;
        if (len === 0) return t('adjust.errors.reasonRequired');
        if (len < 3 || len > 300) return t('adjust.errors.reasonLength');
        return null;
      },
    },
  });
  const { general, clearGeneral, send } = usePayloadSubmit(form, ['points', 'reason']);

  const close = () => {
    clearGeneral();
    form.reset();
    onClose();
  };

  const submit = form.onSubmit(async (values) => {
    const points = toInt(values.points)!;
    const reason = values.reason.trim();
    const idempotencyKey = idempotency.keyFor(`${accountId}|${points}|${reason}`);
    const answer = await send(() => adjust({ input: { accountId, points, reason }, idempotencyKey }), (data) => data.pointsAdjust);
    // Network trouble (or a refusal): the same key is kept, so pressing Adjust again is a safe retry.
    if (!answer) return;
    const { payload } = answer;
    idempotency.reset();
    notifySuccess(
      t('adjust.done', {
        points: formatPoints(points),
        name: memberName,
        available: formatPoints(payload?.account?.pointsAvailable ?? available + points),
      }),
    );
    form.reset();
    onDone?.();
    onClose();
  });

  return (
    <Modal opened={opened} onClose={close} title={t('adjust.title', { name: memberName })} centered>
      {/* The labels stay exactly "Points" and "Reason" (no asterisk): end-to-end tests find them so. */}
      <form onSubmit={submit} noValidate>
        <Stack>
          <Text size="sm" c="dimmed">
            {t('adjust.available', { n: formatPoints(available) })}
          </Text>
          <GeneralErrors messages={general} />
          <NumberInput
            label={t('adjust.points')}
            description={t('adjust.pointsHint')}
            allowDecimal={false}
            min={-MAX_POINTS}
            max={MAX_POINTS}
            aria-required
            data-autofocus
            {...form.getInputProps('points')}
          />
          <Textarea
            label={t('adjust.reason')}
            description={t('adjust.reasonHint')}
            aria-required
            rows={3}
            maxLength={300}
            {...form.getInputProps('reason')}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              {t('common.cancel')}
            </Button>
            <Button type="submit" loading={fetching}>
              {t('adjust.submit')}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
