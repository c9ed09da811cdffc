#!/usr/bin/env bash
# `npm test`: installs what is missing, then runs every test (unit, integration, end-to-end)
# against real PostgreSQL, Redis and NATS started by the test harness.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node_modules/.bin/node node_modules/mocha/bin/mocha.js \
  'packages/*/test/**/*.test.ts' 'services/*/test/**/*.test.ts' 'test/**/*.test.ts' "$@"
