import { useEffect, useState } from 'react';
import { Alert, Button, Group, Paper, SegmentedControl, Stack, Switch, Text, Title } from '@mantine/core';
import { DateInput } from '@mantine/dates';
import { notifications } from '@mantine/notifications';
import { useTranslation } from 'react-i18next';
import { useMutation, useQuery } from 'urql';
import { graphql } from '../gql';
import type { Calendar } from '../gql/graphql';
import { combinedErrorMessage, fieldErrors, formErrors } from '../lib/errors';
import { PushOptIn } from './PushOptIn';

const MemberProfileDocument = graphql(`
  query MemberProfile {
    viewer {
      profile {
        birthDate
        calendar
        consentEmail
        consentSms
        consentPush
      }
    }
  }
`);

const MemberProfileUpdateDocument = graphql(`
  mutation MemberProfileUpdate($input: MemberProfileUpdateInput!) {
    memberProfileUpdate(input: $input) {
      profile {
        birthDate
        calendar
        consentEmail
        consentSms
        consentPush
      }
      errors {
        field
        code
        message
      }
    }
  }
`);

interface ProfileValues {
  birthDate: string | null;
  calendar: Calendar;
  consentEmail: boolean;
  consentSms: boolean;
  consentPush: boolean;
}

const SHOWN = ['birthDate', 'calendar', 'consentEmail', 'consentSms', 'consentPush'];

/** The member's own profile: birth date, calendar of occasions and marketing consents. */
export function ProfileSection() {
  const { t } = useTranslation('member');
  const [{ data, error }] = useQuery({ query: MemberProfileDocument });
  const [state, update] = useMutation(MemberProfileUpdateDocument);
  const profile = data?.viewer?.profile;
  const [values, setValues] = useState<ProfileValues | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [general, setGeneral] = useState<string[]>([]);

  useEffect(() => {
    if (profile && !values) {
      setValues({
        birthDate: profile.birthDate ?? null,
        calendar: profile.calendar,
        consentEmail: profile.consentEmail,
        consentSms: profile.consentSms,
        consentPush: profile.consentPush,
      });
    }
  }, [profile, values]);

  if (!values) {
    return error ? <Alert color="red">{combinedErrorMessage(error)}</Alert> : null;
  }
  const set = <K extends keyof ProfileValues>(key: K, v: ProfileValues[K]) => setValues({ ...values, [key]: v });

  const save = async () => {
    setFields({});
    setGeneral([]);
    const r = await update({
      input: {
        birthDate: values.birthDate ? values.birthDate.slice(0, 10) : null,
        calendar: values.calendar,
        consentEmail: values.consentEmail,
        consentSms: values.consentSms,
        consentPush: values.consentPush,
      },
    });
    if (r.error) {
      setGeneral([combinedErrorMessage(r.error)]);
      return;
    }
    const errors = r.data?.memberProfileUpdate.errors ?? [];
    if (errors.length) {
      setFields(fieldErrors(errors));
      setGeneral(formErrors(errors, SHOWN));
      return;
    }
    notifications.show({ color: 'green', message: t('profile.saved') });
  };

  return (
    <Paper withBorder p="md" component="section" aria-labelledby="profile-title" data-testid="member-profile">
      <Stack gap="sm">
        <Title order={2} size="h3" id="profile-title">
          {t('profile.title')}
        </Title>
        <Text size="sm" c="dimmed">
          {t('profile.text')}
        </Text>
        {general.length ? (
          <Alert color="red" role="alert">
            {general.join(' ')}
          </Alert>
        ) : null}
        <DateInput
          label={t('profile.birthDate')}
          valueFormat="YYYY-MM-DD"
          clearable
          maxDate={new Date()}
          value={values.birthDate}
          error={fields.birthDate}
          onChange={(v) => set('birthDate', v)}
          maw={260}
        />
        <div>
          <Text size="sm" fw={500} id="profile-calendar">
            {t('profile.calendar')}
          </Text>
          <SegmentedControl
            aria-labelledby="profile-calendar"
            value={values.calendar}
            onChange={(v) => set('calendar', v as Calendar)}
            data={(['GREGORIAN', 'JALALI'] as const).map((c) => ({ value: c, label: t(`profile.calendars.${c}`) }))}
          />
          {fields.calendar ? (
            <Text size="xs" c="red">
              {fields.calendar}
            </Text>
          ) : null}
        </div>
        <Switch label={t('profile.consentEmail')} checked={values.consentEmail} onChange={(e) => set('consentEmail', e.currentTarget.checked)} />
        <Switch label={t('profile.consentSms')} checked={values.consentSms} onChange={(e) => set('consentSms', e.currentTarget.checked)} />
        <Switch label={t('profile.consentPush')} checked={values.consentPush} onChange={(e) => set('consentPush', e.currentTarget.checked)} />
        <PushOptIn />
        <Group>
          <Button onClick={() => void save()} loading={state.fetching}>
            {t('profile.save')}
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
