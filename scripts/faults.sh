#!/usr/bin/env bash
# Runs the failure drills (`make faults`): starts a throwaway PostgreSQL (the drills restart it), builds wagate and
# the drill harness, and breaks wagate in the ways docs/faults.md describes. The summary goes to stdout.
# Arguments are passed to wagate-faults, e.g. scripts/faults.sh -only kill-sends -outage 20s.
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh
trap pg_stop EXIT
pg_start

go build -o bin/wagate ./cmd/wagate
go build -o bin/wagate-faults ./cmd/wagate-faults
bin/wagate-faults -wagate bin/wagate "$@"
