import { useState } from 'react';
import { Alert, Button, Center, Paper, PasswordInput, Stack, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation } from 'react-router-dom';
import { useMutation } from 'urql';
import { graphql } from '../gql';
import { ensureCsrf } from '../lib/client';
import { combinedErrorMessage, errorMessage, fieldErrors } from '../lib/errors';
import { useSession } from '../lib/session';

const LoginDocument = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      username
      isStaffOfShops
      errors {
        field
        code
        message
      }
    }
  }
`);

/** Username and password form; on success the session is re-read and the user sent on. */
export function LoginPage() {
  const { t } = useTranslation('common');
  const { viewer, refresh } = useSession();
  const location = useLocation();
  const [, login] = useMutation(LoginDocument);
  const [error, setError] = useState<string | null>(null);
  const [submitting, setSubmitting] = useState(false);
  const form = useForm({
    initialValues: { username: '', password: '' },
    validate: {
      username: (value) => (value.trim() ? null : t('login.required')),
      password: (value) => (value ? null : t('login.required')),
    },
  });

  const from = (location.state as { from?: string } | null)?.from ?? '/';
  if (viewer) return <Navigate to={from} replace />;

  const submit = form.onSubmit(async (values) => {
    setSubmitting(true);
    setError(null);
    try {
      await ensureCsrf();
      const result = await login({ input: values });
      if (result.error) {
        setError(combinedErrorMessage(result.error));
        return;
      }
      const errors = result.data?.login.errors ?? [];
      if (errors.length) {
        // A refused login concerns the pair, so the message goes above the form; the field
        // the server names is only outlined.
        form.setErrors(Object.fromEntries(Object.keys(fieldErrors(errors)).map((field) => [field, true])));
        setError(errorMessage(errors[0]));
        return;
      }
      refresh();
    } finally {
      setSubmitting(false);
    }
  });

  return (
    <Center mih="70vh">
      <Paper withBorder shadow="sm" p={{ base: 'md', sm: 'xl' }} w="100%" maw={420}>
        <form onSubmit={submit} noValidate>
          <Stack>
            <Title order={1} size="h2">
              {t('login.title')}
            </Title>
            {error && (
              <Alert color="red" role="alert" data-testid="login-error">
                {error}
              </Alert>
            )}
            <TextInput
              label={t('login.username')}
              autoComplete="username"
              autoFocus
              {...form.getInputProps('username')}
            />
            <PasswordInput
              label={t('login.password')}
              autoComplete="current-password"
              {...form.getInputProps('password')}
            />
            <Button type="submit" loading={submitting}>
              {t('login.submit')}
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
