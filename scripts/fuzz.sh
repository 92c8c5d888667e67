#!/usr/bin/env bash
# fuzz.sh runs one fuzz target for a while and says what a failure means.
#
#	scripts/fuzz.sh PKG TARGET [FUZZTIME]      e.g. scripts/fuzz.sh ./httpparse FuzzNetHTTP 10s
#
# It ends in one of four ways:
#   pass            go test passed (exit 0).
#   real failure    go test failed and wrote a new input under
#                   PKG/testdata/fuzz/TARGET/: the input is printed with the
#                   command that re-runs it (exit 1). Commit it with the fix.
#   engine failure  go test failed with only the fuzzing engine's own errors
#                   and wrote no input: run once more; if that fails the same
#                   way, print a warning (exit 0). See below.
#   anything else   a build error, a failing seed-corpus entry, a run still
#                   going FUZZ_GRACE after FUZZTIME, anything not recognised
#                   above (exit 1).
#
# The engine's own errors, which name no input and so cannot be a bug in
# the code under test:
#   - "context deadline exceeded": Go 1.26's internal/fuzz ends a -fuzztime
#     run by a context deadline and suppresses that error only if it equals
#     the error of a child context, which may not be cancelled yet; a clean
#     run then fails (golang/go#75804; fixed upstream, not in go1.26.8).
#   - a worker process that died or stalled while no input was in flight
#     ("fuzzing process hung or terminated unexpectedly", "terminated by
#     unexpected signal; no crash will be recorded", "communicating with
#     fuzzing process").
# When the engine does write an input, the run fails; the script re-runs the
# input alone and says if it passes, since the engine can blame an innocent
# input for a worker that was only slow (golang/go#56238).
#
# FUZZ_PARALLEL, the number of fuzzing worker processes, defaults to the CPU
# count, as go test's does; the log shows it. Fewer workers do not avoid
# golang/go#75804, a race inside the coordinator: on a two-core machine under
# two busy loops, 2,000 runs of FuzzIPv6 with two workers failed that way
# once, and 2,000 more with the coordinator held to GOMAXPROCS=1, four times.
# In 10s of FuzzNetHTTP two workers ran about twice the inputs of one (189k
# against 388k-501k), so a smoke run keeps both.
#
# Environment:
#   GO              the go command (default go).
#   FUZZ_PARALLEL   fuzzing worker processes (default: the number of CPUs).
#   FUZZ_GRACE      seconds allowed past FUZZTIME for building, the seed
#                   corpus, and minimising a crasher (default 300;
#                   -fuzzminimizetime alone may take 60). A FUZZTIME given
#                   as a count (1000x) is bounded by FUZZ_GRACE alone.
set -euo pipefail
shopt -s inherit_errexit

usage() {
	echo "usage: $0 PKG TARGET [FUZZTIME]" >&2
	exit 2
}
if [ $# -lt 2 ] || [ $# -gt 3 ]; then usage; fi
pkg=$1
target=$2
fuzztime=${3:-10s}
GO=${GO:-go}
parallel=${FUZZ_PARALLEL:-$(nproc)}
grace=${FUZZ_GRACE:-300}
[[ $target =~ ^Fuzz[A-Za-z0-9_]*$ ]] || { echo "$0: $target is not a fuzz target name" >&2; exit 2; }
[[ $parallel =~ ^[1-9][0-9]*$ && $grace =~ ^[1-9][0-9]*$ ]] ||
	{ echo "$0: FUZZ_PARALLEL and FUZZ_GRACE must be positive integers" >&2; exit 2; }

# seconds prints a Go duration made of h, m, s and ms parts (10s, 1h30m,
# 1.5s) as whole seconds, rounded up; a count (1000x) as 0.
seconds() {
	local d=$1 total=0 n up
	if [[ $d =~ ^[0-9]+x$ ]]; then
		echo 0
		return
	fi
	while [ -n "$d" ]; do
		if [[ $d =~ ^[0-9]+(\.[0-9]+)?ms(.*)$ ]]; then
			total=$((total + 1)) # a part below a second: round it up
			d=${BASH_REMATCH[2]}
		elif [[ $d =~ ^([0-9]+)(\.[0-9]+)?([hms])(.*)$ ]]; then
			n=$((10#${BASH_REMATCH[1]}))
			up=0
			[ -z "${BASH_REMATCH[2]}" ] || up=1
			case ${BASH_REMATCH[3]} in
			h) total=$((total + (n + up) * 3600)) ;;
			m) total=$((total + (n + up) * 60)) ;;
			s) total=$((total + n + up)) ;;
			esac
			d=${BASH_REMATCH[4]}
		else
			return 1
		fi
	done
	echo "$total"
}
fuzzsecs=$(seconds "$fuzztime") || { echo "$0: FUZZTIME $fuzztime is not a duration like 10s or 1h30m, or a count like 1000x" >&2; exit 2; }
bound=$((fuzzsecs + grace))

dir=$("$GO" list -f '{{.Dir}}' "$pkg")
corpus=$dir/testdata/fuzz/$target
log=$(mktemp "${TMPDIR:-/tmp}/fuzz-$target.XXXXXX")
trap 'rm -f "$log"' EXIT

# inputs lists the files in the target's corpus directory, one a line.
inputs() {
	[ -d "$corpus" ] || return 0
	find "$corpus" -maxdepth 1 -type f -printf '%f\n' | LC_ALL=C sort
}

# engine_only reports whether the log's failure of $target consists only of
# the engine's own errors: the lines between "--- FAIL: $target" and "FAIL".
engine_only() {
	local block
	block=$(awk -v t="--- FAIL: $target (" '
		index($0, t) == 1 { in_block = 1; next }
		in_block && $0 == "FAIL" { exit }
		in_block { sub(/^[ \t]+/, ""); if ($0 != "") print }
	' "$log")
	[ -n "$block" ] || return 1
	! grep -v -E -e '^context deadline exceeded$' \
		-e '^fuzzing process hung or terminated unexpectedly: ' \
		-e '^fuzzing process terminated by unexpected signal; no crash will be recorded: ' \
		-e '^communicating with fuzzing process: ' <<<"$block" >/dev/null
}

# attempt runs go test once and prints its outcome: pass, real, engine,
# killed, build or other.
attempt() {
	local before after new rc name
	before=$(inputs)
	echo "fuzz $pkg $target ($fuzztime, -parallel=$parallel)" >&2
	set +e
	# SIGINT first, as ^C would, so the engine stops its workers and keeps
	# what it found; timeout signals the whole process group.
	timeout --signal=INT --kill-after=30 "$bound" \
		"$GO" test -run '^$' -fuzz "^$target\$" -fuzztime "$fuzztime" -parallel "$parallel" "$pkg" 2>&1 |
		tee "$log" >&2
	rc=${PIPESTATUS[0]}
	set -e
	[ "$rc" -eq 0 ] && { echo pass; return; }
	after=$(inputs)
	new=$(LC_ALL=C comm -13 <(echo "$before") <(echo "$after") | sed '/^$/d')
	if [ -n "$new" ]; then
		for name in $new; do
			echo "--- new failing input $corpus/$name:" >&2
			cat "$corpus/$name" >&2
			echo "--- re-run: $GO test -run '^$target/$name\$' $pkg" >&2
			if timeout 120 "$GO" test -count=1 -run "^$target/$name\$" "$pkg" >/dev/null 2>&1; then
				echo "--- it PASSES when re-run alone: the engine may have blamed an innocent input (golang/go#56238); check before committing it." >&2
			else
				echo "--- it fails when re-run alone: commit it with the fix." >&2
			fi
		done
		echo real
	elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		echo killed
	elif engine_only; then
		echo engine
	elif grep -q -E '^FAIL[[:space:]].*\[(build|setup) failed\]$' "$log"; then
		echo build
	else
		echo other
	fi
}

verdict() {
	echo "fuzz.sh: $target ($pkg): $*" >&2
}

outcome=$(attempt)
retried=""
if [ "$outcome" = engine ]; then
	verdict "the fuzzing engine failed without writing an input; running once more"
	retried=" (on the second run)"
	outcome=$(attempt)
	if [ "$outcome" = engine ]; then
		if grep -q '^ *context deadline exceeded$' "$log"; then
			why="\"context deadline exceeded\" at the end of -fuzztime, golang/go#75804"
		else
			why="a fuzzing worker died or stalled with no input in flight"
		fi
		verdict "WARNING: engine time-out, not a bug in $pkg: the Go fuzzing engine failed twice without writing an input ($why). Not failing the build."
		exit 0
	fi
fi
case $outcome in
pass) verdict "pass$retried" ;;
real) verdict "FAIL$retried: a failing input was written (above)"; exit 1 ;;
killed) verdict "FAIL$retried: still running ${grace}s after FUZZTIME $fuzztime; killed"; exit 1 ;;
build) verdict "FAIL$retried: the package or its tests do not build (above)"; exit 1 ;;
*) verdict "FAIL$retried: go test failed without writing an input, and not with the engine's own errors: a seed-corpus entry or the target itself failed (above)"; exit 1 ;;
esac
