#!/usr/bin/env bash
# Shared set-up for scripts/run and scripts/test: a virtualenv in .venv with Patron installed.
# Installs the pinned versions from the lock file (requirements.txt, or requirements-dev.txt for
# `_bootstrap.sh dev`; scripts/lock regenerates both), then Patron itself without dependencies.
# Re-installs only when the lock file or pyproject.toml changed since the last install.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)'; then
  echo "Patron needs Python 3.11 or 3.12 (found: $("$PYTHON" --version 2>&1)). Set PYTHON=/path/to/python3.11." >&2
  exit 1
fi
extras=${1:-}
stamp=".venv/.installed${extras:+-$extras}"
lock="requirements${extras:+-$extras}.txt"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ "$lock" -nt "$stamp" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$lock"
  .venv/bin/python -m pip install --quiet --no-deps -e .
  touch "$stamp"
fi
