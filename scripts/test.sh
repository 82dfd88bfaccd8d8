#!/usr/bin/env bash
# The whole test suite, as CI runs it. On a fresh Debian machine it installs what it needs (PostgreSQL from
# Debian's packages), and Node.js and Chromium for the client and browser tests, starts a throwaway PostgreSQL cluster on 127.0.0.1, and runs every test on both databases.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/postgres.sh
trap pg_stop EXIT

command -v go >/dev/null || { echo "test: Go is required (https://go.dev/dl/)" >&2; exit 1; }
pg_start
. scripts/node.sh
node_ensure
. scripts/chromium.sh
chromium_ensure

echo "== gofmt" >&2
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted" >&2; exit 1; fi
echo "== go vet" >&2
go vet ./...
echo "== go test" >&2
go test -count=1 -timeout 20m "$@" ./...
