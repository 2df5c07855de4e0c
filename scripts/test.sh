#!/usr/bin/env bash
# Install, then run the whole suite: lint, types, layer rules, and the tests against real servers.
source "$(dirname "$0")/bootstrap.sh"
echo "== ruff" && ruff check src tests && ruff format --check src tests
echo "== mypy (strict)" && mypy
echo "== import-linter" && lint-imports
# The dashboard tests drive a real browser: Debian's chromium, installed when missing (as root).
if ! command -v chromium >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing chromium" && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium
fi
# tests/pgbouncer runs a real PgBouncer (Debian's package) in front of the test server.
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing pgbouncer" && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer
fi
echo "== pytest" && pytest "$@"
