# Reclaim: the two commands a newcomer needs are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
GO ?= go
export PATH := $(PATH):/usr/local/go/bin
VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.Version=$(VERSION)
BIN := bin/reclaim

.PHONY: all build demo test test-go vet fuzz bench clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/reclaim

## demo: build, generate a realistic portfolio set into ./data/demo, import it and show it
demo: build
	$(BIN) demo --data-dir data/demo

## test: everything CI runs; starts (or installs) PostgreSQL so that every database test runs on both engines
test: vet
	@dsn=$$(./scripts/ensure-postgres.sh) && \
	RECLAIM_TEST_POSTGRES_DSN="$$dsn" $(GO) test -count=1 -timeout 30m ./...
	@$(MAKE) --no-print-directory fuzz FUZZTIME=5s

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l .)" || { echo "gofmt needed:"; gofmt -l .; exit 1; }

## fuzz: run every fuzz target briefly (FUZZTIME per target)
FUZZTIME ?= 20s
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg >/tmp/reclaim-fuzz.log 2>&1 || { cat /tmp/reclaim-fuzz.log; exit 1; }; \
	  done; \
	done

## bench: the side-by-side benchmarks recorded in docs/benchmarks.md
bench: build
	./bench/import.sh

clean:
	rm -rf bin
