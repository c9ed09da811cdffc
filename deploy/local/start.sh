#!/usr/bin/env bash
# `npm start`: brings a complete local Fortress up with a demo organisation.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/ensure-deps.sh
exec node_modules/.bin/node --import tsx deploy/local/start.ts "$@"
