#!/usr/bin/env bash
# Install, then run the whole suite: lint, types, layer rules, and the tests against real servers.
source "$(dirname "$0")/bootstrap.sh"
echo "== ruff" && ruff check src tests && ruff format --check src tests
echo "== mypy (strict)" && mypy
echo "== import-linter" && lint-imports
echo "== pytest" && pytest "$@"
