#!/usr/bin/env bash
# Installs and builds the dashboard (frontend/ -> frontend/dist, which the web process serves at /)
# when npm is available; without npm it only warns: the API works without the dashboard.
# Re-installs only when package-lock.json changed since the last install, and rebuilds only when
# the sources, the lock file or schema.graphql are newer than the last build.
# `--force` always installs (`npm ci`) and builds (CI uses it).
set -euo pipefail
cd "$(dirname "$0")/.."
force=${1:-}

if ! command -v npm >/dev/null 2>&1; then
  echo "warning: npm not found, so the dashboard is not built (the API works without it)." >&2
  echo "         Install Node.js 20+ with npm and run scripts/run again to get it." >&2
  exit 0
fi

cd frontend
stamp=node_modules/.patron-installed
if [ "$force" = --force ] || [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "== dashboard: npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

built=dist/index.html
inputs=(src public index.html package.json package-lock.json vite.config.ts codegen.ts tsconfig.json
  tsconfig.app.json tsconfig.node.json postcss.config.cjs ../schema.graphql)
existing=()
for input in "${inputs[@]}"; do
  if [ -e "$input" ]; then existing+=("$input"); fi
done
# src/gql/ is codegen's output, written by the build itself.
if [ "$force" = --force ] || [ ! -f "$built" ] ||
  [ -n "$(find "${existing[@]}" -path src/gql -prune -o -newer "$built" -print -quit)" ]; then
  echo "== dashboard: npm run build"
  npm run build --silent
fi
