#!/usr/bin/env bash
# Install, then run the whole suite: lint, types, layer rules, and the tests against real servers.
source "$(dirname "$0")/bootstrap.sh"
echo "== ruff" && ruff check src tests examples && ruff format --check src tests examples
# The dashboard tests drive a real browser (Debian's chromium); tests/pgbouncer runs a real
# PgBouncer (Debian's package) in front of the test server. Both installed when missing (as
# root), after one update of the package lists.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
if [ "${#missing[@]}" -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "== installing ${missing[*]}" && apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
# mypy without a cache (a clean checkout) keeps a core busy for minutes while the tests mostly
# wait on their servers: mypy and the layer rules run beside the tests, print their output when
# done (among the tests' progress), and the script fails after the tests if either failed
# (docs/testing.md).
static="$(mktemp -d)"
(
  { mypy && echo 0 >"$static/mypy" || echo $? >"$static/mypy"; } >"$static/mypy.log" 2>&1
  { lint-imports && echo 0 >"$static/layers" || echo $? >"$static/layers"; } \
    >"$static/layers.log" 2>&1
  printf '\n== mypy (strict), run beside the tests\n%s\n' "$(cat "$static/mypy.log")"
  printf '== import-linter, run beside the tests\n%s\n' "$(cat "$static/layers.log")"
) &
checks=$!
trap 'kill "$checks" 2>/dev/null || true; rm -rf "$static"' EXIT
echo "== pytest"
pytest "$@" && tested=0 || tested=$?
wait "$checks" || true
if [ "$(cat "$static/mypy" 2>/dev/null)" != 0 ] || [ "$(cat "$static/layers" 2>/dev/null)" != 0 ]; then
  echo "== failed: mypy or import-linter (their output is above, among the tests')" >&2
  exit 1
fi
exit "$tested"
