#!/usr/bin/env bash
# Installs what Fortress needs on a Debian machine and is missing: PostgreSQL, Redis and NATS
# from Debian's packages, and the npm dependencies (which bring Node 24 along). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian may start these as system services on install; Fortress runs its own instances
  # on free loopback ports with data under .fortress/, so the system ones are not needed.
  for svc in postgresql redis-server nats-server; do
    $sudo service "$svc" stop >/dev/null 2>&1 || true
  done
fi

if [ ! -x node_modules/.bin/node ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> installing npm dependencies (first run takes a few minutes)"
  npm install --no-audit --no-fund --loglevel=error
fi
