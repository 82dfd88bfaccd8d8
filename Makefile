# wagate's developer commands. `make help` lists them.
.DEFAULT_GOAL := help
GO ?= go
FUZZTIME ?= 30s
OUTAGE ?= 60s

.PHONY: help run build test bench faults fuzz lint check

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

run: ## run wagate in demo mode on ./data (SQLite)
	$(GO) run ./cmd/wagate serve

build: ## build bin/wagate
	$(GO) build -o bin/wagate ./cmd/wagate

test: ## the whole test suite on SQLite and a throwaway PostgreSQL (installs PostgreSQL when missing)
	./scripts/test.sh

bench: ## every benchmark against its same-run baseline; writes docs/benchmarks.md
	./scripts/bench.sh

faults: ## failure drills against real processes: SIGKILL, PostgreSQL restart, provider and subscriber down (OUTAGE), read-only disk
	./scripts/faults.sh -outage $(OUTAGE)

fuzz: ## fuzz every parser of outside input: webhooks, signatures, send requests, provider answers, phone numbers (FUZZTIME each)
	$(GO) test ./internal/webhook/ -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/webhook/ -run '^$$' -fuzz '^FuzzVerifySignature$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/outbound/ -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/provider/ -run '^$$' -fuzz '^FuzzErrorFromResponse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/provider/ -run '^$$' -fuzz '^FuzzParseAnswers$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/phone/ -run '^$$' -fuzz '^FuzzNormalize$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/provider/providertest/ -run '^$$' -fuzz '^FuzzServeHTTP_Messages$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/inbound/ -run '^$$' -fuzz '^FuzzReceive$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/templates/ -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/templates/ -run '^$$' -fuzz '^FuzzExpand$$' -fuzztime $(FUZZTIME)

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...

check: lint test ## lint, then the whole test suite
