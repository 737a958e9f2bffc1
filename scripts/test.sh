#!/usr/bin/env bash
# `npm test`: prepares what the suite needs, then runs it on both stores (embedded PGlite and
# PostgreSQL). It installs Debian's chromium when missing and it may (root with apt-get), starts
# a local PostgreSQL or Redis that is installed but stopped, and otherwise says exactly what is
# missing. Under CI=true a missing PostgreSQL or Redis fails the run instead of narrowing it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\033[1m[test]\033[0m %s\n' "$*"; }
ci() { [ "${CI:-}" = "true" ]; }
reachable() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

[ -d node_modules ] || { say "installing dependencies (npm ci)"; npm ci; }

chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium_path" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    say "installing chromium (apt-get install -y chromium)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    say "Chromium is missing at $chromium_path. Install it (Debian: sudo apt-get install -y chromium) or set CHROMIUM_PATH."
    exit 1
  fi
fi

pg_host=127.0.0.1 pg_port=5432
if ! reachable $pg_host $pg_port && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
  say "starting the local PostgreSQL cluster"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  for _ in $(seq 1 20); do reachable $pg_host $pg_port && break; sleep 0.5; done
fi
projects=()
if reachable $pg_host $pg_port || [ -n "${ONE_RUNTIME_TEST_PG_URL:-}" ]; then
  projects=(--project pglite --project postgres)
elif ci; then
  say "PostgreSQL is not reachable at $pg_host:$pg_port (trust auth expected); CI requires it."
  exit 1
else
  say "PostgreSQL is not reachable at $pg_host:$pg_port: running the embedded-store project only."
  say "  (Debian: sudo apt-get install -y postgresql, with trust auth for 127.0.0.1; or set ONE_RUNTIME_TEST_PG_URL.)"
  projects=(--project pglite)
fi

if ! reachable 127.0.0.1 6379 && command -v redis-server >/dev/null; then
  say "starting a local Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 20); do reachable 127.0.0.1 6379 && break; sleep 0.25; done
fi
if ! reachable 127.0.0.1 6379; then
  if ci; then say "Redis is not reachable at 127.0.0.1:6379; CI requires it."; exit 1; fi
  say "Redis is not reachable at 127.0.0.1:6379: the multi-instance tests will fail (Debian: sudo apt-get install -y redis-server)."
fi

say "type-checking (tsc --noEmit)"
npx tsc --noEmit
say "running the suite: ${projects[*]}"
exec npx vitest run "${projects[@]}" "$@"
