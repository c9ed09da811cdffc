#!/usr/bin/env bash
# `npm run check`: typecheck, lint, format, buf lint, breaking-change check, and proof that the
# committed generated code is what buf generates from proto/.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '==> %s\n' "$*"; }

step "typecheck"
npx tsc -p tsconfig.json
step "eslint"
npx eslint . --max-warnings=0
step "prettier"
npx prettier --check . --log-level=warn
step "buf lint"
npx buf lint
if git rev-parse --verify -q main >/dev/null && git cat-file -e main:proto 2>/dev/null; then
  step "buf breaking (against main)"
  npx buf breaking --against '.git#branch=main'
fi
step "generated code is up to date"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
npx buf generate --output "$tmp"
if ! diff -r "$tmp/packages/proto/src/gen" packages/proto/src/gen >/dev/null; then
  echo "packages/proto/src/gen differs from what 'npm run generate' produces; regenerate and commit." >&2
  diff -r "$tmp/packages/proto/src/gen" packages/proto/src/gen | head -20 >&2
  exit 1
fi
step "ok"
