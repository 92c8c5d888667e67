# synthcast: every target CI runs is here; `make check` is what CI runs.
GO          ?= go
GOBIN       := $(shell $(GO) env GOPATH)/bin
STATICCHECK := $(GOBIN)/staticcheck
STATICCHECK_VERSION := v0.8.2
# FUZZTIME: how long each fuzz target runs; fuzz-smoke defaults to 10s, fuzz-long to 10m.
FUZZTIME    ?= 10s
# Debian packages the tests need: ffprobe/ffmpeg decode our MP3 and read ICY
# titles, mpg123 too, curl drives HTTP, systemd gives systemd-analyze to
# verify the unit, chromium runs the web player's test, and redis-server,
# nginx and haproxy the cluster's (each test starts its own on loopback). On
# a host with systemd, Debian starts their system services on install:
# `systemctl disable --now nginx haproxy redis-server` if unwanted.
TEST_DEBS   := ffmpeg mpg123 curl systemd chromium redis-server nginx haproxy
SUDO        := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run build test check deps tools fmt-check vet lint race allocs fuzz-smoke fuzz-long layering shine clean bench bench-peers bench-plots

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
# render knows no sockets or HTTP; store knows no audio, HTTP, gnet or server;
# web (the embedded page) is the standard library only.
layering:
	@bad=$$($(GO) list -deps ./httpparse ./loop | grep -v '^[a-z0-9/]*$$' | grep -v '^github.com/synthcast/synthcast/\(httpparse\|loop\)$$' || true); \
	if [ -n "$$bad" ]; then echo "httpparse/loop import non-stdlib packages: $$bad"; exit 1; fi
	@bad=$$($(GO) list -deps ./render | grep -E 'synthcast/(server|httpparse|loop)|gnet|^net$$|^net/http$$' || true); \
	if [ -n "$$bad" ]; then echo "render imports: $$bad"; exit 1; fi
	@bad=$$($(GO) list -deps ./store | grep -E 'synthcast/(server|httpparse|loop|render)|gnet|^net/http$$' || true); \
	if [ -n "$$bad" ]; then echo "store imports: $$bad"; exit 1; fi
	@bad=$$($(GO) list -deps -f '{{if not .Standard}}{{.ImportPath}}{{end}}' ./web | grep -v '^github.com/synthcast/synthcast/web$$' || true); \
	if [ -n "$$bad" ]; then echo "web imports non-stdlib packages: $$bad"; exit 1; fi

race:
	$(GO) test -race -shuffle=on -count=1 ./...

# The patched shine-mp3 (render/shine-mp3, a module of its own behind a
# replace directive, so ./... does not reach it): vet, lint, its tests and its
# fuzz target, each with the AVX2 kernels (where the CPU has them) and with
# the Go ones (-tags purego); render's encoder tests again on the Go kernels.
shine: tools
	cd render/shine-mp3 && $(GO) vet ./... && $(GO) vet -tags purego ./... && \
		$(STATICCHECK) ./... && $(STATICCHECK) -tags purego ./... && \
		$(GO) test -race -count=1 ./... && $(GO) test -race -count=1 -tags purego ./...
	$(GO) test -race -count=1 -tags purego ./render/
	@if grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo; then \
		echo "shine: this CPU has AVX2 and FMA: the SIMD kernels and the Go ones were tested"; \
	else echo "shine: WARNING: this CPU lacks AVX2 or FMA: only the Go kernels were tested"; fi
	@cd render/shine-mp3 && GO='$(GO)' bash ../../scripts/fuzz.sh ./pkg/mp3 FuzzKernels '$(FUZZTIME)'

# The zero-allocation tests are built without -race (the race detector allocates).
allocs:
	$(GO) test -count=1 -run 'Alloc' ./...

# Every fuzz target's seed corpus (its f.Add values and testdata/fuzz/<Target>/
# files) runs as ordinary subtests under plain `go test ./...`, so `race`
# already fails on a seed or a committed crasher that fails. Keep it so: no
# fuzz target may skip its seeds (testing.Short, build tags, -run filters).
#
# FUZZ_EACH runs every fuzz target for FUZZTIME, one go test per target,
# through scripts/fuzz.sh: it fails on a new failing input under testdata/fuzz/
# (or a build or seed failure) and only warns when the fuzzing engine itself
# timed out twice. The packages are those whose test files declare a Fuzz
# function, so new ones join without an edit here; go test -list then names
# the targets.
FUZZ_EACH = set -e; failed=""; \
	pkgs=$$($(GO) list -f '{{range .TestGoFiles}}{{$$.ImportPath}} {{$$.Dir}}/{{.}}{{"\n"}}{{end}}{{range .XTestGoFiles}}{{$$.ImportPath}} {{$$.Dir}}/{{.}}{{"\n"}}{{end}}' ./... | \
		while read -r pkg file; do if grep -q '^func Fuzz' "$$file"; then echo "$$pkg"; fi; done | uniq); \
	if [ -z "$$pkgs" ]; then echo "fuzz: found no package with a Fuzz target"; exit 1; fi; \
	for pkg in $$pkgs; do \
		targets=$$($(GO) test -list '^Fuzz' "$$pkg"); \
		for f in $$(echo "$$targets" | grep '^Fuzz' || true); do \
			GO='$(GO)' bash scripts/fuzz.sh "$$pkg" "$$f" '$(FUZZTIME)' || failed="$$failed $$pkg.$$f"; \
		done; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz targets that failed:$$failed"; exit 1; fi

## fuzz-smoke: each fuzz target for FUZZTIME (default 10s); part of check
fuzz-smoke:
	@$(FUZZ_EACH)

## fuzz-long: each fuzz target for FUZZTIME (default 10m here); not part of check
fuzz-long: FUZZTIME := $(if $(filter file,$(origin FUZZTIME)),10m,$(FUZZTIME))
fuzz-long:
	@$(FUZZ_EACH)

## bench: synthcast alone under load → bench/out/bench.jsonl and its section of BENCHMARKS.md (QUICK=1: a smoke run)
bench:
	bash bench/run-bench.sh

## bench-peers: side by side with Icecast 2 + Liquidsoap 2 and nginx (installed from Debian if missing) → BENCHMARKS.md (QUICK=1: a smoke run)
bench-peers:
	bash bench/run-peers.sh

## bench-plots: redraw bench/plots/ (gnuplot) and BENCHMARKS.md from the last results in bench/out/, measuring nothing
bench-plots:
	bash bench/peers/plots.sh bench/out bench/plots
	bash bench/peers/mdgen.sh bench/out BENCHMARKS.md bench/plots

clean:
	rm -rf bin

## install: bin/synthcast to $(DESTDIR)$(PREFIX)/bin and its systemd unit to $(DESTDIR)$(PREFIX)/lib/systemd/system (PREFIX=/usr/local)
# PREFIX=/usr/local keeps a local install where dpkg owns nothing; systemd reads
# units in /usr/local/lib/systemd/system, and a package build (PREFIX=/usr,
# DESTDIR=debian/synthcast) gets /usr/lib/systemd/system. The unit's ExecStart
# is pointed at $(PREFIX)/bin. Settings belong in `systemctl edit` drop-ins
# under /etc/systemd/system, which a reinstall never overwrites. BIN is what is
# installed; it is built first only if missing, so `sudo make install` after
# `make build` needs no Go on root's PATH.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
UNITDIR ?= $(PREFIX)/lib/systemd/system
BIN     ?= bin/synthcast
.PHONY: install uninstall
install:
	@[ -x '$(BIN)' ] || $(MAKE) build
	install -D -m 0755 '$(BIN)' '$(DESTDIR)$(BINDIR)/synthcast'
	install -d '$(DESTDIR)$(UNITDIR)'
	sed 's|^ExecStart=/usr/local/bin/synthcast |ExecStart=$(BINDIR)/synthcast |' deploy/systemd/synthcast.service > '$(DESTDIR)$(UNITDIR)/synthcast.service'
	chmod 0644 '$(DESTDIR)$(UNITDIR)/synthcast.service'

## uninstall: remove what install put (the streams in /var/lib/synthcast stay)
uninstall:
	rm -f '$(DESTDIR)$(BINDIR)/synthcast' '$(DESTDIR)$(UNITDIR)/synthcast.service'
