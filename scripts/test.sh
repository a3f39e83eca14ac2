#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this): servers, format, lints, tests.
#
# usage: scripts/test.sh [extra args for the test runner, e.g. a test name filter]
#
# Tests reach the databases through these variables; set them to use other servers:
#   BARGE_TEST_PG_URL     (default postgres://postgres@127.0.0.1:5432/postgres)
#   BARGE_TEST_MYSQL_URL  (default mysql://root@127.0.0.1:3306/mysql)
#   BARGE_TEST_MSSQL_URL  (no default: the SQL Server live suite is skipped without it)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

step() { printf '\n==> %s\n' "$*" >&2; }

step "services"
scripts/services.sh postgres mariadb postgis

export BARGE_TEST_PG_URL="${BARGE_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
export BARGE_TEST_MYSQL_URL="${BARGE_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/mysql}"

# Cheapest checks first, so a formatting slip fails in seconds, not after a full build.
step "cargo fmt --check"
cargo fmt --all -- --check

if command -v shellcheck >/dev/null; then
    step "shellcheck"
    shellcheck scripts/*.sh bench/*.sh .ci/run
fi

step "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings

if cargo nextest --version >/dev/null 2>&1; then
    step "cargo nextest (profile ci)"
    # .config/nextest.toml puts slow_/chaos_ tests in a one-at-a-time group.
    cargo nextest run --workspace --profile ci "$@"
else
    # Without nextest, mirror its serial-db group by hand: slow_/chaos_ tests one at a time
    # first, then everything else in parallel (its summary is the one printed last).
    step "cargo test (cargo-nextest not installed)"
    if (($#)); then
        # A filter picks the tests: run just those, one at a time to be safe.
        exec cargo test --workspace --no-fail-fast -- --test-threads=1 "$@"
    fi
    status=0
    cargo test --workspace --no-fail-fast -- --test-threads=1 slow_ chaos_ || status=$?
    cargo test --workspace --no-fail-fast -- --skip slow_ --skip chaos_ || status=$?
    exit "${status}"
fi
