# Reclaim: the two commands a newcomer needs are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
GO ?= go
export PATH := $(PATH):/usr/local/go/bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.Version=$(VERSION)
BIN := bin/reclaim
# Go packages of the project (npm packages under web/node_modules may ship Go files of their own).
PKGS = $(shell $(GO) list ./... | grep -v /node_modules/)

.PHONY: all build console demo test test-go test-web tools vet fuzz bench clean

all: build

## build: the console (when its sources changed) and the single binary that embeds it
build: console
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/reclaim

console:
	@./scripts/build-console.sh

## demo: build, generate a realistic 100,000-loan portfolio set into ./data/demo, import it,
## create an account per role and serve the console on http://127.0.0.1:8080
demo: build
	$(BIN) --data-dir data/demo demo

## test: everything CI runs: vet, every Go test on SQLite and PostgreSQL (started, or installed,
## by scripts/ensure-postgres.sh; fuzz targets run on their seed and committed corpora), and the
## browser tests. `make fuzz` explores further (FUZZTIME per target).
test: vet test-go
	@$(MAKE) --no-print-directory test-web

test-go: tools
	@dsn=$$(./scripts/ensure-postgres.sh) && \
	RECLAIM_TEST_POSTGRES_DSN="$$dsn" $(GO) test -count=1 -timeout 30m $(PKGS)

## tools: what tests run but do not build themselves (no network inside a test): Tessera's fsck
## v1.0.4, built once from interop/tessera into ~/.cache/reclaim-tools
tools:
	@./interop/tessera/fsck.sh --build >/dev/null

## test-web: the console in Debian's Chromium against a real server (scripts/e2e.sh)
test-web:
	./scripts/e2e.sh

vet:
	$(GO) vet $(PKGS)
	@test -z "$$(git ls-files -co --exclude-standard '*.go' | xargs gofmt -l)" || { echo "gofmt needed:"; git ls-files -co --exclude-standard '*.go' | xargs gofmt -l; exit 1; }

## fuzz: run every fuzz target briefly (FUZZTIME per target)
FUZZTIME ?= 20s
fuzz:
	@set -e; for pkg in $(PKGS); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg >/tmp/reclaim-fuzz.log 2>&1 || { cat /tmp/reclaim-fuzz.log; exit 1; }; \
	  done; \
	done

## bench: the side-by-side benchmarks recorded in docs/benchmarks.md (several minutes; loopback only)
bench: build
	./bench/import.sh 1000000 2
	./bench/api.sh 3000 8
	./bench/ledger/run.sh 200000
	./bench/lendingclub/run.sh
	./bench/pricing/run.sh

clean:
	rm -rf bin
