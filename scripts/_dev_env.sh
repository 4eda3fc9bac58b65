# Sourced by scripts/run and frontend/e2e/serve.sh: what the development main job needs that the
# production profile does not give by default (docs/operations.md, "Production profile").
# - PATRON_SECRET_KEY: when unset, a random key generated once into var/secret_key (gitignored,
#   mode 600) and reused, so sessions survive restarts; production sets its own.
# - PATRON_GRAPHIQL / PATRON_INTROSPECTION: on (GraphiQL at /graphql/), unless set otherwise.
if [ -z "${PATRON_SECRET_KEY:-}" ]; then
  if [ ! -s var/secret_key ]; then
    mkdir -p var
    (umask 077 && .venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))' >var/secret_key)
  fi
  PATRON_SECRET_KEY=$(cat var/secret_key)
  export PATRON_SECRET_KEY
fi
export PATRON_GRAPHIQL=${PATRON_GRAPHIQL:-1}
export PATRON_INTROSPECTION=${PATRON_INTROSPECTION:-1}
