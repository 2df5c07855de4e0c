#!/usr/bin/env bash
# Install, then run the whole suite: lint, types, layer rules, and the tests against real servers.
source "$(dirname "$0")/bootstrap.sh"
echo "== ruff" && ruff check src tests && ruff format --check src tests
echo "== mypy (strict)" && mypy
echo "== import-linter" && lint-imports
# tests/pgbouncer runs a real PgBouncer (Debian's package) in front of the test server.
if ! command -v pgbouncer >/dev/null && [ ! -x /usr/sbin/pgbouncer ] && [ "$(id -u)" = 0 ]; then
    echo "== installing pgbouncer" && apt-get update -qq && apt-get install -y -qq pgbouncer
fi
echo "== pytest" && pytest "$@"
