#!/usr/bin/env bash
# The server the end-to-end tests run against (started by playwright.config.ts): the embedded
# default on a fresh SQLite file of its own, with the demo data, serving the built dashboard
# (frontend/dist) on E2E_PORT. Never the dev server's database or port.
set -euo pipefail
cd "$(dirname "$0")/../.."
port=${E2E_PORT:-8799}
if [ ! -x .venv/bin/python ]; then
  echo "serve.sh: no .venv; run scripts/run (or bash scripts/_bootstrap.sh) once first" >&2
  exit 1
fi
if [ ! -f frontend/dist/index.html ]; then
  echo "serve.sh: the dashboard is not built; run npm run build in frontend/ first" >&2
  exit 1
fi
# Embedded default whatever the calling shell set (CI exports the services' URLs).
unset DATABASE_URL REDIS_URL
# One directory per port, emptied at each start: a killed run leaves nothing that grows.
data=${TMPDIR:-/tmp}/patron-e2e-$port
rm -rf "$data"
mkdir -p "$data"
export PATRON_SQLITE_PATH=$data/patron.sqlite3
export PATRON_LOG_LEVEL=${PATRON_LOG_LEVEL:-WARNING}
# The development secret key (var/secret_key) and GraphiQL, as under scripts/run.
. scripts/_dev_env.sh
.venv/bin/python manage.py migrate --noinput -v 0
.venv/bin/python manage.py patron_demo >/dev/null
.venv/bin/python manage.py demo_rewards >/dev/null
.venv/bin/python manage.py demo_referrals >/dev/null
.venv/bin/python manage.py demo_checkout >/dev/null
.venv/bin/python manage.py demo_engagement >/dev/null
.venv/bin/python manage.py demo_memberships >/dev/null
# The server's log goes to a file: the app's expected refusals (the viewer asked for before
# logging in) would bury the test report. CI prints its tail when the tests fail.
echo "serve.sh: demo data in $data, serving on http://127.0.0.1:$port/, log in $data/server.log"
exec .venv/bin/daphne -b 127.0.0.1 -p "$port" config.asgi:application 2>"$data/server.log"
