#!/usr/bin/env bash
# The dashboard's tests (frontend/): install and build (scripts/_frontend.sh), Vitest component
# tests, then the end-to-end tests with @playwright/test in Debian's Chromium against a server
# they start themselves (frontend/e2e/serve.sh, a fresh SQLite file on port 8799).
# Needs Node.js 20+ with npm; installs Debian's chromium when it is missing (as root, like CI).
# `--force` reinstalls node_modules and rebuilds whatever the stamps say (CI uses it).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v npm >/dev/null 2>&1; then
  echo "The dashboard's tests need Node.js 20+ with npm (Debian: apt-get install -y nodejs npm)." >&2
  exit 1
fi
if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "== dashboard: installing Debian's chromium for the end-to-end tests"
  apt-get update -q && apt-get install -y -q chromium
fi

bash scripts/_frontend.sh "${1:-}"

echo "== dashboard: component tests (vitest)"
(cd frontend && npm test --silent)

echo "== dashboard: end-to-end tests (playwright, headless chromium)"
if ! (cd frontend && CI=1 npm run e2e --silent); then
  echo "-- end-to-end server log:"
  tail -n 80 "${TMPDIR:-/tmp}/patron-e2e-${E2E_PORT:-8799}/server.log" || true
  exit 1
fi
