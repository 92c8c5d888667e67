# synthcast: every target CI runs is here; `make check` is what CI runs.
GO          ?= go
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
FUZZTIME    ?= 10s
# Debian packages the tests need (ffprobe/ffmpeg decode our MP3, mpg123 too, curl drives HTTP).
TEST_DEBS   := ffmpeg mpg123 curl
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run build test check deps tools fmt-check vet lint race allocs fuzz-smoke layering shine clean bench bench-peers

## run: build and run the server with its embedded defaults (127.0.0.1:8000)
run: build
	./bin/synthcast

build:
	$(GO) build -o bin/synthcast .

## deps: install the Debian packages the tests use, when missing
deps:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	$(GO) mod download

## tools: the Go tools the checks use
tools:
	@[ -x $(STATICCHECK) ] && $(STATICCHECK) -version | grep -q '$(STATICCHECK_VERSION:v%=%)' || \
		$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

## check: everything CI runs
check: deps tools fmt-check vet lint layering race allocs fuzz-smoke shine

## test: the unit and end-to-end tests with the race detector
test: deps race

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

lint: tools
	$(STATICCHECK) ./...

# One room per package: httpparse and loop import only the standard library;
# render knows no sockets or HTTP.
layering:
	@bad=$$($(GO) list -deps ./httpparse ./loop | grep -v '^[a-z0-9/]*$$' | grep -v '^github.com/synthcast/synthcast/\(httpparse\|loop\)$$' || true); \
	if [ -n "$$bad" ]; then echo "httpparse/loop import non-stdlib packages: $$bad"; exit 1; fi
	@bad=$$($(GO) list -deps ./render | grep -E 'synthcast/(server|httpparse|loop)|gnet|^net$$|^net/http$$' || true); \
	if [ -n "$$bad" ]; then echo "render imports: $$bad"; exit 1; fi

race:
	$(GO) test -race -shuffle=on -count=1 ./...

# The patched shine-mp3 (render/shine-mp3, a module of its own behind a
# replace directive, so ./... does not reach it): vet, lint, its tests.
shine: tools
	cd render/shine-mp3 && $(GO) vet ./... && $(STATICCHECK) ./... && $(GO) test -race -count=1 ./...

# The zero-allocation tests are built without -race (the race detector allocates).
allocs:
	$(GO) test -count=1 -run 'Alloc' ./...

# A short run of every fuzz target (go test runs one target per invocation).
fuzz-smoke:
	@set -e; for pkg in ./httpparse ./loop ./render ./server ./bench; do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

## bench: synthcast alone under load → bench/out/bench.jsonl and its section of BENCHMARKS.md (QUICK=1: a smoke run)
bench:
	bash bench/run-bench.sh

## bench-peers: side by side with Icecast 2 + Liquidsoap 2 and nginx (installed from Debian if missing) → BENCHMARKS.md (QUICK=1: a smoke run)
bench-peers:
	bash bench/run-peers.sh

clean:
	rm -rf bin
