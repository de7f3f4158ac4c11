# Ringdesk: `make test` is what CI runs (.ci/run). Every target is safe to re-run.
GO        ?= go
PKGS      ?= ./...
FUZZTIME  ?= 30s
BENCHTIME ?= 1s
GOLANGCI  ?= github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
export CGO_ENABLED = 1

.PHONY: all build test test-short peers lint fmt vet bench load-ivr fuzz generate tidy-check clean

all: build

## build: the ringdesk binary in ./bin
build:
	$(GO) build -o bin/ringdesk ./cmd/ringdesk

## peers: install the real SIP peers the end-to-end tests drive (SIPp, baresip,
## linphonec, dumpcap); quick when they are already there. Needs root for apt-get.
peers:
	./test/peers/install.sh

## test: peers, then every test with the race detector, end-to-end included.
test: peers
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

## test-short: unit tests only (no external peers, no slow tests).
test-short:
	$(GO) test -race -short -count=1 $(PKGS)

## lint: formatting, vet, and golangci-lint (fetched at a pinned version).
lint: vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }
	$(GO) run $(GOLANGCI) run ./...

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

## bench: the hot-path benchmarks (RTP relay, G.711, SDP, SIP, applying call
## events to tickets, contact search, webhook signing), with allocations.
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./media/... ./sip/... ./tickets/... ./webhooks/...

## load: SIPp through Ringdesk on loopback: highest clean call rate, most
## concurrent calls with media (see bench/README.md).
load: build peers
	./bench/load.sh

## load-trunks: SIPp through Ringdesk's SIP trunks: inbound trunk call rate next
## to the extension call rate, trunk registrations per second (bench/README.md).
load-trunks: build peers
	./bench/trunks.sh

## load-ivr: SIPp callers in IVR menus and queues: most callers at once before
## what they hear (prompts, hold music) stutters (bench/README.md).
load-ivr: build peers
	./bench/ivr.sh

## fuzz: each fuzz target for FUZZTIME.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 5s $$pkg || exit 1; \
	  done; \
	done

## generate: stringer for the enum types.
generate:
	$(GO) generate ./...

## tidy-check: go.mod and go.sum are tidy.
tidy-check:
	$(GO) mod tidy -diff

clean:
	rm -rf bin
