#!/usr/bin/env bash
# Runs the benchmarks (`make bench`): starts a throwaway PostgreSQL, builds wagate and the benchmark harness, and
# measures wagate against a baseline in the same run. The table goes to stdout and to docs/benchmarks.md.
# Arguments are passed to wagate-bench, e.g. scripts/bench.sh -duration 5s -only sqlite.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh
trap pg_stop EXIT
pg_start

go build -o bin/wagate ./cmd/wagate
go build -o bin/wagate-bench ./cmd/wagate-bench
bin/wagate-bench -wagate bin/wagate -out docs/benchmarks.md "$@"
