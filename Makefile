# Gatehouse — common tasks. `make test` is what CI runs.
GO ?= go

.PHONY: test vet build demo bench fmt plugin-check fuzz

## test: vet, then run every test with the race detector against a real redis-server.
## TESTTIMEOUT bounds each package's run: a hang fails with every goroutine's stack
## (testsupport.Main stops a package 15 s before, after cleaning up).
TESTTIMEOUT ?= 7m
test: vet
	$(GO) test -race -count=1 -timeout $(TESTTIMEOUT) ./...

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	$(GO) vet ./...

## build: a Caddy binary with Gatehouse compiled in, at ./gatehouse
build:
	$(GO) build -o gatehouse ./cmd/gatehouse

## demo: a local login demo with a development OIDC provider (no credentials needed)
demo:
	$(GO) run ./examples/demo

## bench: handler micro-benchmarks (memory and Redis stores), then the side-by-side load benchmark
## (cmd/gatehouse-bench, Gatehouse vs a plain reverse_proxy; results in bench-results/latest.txt).
## Needs redis-server; installs wrk with apt-get when missing. BENCHFLAGS passes flags, e.g.
## make bench BENCHFLAGS='-rounds 1 -duration 3s'
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./module/ ./internal/session/ ./internal/store/ ./internal/headers/ ./internal/githubaccess/ ./internal/assertion/
	$(GO) run ./cmd/gatehouse-bench $(BENCHFLAGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

## plugin-check: build Caddy with Gatehouse as a dependency, as xcaddy does
plugin-check:
	./scripts/plugin-build-check.sh

## fuzz: run every fuzz target for FUZZTIME inputs (default 5000x) from its committed seed corpus
fuzz:
	./scripts/fuzz.sh
