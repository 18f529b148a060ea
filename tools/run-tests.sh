#!/usr/bin/env bash
# The whole test suite: lint, types, the pytest suite (real anvil, PostgreSQL and processes),
# and brownie's own suite. Fails if pytest collected no tests (its exit code 5).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH"

step() { printf '\n==> %s\n' "$*"; }
step "ruff (lint and format)"
ruff check . && ruff format --check . || exit 1
step "mypy"
mypy || exit 1

step "tsc (the DApp's types)"
node dapp/build.mjs --types-only && tsc --noEmit -p dapp || exit 1

step "pytest"
# Two workers (this machine kind has two cores; the tests mostly wait on anvil, PostgreSQL and
# servers). Files sharing a costly set-up stay in one worker (tests/conftest.py, XDIST_GROUPS).
# A guard, not a budget (the suite takes minutes): a hang fails the run instead of eating CI's time.
timeout --kill-after=30s "${PYTEST_TIMEOUT:-40m}" pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup "$@"
rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "pytest did not finish within ${PYTEST_TIMEOUT:-40m}: failing" >&2
    exit 1
fi
if [ "$rc" -eq 5 ]; then
    echo "pytest collected no tests: failing" >&2
    exit 1
fi
[ "$rc" -eq 0 ] || exit "$rc"

step "brownie test"
# The main suite disables brownie's pytest plugin in pyproject.toml; brownie needs it back.
brownie test tests/brownie -o addopts="" || exit 1
