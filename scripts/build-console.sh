#!/usr/bin/env bash
# Builds the web console into web/dist (npm ci && npm run build) when it is missing or older than
# its sources. Installs Node's packages from the lock file only.
set -euo pipefail
cd "$(dirname "$0")/../web"
if ! command -v npm >/dev/null 2>&1; then
  echo "build-console: npm is not installed; the binary will serve a page explaining how to build the console" >&2
  exit 0
fi
stamp=dist/index.html
if [ -f "$stamp" ] && [ -z "$(find src index.html package-lock.json vite.config.ts public -newer "$stamp" -print -quit)" ]; then
  exit 0
fi
[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
