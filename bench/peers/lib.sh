# shellcheck shell=bash
# Helpers shared by bench/run-bench.sh and bench/run-peers.sh (sourced, not run).
#
# Rules they enforce: every process a run starts is recorded by PID and stopped
# by that PID on exit (normal or not); every load is bounded by a timeout; only
# 127.0.0.1 is ever a target.

BP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BP_PEERS="$BP_ROOT/bench/peers"
# Results and the report. A QUICK=1 smoke run, or a run with its own BENCH_OUT,
# writes its BENCHMARKS.md there, never over the repository's.
if [ "${QUICK:-0}" = 1 ]; then
	BP_OUT=${BENCH_OUT:-$BP_ROOT/bench/out/quick}
else
	BP_OUT=${BENCH_OUT:-$BP_ROOT/bench/out}
fi
if [ -n "${BENCH_OUT:-}" ] || [ "${QUICK:-0}" = 1 ]; then
	BP_MD=${BENCH_MD:-$BP_OUT/BENCHMARKS.md}
else
	BP_MD=${BENCH_MD:-$BP_ROOT/BENCHMARKS.md}
fi
# The plots' data files and SVGs (bench/peers/plots.sh): the committed ones
# beside the repository's report, the run's own beside any other report.
if [ "$BP_MD" = "$BP_ROOT/BENCHMARKS.md" ]; then
	BP_PLOTS=${BENCH_PLOTS:-$BP_ROOT/bench/plots}
else
	BP_PLOTS=${BENCH_PLOTS:-$BP_OUT/plots}
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo

BP_PIDS=()      # processes started by this run, stopped in bp_cleanup
BP_LAST_PID=""  # PID of the last bp_start
BP_RUN=""       # this run's scratch directory (configs, logs)
BP_JSONL=""     # this run's results, one JSON object a line
BP_T0=$(date +%s)

bp_log() { printf '[%s] %s\n' "$(date +%T)" "$*" >&2; }
bp_die() { bp_log "FATAL: $*"; exit 1; }

# bp_init SUITE: scratch dir, results file bench/out/SUITE.jsonl (started afresh),
# traps. Results are written to a temporary file and moved into place at the end,
# so a failed run leaves the previous results (and BENCHMARKS.md) as they were
# unless BENCH_KEEP_PARTIAL=1.
bp_init() {
	BP_SUITE=$1
	cd "$BP_ROOT" || exit 1
	mkdir -p "$BP_OUT"
	BP_RUN=$(mktemp -d "${TMPDIR:-/tmp}/synthcast-$BP_SUITE.XXXXXX")
	chmod 755 "$BP_RUN" # Icecast runs as nobody and must reach its config
	BP_JSONL="$BP_RUN/results.jsonl"
	: >"$BP_JSONL"
	set -E
	trap 'bp_log "failed at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND"' ERR
	trap bp_cleanup EXIT
	trap 'bp_log "interrupted"; exit 130' INT TERM HUP
	bp_log "scratch dir $BP_RUN; results go to $BP_OUT/$BP_SUITE.jsonl"
}

bp_cleanup() {
	local rc=$?
	set +e
	local pid
	for pid in "${BP_PIDS[@]}"; do
		[ -n "$pid" ] && bp_stop "$pid"
	done
	BP_PIDS=()
	if [ "$rc" != 0 ] && [ -n "$BP_JSONL" ] && [ -s "$BP_JSONL" ]; then
		cp "$BP_JSONL" "$BP_OUT/$BP_SUITE.partial.jsonl"
		bp_log "run failed (exit $rc): partial results in $BP_OUT/$BP_SUITE.partial.jsonl, logs in $BP_RUN"
		if [ "${BENCH_KEEP_PARTIAL:-0}" = 1 ]; then
			jq -nc --argjson s "$(($(date +%s) - BP_T0))" --arg q "${QUICK:-0}" --argjson rc "$rc" --arg sec "${SECTIONS:-}" \
				'{case: "run", seconds: $s, quick: ($q == "1"), partial: true, exit: $rc,
				  sections: ($sec | split(" ") | map(select(. != "")))}' >>"$BP_OUT/$BP_SUITE.partial.jsonl"
			mv "$BP_OUT/$BP_SUITE.partial.jsonl" "$BP_OUT/$BP_SUITE.jsonl"
			"$BP_PEERS/mdgen.sh" "$BP_OUT" "$BP_MD" "$BP_PLOTS" && bp_log "$BP_MD regenerated from the partial results"
		fi
	elif [ "$rc" = 0 ] && [ "${BENCH_KEEP_LOGS:-0}" != 1 ] && [ -n "$BP_RUN" ]; then
		rm -rf "$BP_RUN"
	elif [ -n "$BP_RUN" ]; then
		bp_log "logs kept in $BP_RUN"
	fi
	exit "$rc"
}

# bp_start NAME CMD...: start CMD in the background, output to $BP_RUN/NAME.log;
# its PID is in BP_LAST_PID and will be stopped on exit.
bp_start() {
	local name=$1
	shift
	"$@" >"$BP_RUN/$name.log" 2>&1 &
	BP_LAST_PID=$!
	BP_PIDS+=("$BP_LAST_PID")
	bp_log "started $name (pid $BP_LAST_PID): $*"
}

# bp_stop PID: SIGTERM, up to 15 s to exit, then SIGKILL. Only this PID.
bp_stop() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 150; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			bp_log "pid $pid ignored SIGTERM for 15 s: SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
	local keep=() p
	for p in "${BP_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	BP_PIDS=("${keep[@]}")
	return 0
}

# bp_run NAME SECONDS CMD...: run CMD bounded by SECONDS (SIGTERM, then SIGKILL
# 10 s later), stdout to $BP_RUN/NAME.out, stderr to $BP_RUN/NAME.err; returns
# its exit status. Run in the background and waited for, so that a signal to
# this script stops it at once (through the EXIT trap).
bp_run() {
	local name=$1 secs=$2
	shift 2
	timeout -k 10 "$secs" "$@" >"$BP_RUN/$name.out" 2>"$BP_RUN/$name.err" &
	local pid=$!
	BP_PIDS+=("$pid")
	local rc=0
	wait "$pid" || rc=$?
	local keep=() p
	for p in "${BP_PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
	BP_PIDS=("${keep[@]}")
	return "$rc"
}

# bp_wait_http URL SECONDS [PID]: wait until URL answers (any HTTP status);
# fails early if PID died.
bp_wait_http() {
	local url=$1 secs=$2 pid=${3:-} code end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		# An endless stream never completes: headers received are enough.
		code=$(curl -s -o /dev/null -w "%{http_code}" --max-time 1 "$url" 2>/dev/null || true)
		case $code in
		[1-9]??) return 0 ;;
		esac
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			bp_log "pid $pid exited while waiting for $url"
			return 1
		fi
		sleep 0.2
	done
	bp_log "timed out after ${secs}s waiting for $url"
	return 1
}

# bp_wait_audio URL SECONDS: wait until URL serves at least 4 KiB of body.
bp_wait_audio() {
	local url=$1 secs=$2 n end=$((SECONDS + $2))
	while [ $SECONDS -lt $end ]; do
		n=$(curl -s --max-time 1.5 "$url" 2>/dev/null | head -c 4096 | wc -c || true)
		[ "${n:-0}" -ge 4096 ] && return 0
		sleep 0.5
	done
	bp_log "timed out after ${secs}s waiting for audio at $url"
	return 1
}

# bp_port_free PORT: true when nothing listens on 127.0.0.1:PORT.
bp_port_free() {
	! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# bp_pick_port VAR DEFAULT: VAR := DEFAULT or the next free port above it.
bp_pick_port() {
	local var=$1 p=$2
	while ! bp_port_free "$p"; do p=$((p + 1)); done
	printf -v "$var" '%s' "$p"
}

# bp_secret: a fresh random password.
bp_secret() { head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

# bp_raise_nofile: soft open-files limit up to the hard limit (20000 here);
# children inherit it.
bp_raise_nofile() {
	local hard
	hard=$(ulimit -Hn)
	if [ "$hard" = unlimited ]; then hard=1048576; fi
	ulimit -n "$hard" 2>/dev/null || bp_log "could not raise ulimit -n to $hard"
	BP_NOFILE=$(ulimit -n)
	bp_log "open files limit: $BP_NOFILE"
}

# bp_apt PKG...: install the Debian packages that are missing (apt-get update
# first), or stop the run.
bp_apt() {
	bp_apt_try "$@" || bp_die "apt-get install $* failed"
}

# bp_apt_try PKG...: install the Debian packages that are missing; non-zero
# (the tail of apt's log on stderr) if that failed.
bp_apt_try() {
	local missing=() p
	for p in "$@"; do
		dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
	done
	[ ${#missing[@]} = 0 ] && return 0
	bp_log "installing from Debian: ${missing[*]}"
	$SUDO apt-get update -qq || return 1
	# icecast2's postinst asks debconf questions: answer none, keep the defaults.
	$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}" >"$BP_RUN/apt.log" 2>&1 ||
		{ tail -20 "$BP_RUN/apt.log" >&2; return 1; }
}

# bp_build: bin/synthcast and the load-test command (BENCH_BIN overrides the latter).
bp_build() {
	(cd "$BP_ROOT" && go build -o bin/synthcast .) || bp_die "go build synthcast failed"
	SYNTHCAST="$BP_ROOT/bin/synthcast"
	if [ -n "${BENCH_BIN:-}" ]; then
		BENCH="$BENCH_BIN"
	else
		(cd "$BP_ROOT" && go build -o "$BP_RUN/bench" ./bench) ||
			bp_die "go build ./bench failed (the load-test command)"
		BENCH="$BP_RUN/bench"
	fi
	# How the report names the load-test command.
	BENCH_SHOWN="go run ./bench"
}

# bp_record JSON_OBJECT: append one result line (adds the time).
bp_record() {
	jq -c --arg t "$(date -u +%FT%TZ)" '. + {time: $t}' <<<"$1" >>"$BP_JSONL" ||
		bp_log "could not record: $1"
}

# bp_last_json FILE: the last line of FILE that is a JSON object, or nothing.
bp_last_json() {
	local line
	line=$(grep -E '^\s*\{' "$1" 2>/dev/null | tail -n 1)
	[ -n "$line" ] && jq -e -c . <<<"$line" 2>/dev/null
}

# bp_meta META_JSON: META plus {"server": BP_SERVER}, the server command line
# that the current case measures (set by whoever started it).
bp_meta() {
	if [ -n "${BP_SERVER:-}" ]; then
		jq -c --arg s "$BP_SERVER" '. + {server: $s}' <<<"$1"
	else
		echo "$1"
	fi
}

# bp_case META_JSON NAME SECONDS CMD...: run one bounded measurement and record
# META + {"cmd", "result"} (or {"error"} with the tail of its stderr).
bp_case() {
	local meta=$1 name=$2 secs=$3
	shift 3
	local shown=${BP_SHOWN_CMD:-}
	meta=$(bp_meta "$meta")
	if [ -z "$shown" ]; then
		shown="$*"
		shown=${shown/#"$BENCH"/$BENCH_SHOWN}
	fi
	bp_log "run $name: $shown"
	local rc=0 res
	bp_run "$name" "$secs" "$@" || rc=$?
	res=$(bp_last_json "$BP_RUN/$name.out") || res=""
	if [ -n "$res" ]; then
		bp_record "$(jq -c --arg cmd "$shown" --argjson r "$res" --argjson rc "$rc" \
			'. + {cmd: $cmd, result: $r} + (if $rc != 0 then {exit: $rc} else {} end)' <<<"$meta")"
		bp_log "  → $(jq -c "del(.server)" <<<"$res" | cut -c1-400)"
	else
		local err
		err=$(tail -c 600 "$BP_RUN/$name.err" 2>/dev/null | tr -d '\000')
		[ "$rc" = 124 ] && err="timed out after ${secs}s; $err"
		bp_record "$(jq -c --arg cmd "$shown" --arg e "exit $rc: $err" '. + {cmd: $cmd, error: $e}' <<<"$meta")"
		bp_log "  → FAILED (exit $rc): $err"
	fi
	BP_SHOWN_CMD=""
}

# bp_probe META_JSON URL: ffprobe URL and record codec, rate, channels, bitrate;
# returns non-zero unless it is 128 kbit/s 44.1 kHz stereo MP3.
bp_probe() {
	local meta=$1 url=$2 out
	out=$(timeout -k 5 20 ffprobe -v error -formatprobesize 16384 -select_streams a:0 \
		-show_entries stream=codec_name,sample_rate,channels,bit_rate -of json "$url" 2>&1 || true)
	local s
	s=$(jq -c '.streams[0] // {}' <<<"$out" 2>/dev/null) || s='{}'
	local ok=false
	if [ "$(jq -r '[.codec_name, .sample_rate, (.channels|tostring), .bit_rate] | join(" ")' <<<"$s")" = "mp3 44100 2 128000" ]; then
		ok=true
	fi
	bp_record "$(jq -c --arg url "$url" --argjson s "$s" --argjson ok "$ok" \
		--arg cmd "ffprobe -v error -formatprobesize 16384 -show_entries stream=codec_name,sample_rate,channels,bit_rate $url" \
		'. + {case: "probe", url: $url, probe: $s, ok: $ok, cmd: $cmd}' <<<"$meta")"
	bp_log "probe $url: $s ok=$ok"
	[ "$ok" = true ]
}

# bp_machine: one "machine" record (CPU, memory, kernel, versions, and the
# load average at the start: other work on the machine skews every figure).
bp_machine() {
	local model mem kernel gov ice liq ng wrkv
	model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
	mem=$(awk '/^MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)
	kernel=$(uname -sr)
	gov=$(go version 2>/dev/null | awk '{print $3}')
	ice=$(icecast2 -v 2>/dev/null | head -1 || true)
	liq=$(liquidsoap --version 2>/dev/null | head -1 || true)
	ng=$(nginx -v 2>&1 | sed 's/^nginx version: //' || true)
	wrkv=$(wrk -v 2>&1 | head -1 | awk '{print $1, $2}' || true)
	# dirty: uncommitted changes other than the report itself, which make
	# bench has just rewritten when make bench-peers follows it.
	bp_record "$(jq -nc --arg cpu "$model" --arg n "$(nproc)" --arg mem "$mem" --arg k "$kernel" \
		--arg go "$gov" --arg ice "$ice" --arg liq "$liq" --arg nginx "$ng" --arg wrk "$wrkv" \
		--arg nofile "$(ulimit -n)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg commit "$(cd "$BP_ROOT" && git rev-parse --short HEAD 2>/dev/null)" \
		--arg dirty "$(cd "$BP_ROOT" && git --no-optional-locks status --porcelain -- . ':(exclude)BENCHMARKS.md' 2>/dev/null | grep -q . && echo yes || echo no)" \
		'{case: "machine", nproc: ($n|tonumber), cpu: $cpu, memory: $mem, kernel: $k, go: $go,
		  icecast: $ice, liquidsoap: $liq, nginx: $nginx, wrk: $wrk, nofile: $nofile, load: $load,
		  commit: $commit, dirty: $dirty}')"
}

# bp_finish: publish this run's results and regenerate the plots (data and
# SVGs in BP_PLOTS; a failure there is logged, not fatal) and BENCHMARKS.md.
bp_finish() {
	bp_record "$(jq -nc --argjson s "$(($(date +%s) - BP_T0))" --arg q "${QUICK:-0}" --arg sec "${SECTIONS:-}" \
		--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
		'{case: "run", seconds: $s, quick: ($q == "1"), sections: ($sec | split(" ") | map(select(. != ""))), load: $load}')"
	mv "$BP_JSONL" "$BP_OUT/$BP_SUITE.jsonl"
	rm -f "$BP_OUT/$BP_SUITE.partial.jsonl"
	BP_JSONL=""
	BENCH=$BENCH "$BP_PEERS/plots.sh" "$BP_OUT" "$BP_PLOTS" || bp_log "plots.sh failed: the plots in $BP_PLOTS are left as they were"
	"$BP_PEERS/mdgen.sh" "$BP_OUT" "$BP_MD" "$BP_PLOTS"
	bp_log "wrote $BP_OUT/$BP_SUITE.jsonl, $BP_PLOTS and $BP_MD in $(($(date +%s) - BP_T0)) s"
}

# --- synthcast -------------------------------------------------------------

# bp_synthcast_start NAME PORT ARGS...: start bin/synthcast on 127.0.0.1:PORT;
# PID in SC_PID. Unless ARGS name a -data-dir or -store memory, the streams are
# kept in a fresh directory of the run's, $BP_RUN/data-NAME (RUN/data-NAME in
# the report): never in the repository's ./data, and never carried over from
# an earlier server (its streams would count against -max-streams). Unless
# ARGS name one, the admin listener (/metrics) is on 127.0.0.1:$P_ADMIN.
bp_synthcast_start() {
	local name=$1 port=$2
	shift 2
	local a own=0 admin=0
	for a in "$@"; do
		case $a in
		-data-dir | -data-dir=* | --data-dir | --data-dir=* | memory) own=1 ;;
		-admin-listen | -admin-listen=* | --admin-listen | --admin-listen=*) admin=1 ;;
		esac
	done
	if [ $own = 0 ]; then
		rm -rf "$BP_RUN/data-$name"
		set -- "$@" -data-dir "$BP_RUN/data-$name"
	fi
	# The admin listener (/metrics) on this run's port, not the fixed default.
	[ $admin = 1 ] || set -- "$@" -admin-listen "127.0.0.1:$P_ADMIN"
	bp_start "$name" "$SYNTHCAST" -listen "127.0.0.1:$port" "$@"
	BP_SERVER="bin/synthcast -listen 127.0.0.1:$port${*:+ $*}"
	BP_SERVER=${BP_SERVER//"$BP_RUN"/RUN}
	SC_PID=$BP_LAST_PID
	bp_wait_http "http://127.0.0.1:$port/healthz" 20 "$SC_PID" ||
		{ tail -20 "$BP_RUN/$name.log" >&2; bp_die "synthcast did not start"; }
}

# bp_synthcast_probe PORT META: create a stream, ffprobe it.
bp_synthcast_probe() {
	local port=$1 meta=$2 id
	id=$(curl -s --max-time 5 "http://127.0.0.1:$port/create_stream" | jq -r .id || true)
	bp_probe "$meta" "http://127.0.0.1:$port/stream?id=$id" || true
}

# bp_listen_timeout N RAMP DURATION: a hard bound, in seconds, for one listen
# run of N listeners: the ramp and window, plus time to connect and report.
bp_listen_timeout() { echo $(($(bp_secs "$2") + $(bp_secs "$3") + 90 + $1 / 200)); }

# bp_listen_case TAG META STREAMS N RAMP DURATION [ARGS...]: one listen case
# (STREAMS streams created for it) against the synthcast running on $P_SC,
# its CPU and RSS sampled (SC_PID); ARGS go to the listen mode (-icy, say).
bp_listen_case() {
	local tag=$1 meta=$2 streams=$3 n=$4 ramp=$5 duration=$6
	shift 6
	BP_SHOWN_CMD="$BENCH_SHOWN listen -url http://127.0.0.1:$P_SC -streams $streams -n $n -ramp $ramp -duration $duration -pid SYNTHCAST${*:+ $*} -json" \
		bp_case "$meta" "$tag" "$(bp_listen_timeout "$n" "$ramp" "$duration")" \
		"$BENCH" listen -url "http://127.0.0.1:$P_SC" -streams "$streams" -n "$n" \
		-ramp "$ramp" -duration "$duration" -pid "$SC_PID" "$@" -json
}

# bp_synthcast_listen TAG META STREAMS N RAMP DURATION [PROBE_META]: one
# listen case against a synthcast started for it on $P_SC and stopped after;
# with PROBE_META, its stream is ffprobed first.
bp_synthcast_listen() {
	local tag=$1 meta=$2 streams=$3 n=$4 ramp=$5 duration=$6 probe=${7:-}
	bp_synthcast_start synthcast "$P_SC" -max-listeners "$SC_MAX_LISTENERS"
	if [ -n "$probe" ]; then bp_synthcast_probe "$P_SC" "$probe"; fi
	bp_listen_case "$tag" "$meta" "$streams" "$n" "$ramp" "$duration"
	bp_stop "$SC_PID"
}

# bp_synthcast_tuned_listen TAG: TUNED_LISTENERS listeners over LISTEN_STREAMS
# streams on the synthcast running on $P_SC (started with the tuned pacing):
# the stall check that goes with the tuned change latency.
bp_synthcast_tuned_listen() {
	bp_listen_case "$1" \
		"$(jq -nc --argjson n "$TUNED_LISTENERS" --arg p "$TUNED_PREBUFFER" --arg t "$TUNED_TICK" '{section:"tuned", system:"synthcast-tuned", n:$n, prebuffer:$p, tick:$t}')" \
		"$LISTEN_STREAMS" "$TUNED_LISTENERS" "$LISTEN_RAMP" "$TUNED_DURATION"
}

# bp_icy_section: ICY metadata's cost. One synthcast on $P_SC (-store memory,
# the admin listener on $P_ADMIN), the same load twice in this run: ICY_N
# listeners over LISTEN_STREAMS streams, LISTEN_RAMP, ICY_DURATION, first
# plain, then with -icy; then one "ratio" record: the -icy run's server CPU
# per listener-second over the plain run's, and whether it meets ICY_GOAL.
bp_icy_section() {
	local meta plain icy rec
	meta=$(jq -nc --argjson n "$ICY_N" --argjson s "$LISTEN_STREAMS" '{section:"icy", system:"synthcast", n:$n, streams:$s}')
	bp_synthcast_start synthcast "$P_SC" -store memory -max-listeners "$SC_MAX_LISTENERS"
	bp_listen_case icy-plain "$(jq -c '. + {icy: false}' <<<"$meta")" "$LISTEN_STREAMS" "$ICY_N" "$LISTEN_RAMP" "$ICY_DURATION"
	bp_listen_case icy-icy "$(jq -c '. + {icy: true}' <<<"$meta")" "$LISTEN_STREAMS" "$ICY_N" "$LISTEN_RAMP" "$ICY_DURATION" -icy
	bp_stop "$SC_PID"
	plain=$(jq -s 'map(select(.section == "icy" and .icy == false)) | last | .result.server.cpu_per_listener_s // null' "$BP_JSONL")
	icy=$(jq -s 'map(select(.section == "icy" and .icy == true)) | last | .result.server.cpu_per_listener_s // null' "$BP_JSONL")
	rec=$(jq -nc --argjson p "$plain" --argjson i "$icy" --argjson g "$ICY_GOAL" \
		'{section: "icy", case: "ratio", plain_cpu_per_listener_s: $p, icy_cpu_per_listener_s: $i,
		  ratio: (if ($p | type) == "number" and ($i | type) == "number" and $p > 0 then $i / $p else null end), goal: $g}
		 | . + {goal_met: (if .ratio == null then null else .ratio <= $g end)}')
	bp_record "$rec"
	bp_log "icy: $(jq -r 'def ms: if type == "number" then (. * 1e6 | round) / 1000 | tostring else "?" end;
		"server CPU ms per listener-second: plain \(.plain_cpu_per_listener_s | ms), ICY \(.icy_cpu_per_listener_s | ms); "
		+ "ICY ÷ plain \(if .ratio then (.ratio * 1000 | round) / 1000 else "?" end) (goal ≤ \(.goal))"' <<<"$rec")"
}

# bp_control_timeout: seconds a control-plane case may take.
bp_control_timeout() {
	echo $(($(bp_secs "$CONTROL_DURATION") + 30))
}

# bp_wrk_set_param META TAG BASE_URL: wrk (CONTROL_THREADS, CONTROL_CONNS,
# CONTROL_DURATION) with bench/set_param.lua against BASE_URL, for the stream
# BP_STREAM_ID.
bp_wrk_set_param() {
	bp_wrk_case "$1" "$2" "$(bp_control_timeout)" \
		-t"$CONTROL_THREADS" -c"$CONTROL_CONNS" -d"$CONTROL_DURATION" --latency \
		-s bench/set_param.lua "$3" -- "$BP_STREAM_ID"
}

# bp_synthcast_set_param WRK_TAG BENCH_TAG: /set_param on a synthcast started
# for it on $P_SC, under wrk and then `bench control`; the stream's token
# stays in BP_STREAM_ID for a peer's run with the same script.
bp_synthcast_set_param() {
	bp_synthcast_start synthcast "$P_SC"
	BP_STREAM_ID=$(curl -s --max-time 5 "http://127.0.0.1:$P_SC/create_stream" | jq -r .id) || bp_die "create_stream failed"
	BP_WRK_PIDS=$SC_PID BP_WRK_METRICS="http://127.0.0.1:$P_ADMIN/metrics" \
		bp_wrk_set_param '{"section":"control","system":"synthcast","route":"/set_param","tool":"wrk"}' "$1" "http://127.0.0.1:$P_SC"
	bp_case '{"section":"control","system":"synthcast","route":"/set_param","tool":"bench"}' "$2" "$(bp_control_timeout)" \
		"$BENCH" control -url "http://127.0.0.1:$P_SC" -route set_param -c "$CONTROL_CONNS" -duration "$CONTROL_DURATION" -pid "$SC_PID" -json
	bp_stop "$SC_PID"
}

# bp_nginx_start NAME PORT: nginx `return 200` (nginx.conf.tmpl, one worker per
# core) on 127.0.0.1:PORT, config and logs in $BP_RUN/NAME; PID (the master's)
# in NG_PID, the master's and workers' in NG_PIDS. Returns non-zero, the
# reason in BP_SKIP, if nginx is not installed or did not start.
bp_nginx_start() {
	local name=$1 port=$2 dir="$BP_RUN/$1"
	NG_PID="" NG_PIDS="" BP_SKIP=""
	if ! command -v nginx >/dev/null; then
		BP_SKIP="skipped: nginx is not installed (Debian's nginx-light could not be installed)"
		return 1
	fi
	mkdir -p "$dir"
	sed -e "s|@DIR@|$dir|g; s|@PORT@|$port|; s|@WORKERS@|$(nproc)|" "$BP_PEERS/nginx.conf.tmpl" >"$dir/nginx.conf"
	bp_start "$name" nginx -p "$dir" -c "$dir/nginx.conf"
	NG_PID=$BP_LAST_PID
	BP_SERVER="nginx -c nginx.conf (bench/peers/nginx.conf.tmpl, $(nproc) workers, port $port)"
	if ! bp_wait_http "http://127.0.0.1:$port/" 10 "$NG_PID"; then
		cat "$BP_RUN/$name.log" >&2
		bp_stop "$NG_PID"
		BP_SKIP="nginx did not start"
		return 1
	fi
	NG_PIDS="$NG_PID $(pgrep -P "$NG_PID" | tr '\n' ' ')"
}

# --- the durable control plane (section "store") ------------------------------

# bp_store_wrk META TAG BASE_URL ROUTE: one wrk case of the store section, with
# the control plane's script for ROUTE (create_stream or set_param, the latter
# on the stream BP_STREAM_ID) and its settings.
bp_store_wrk() {
	local meta=$1 tag=$2 url=$3 route=$4
	meta=$(jq -c --argjson t "$CONTROL_THREADS" --argjson c "$CONTROL_CONNS" --arg d "$CONTROL_DURATION" \
		--argjson m "$STORE_MAX_STREAMS" '. + {threads: $t, conns: $c, duration: $d, max_streams: $m}' <<<"$meta")
	if [ "$route" = create_stream ]; then
		bp_wrk_case "$meta" "$tag" "$(bp_control_timeout)" \
			-t"$CONTROL_THREADS" -c"$CONTROL_CONNS" -d"$CONTROL_DURATION" --latency -s bench/create_stream.lua "$url"
	else
		bp_wrk_case "$meta" "$tag" "$(bp_control_timeout)" \
			-t"$CONTROL_THREADS" -c"$CONTROL_CONNS" -d"$CONTROL_DURATION" --latency -s bench/set_param.lua "$url" -- "$BP_STREAM_ID"
	fi
}

# bp_store_section PREFIX: /create_stream and /set_param under wrk (the control
# section's scripts and settings), against nginx `return 200` on P_NGINX and
# against synthcast on P_SC with -store bolt (its data dir in this run's
# scratch dir, removed after) and -store memory, -max-streams
# STORE_MAX_STREAMS, a fresh server per case. After each /create_stream case,
# one "data" record: streams held, server RSS, and for bolt the data file's
# size. Records go to section "store"; PREFIX names the logs.
bp_store_section() {
	local p=$1 st route data
	local -a args
	# A 22-character token, as synthcast's, so nginx gets requests of the same size.
	BP_STREAM_ID=AAAAAAAAAAAAAAAAAAAAAA
	if bp_nginx_start "$p-nginx" "$P_NGINX"; then
		for route in create_stream set_param; do
			BP_WRK_PIDS=$NG_PIDS bp_store_wrk "$(jq -nc --arg r "/$route" '{section:"store", system:"nginx", route:$r, tool:"wrk"}')" \
				"$p-nginx-$route" "http://127.0.0.1:$P_NGINX" "$route"
		done
		bp_stop "$NG_PID"
	else
		for route in create_stream set_param; do
			bp_record "$(jq -nc --arg r "/$route" --arg e "$BP_SKIP" '{section:"store", system:"nginx", route:$r, tool:"wrk", error:$e}')"
		done
		bp_log "store: $BP_SKIP"
	fi
	for st in bolt memory; do
		for route in create_stream set_param; do
			data="$BP_RUN/$p-data-$route"
			args=(-store "$st" -max-streams "$STORE_MAX_STREAMS" -stream-ttl 24h)
			[ "$st" = bolt ] && args+=(-data-dir "$data")
			bp_synthcast_start "$p-synthcast-$st-$route" "$P_SC" "${args[@]}"
			if [ "$route" = set_param ]; then
				BP_STREAM_ID=$(curl -s --max-time 5 "http://127.0.0.1:$P_SC/create_stream" | jq -r .id) || bp_die "create_stream failed"
			fi
			BP_WRK_PIDS=$SC_PID BP_WRK_METRICS="http://127.0.0.1:$P_ADMIN/metrics" bp_store_wrk \
				"$(jq -nc --arg st "$st" --arg r "/$route" '{section:"store", system:"synthcast", store:$st, route:$r, tool:"wrk"}')" \
				"$p-synthcast-$st-$route" "http://127.0.0.1:$P_SC" "$route"
			if [ "$route" = create_stream ]; then
				local streams rss file=null alloc=null
				streams=$(curl -s --max-time 10 "http://127.0.0.1:$P_SC/healthz" | jq .streams) || streams=null
				rss=$(bp_rss_kib "$SC_PID")
				bp_stop "$SC_PID"
				if [ "$st" = bolt ] && [ -f "$data/synthcast.db" ]; then
					file=$(stat -c %s "$data/synthcast.db")
					alloc=$(($(stat -c %b "$data/synthcast.db") * $(stat -c %B "$data/synthcast.db")))
				fi
				bp_record "$(jq -nc --arg st "$st" --argjson n "${streams:-null}" --argjson rss "$rss" \
					--argjson f "$file" --argjson a "$alloc" \
					'{section:"store", case:"data", store:$st, streams:$n, rss_kib:$rss, file_bytes:$f, alloc_bytes:$a}')"
			else
				bp_stop "$SC_PID"
			fi
			rm -rf "$data"
		done
	done
	BP_WRK_PIDS=""
}

# --- a cluster: Redis, nodes behind nginx (section "cluster") ---------------

# bp_kill9 PID: SIGKILL to this PID only, reaped, and dropped from BP_PIDS.
bp_kill9() {
	local pid=$1
	kill -KILL "$pid" 2>/dev/null || true
	bp_stop "$pid"
}

# bp_redis_start NAME PORT FSYNC: redis-server on 127.0.0.1:PORT in the
# foreground, no snapshots, an append-only file fsynced as FSYNC says
# (always, everysec) in its own directory $BP_RUN/NAME; PID in RD_PID.
# Waits until it answers PING (it may still be loading its file).
bp_redis_start() {
	local name=$1 port=$2 fsync=$3 dir="$BP_RUN/$1" end line
	rm -rf "$dir"
	mkdir -p "$dir"
	bp_start "$name" redis-server --port "$port" --bind 127.0.0.1 --dir "$dir" --daemonize no \
		--save "" --appendonly yes --appendfsync "$fsync"
	RD_PID=$BP_LAST_PID
	end=$((SECONDS + 20))
	while [ $SECONDS -lt $end ]; do
		line=$( (exec 3<>"/dev/tcp/127.0.0.1/$port" && printf 'PING\r\n' >&3 && read -r -t 1 l <&3 && printf '%s' "$l") 2>/dev/null || true)
		[ "${line%$'\r'}" = +PONG ] && return 0
		kill -0 "$RD_PID" 2>/dev/null || break
		sleep 0.2
	done
	tail -20 "$BP_RUN/$name.log" >&2
	bp_die "redis-server did not answer PING on port $port"
}

# bp_cluster_nginx_start NAME PORT NODE_PORT...: deploy/nginx/synthcast.conf
# rendered as e2e_cluster_harness_test.go does (the shipped addresses
# replaced by text: the proxy's by 127.0.0.1:PORT, node i's by
# 127.0.0.1:NODE_PORT i; the server lines of nodes past the ones given
# deleted; the log directory moved to $BP_RUN/NAME), included in a minimal
# nginx.conf of the run's (`daemon off;`, one worker per core, its own
# prefix, pid file and temporary paths; worker_connections and
# worker_rlimit_nofile raised to the open-files limit, as each listener
# holds two connections). PID (the master's) in CN_PID.
bp_cluster_nginx_start() {
	local name=$1 port=$2 dir="$BP_RUN/$1" conf="$BP_ROOT/deploy/nginx/synthcast.conf" s i k
	shift 2
	for s in 127.0.0.1:8100 127.0.0.1:8101 127.0.0.1:8102 127.0.0.1:8103 /var/log/nginx/; do
		grep -qF "$s" "$conf" || bp_die "$conf no longer contains $s, which the cluster section replaces"
	done
	rm -rf "$dir"
	mkdir -p "$dir"
	local -a sed_args=(-e "s|127\.0\.0\.1:8100|127.0.0.1:$port|" -e "s|/var/log/nginx/|$dir/|")
	for i in 1 2 3; do
		if [ "$i" -le $# ]; then
			sed_args+=(-e "s|127\.0\.0\.1:810$i |127.0.0.1:${!i} |")
		else
			sed_args+=(-e "/^ *server 127\.0\.0\.1:810$i /d")
		fi
	done
	sed "${sed_args[@]}" "$conf" >"$dir/synthcast.conf"
	{
		echo "daemon off;"
		echo "worker_processes $(nproc);"
		echo "worker_rlimit_nofile $BP_NOFILE;"
		echo "pid $dir/nginx.pid;"
		echo "events { worker_connections $((BP_NOFILE - 100)); }"
		echo "http {"
		for k in client_body proxy fastcgi uwsgi scgi; do echo "    ${k}_temp_path $dir/$k;"; done
		echo "    include $dir/synthcast.conf;"
		echo "}"
	} >"$dir/nginx.conf"
	bp_start "$name" nginx -p "$dir/" -c "$dir/nginx.conf" -e stderr
	CN_PID=$BP_LAST_PID
	bp_wait_http "http://127.0.0.1:$port/healthz" 10 "$CN_PID" ||
		{ tail -20 "$BP_RUN/$name.log" >&2; bp_die "nginx (cluster) did not start"; }
}

# bp_cluster_up TAG NODES FSYNC: redis-server (FSYNC) on P_REDIS, NODES
# synthcast nodes (n1, n2, … on P_NODE1, P_NODE2, …; -store redis, no admin
# listener) and nginx in front of them on P_CNGINX. PIDs: RD_PID, NODE_PIDS
# (an array, node i at i-1), CN_PID; the nodes' command lines in
# CLUSTER_SHOWN.
bp_cluster_up() {
	local tag=$1 nodes=$2 fsync=$3 i port
	local -a ports=()
	bp_redis_start "$tag-redis" "$P_REDIS" "$fsync"
	NODE_PIDS=()
	for ((i = 1; i <= nodes; i++)); do
		port=P_NODE$i
		ports+=("${!port}")
		bp_cluster_node_start "$tag" "$i"
	done
	bp_cluster_nginx_start "$tag-nginx" "$P_CNGINX" "${ports[@]}"
	CLUSTER_SHOWN="redis-server --save \"\" --appendonly yes --appendfsync $fsync; $nodes × bin/synthcast -listen 127.0.0.1:NODE_PORT -admin-listen= -store redis://127.0.0.1:$P_REDIS/0 -node-name nI; nginx with deploy/nginx/synthcast.conf ($nodes server line(s), proxy on 127.0.0.1:$P_CNGINX)"
}

# bp_cluster_node_start TAG I: node I (n I on P_NODE I) of the cluster; its PID
# goes in NODE_PIDS[I-1]. Returns once it answers /healthz.
bp_cluster_node_start() {
	local tag=$1 i=$2 port=P_NODE$2
	bp_synthcast_start "$tag-n$i" "${!port}" -admin-listen= -store "redis://127.0.0.1:$P_REDIS/0" -node-name "n$i"
	NODE_PIDS[i - 1]=$SC_PID
}

# bp_cluster_down: stop nginx, the nodes and redis-server, each by its PID.
bp_cluster_down() {
	local p
	bp_stop "$CN_PID"
	for p in "${NODE_PIDS[@]}"; do bp_stop "$p"; done
	bp_stop "$RD_PID"
	NODE_PIDS=()
}

# bp_cluster_set_param: /set_param under wrk (the store section's script and
# settings, bp_store_wrk) in this run, each against a fresh server: nginx
# `return 200`, one synthcast with -store bolt, and one synthcast with -store
# redis://… on a redis-server of the run with appendfsync always, then
# everysec. Records: section "cluster", part "set_param".
bp_cluster_set_param() {
	local fsync
	BP_STREAM_ID=AAAAAAAAAAAAAAAAAAAAAA
	if bp_nginx_start cluster-nginx "$P_NGINX"; then
		BP_WRK_PIDS=$NG_PIDS bp_store_wrk '{"section":"cluster","part":"set_param","system":"nginx","store":"return 200","route":"/set_param","tool":"wrk"}' \
			cluster-nginx-set_param "http://127.0.0.1:$P_NGINX" set_param
		bp_stop "$NG_PID"
	else
		bp_record "$(jq -nc --arg e "$BP_SKIP" '{section:"cluster", part:"set_param", system:"nginx", store:"return 200", route:"/set_param", tool:"wrk", error:$e}')"
	fi
	bp_synthcast_start cluster-bolt "$P_SC" -store bolt -max-streams "$STORE_MAX_STREAMS"
	BP_STREAM_ID=$(curl -s --max-time 5 "http://127.0.0.1:$P_SC/create_stream" | jq -r .id) || bp_die "create_stream failed"
	BP_WRK_PIDS=$SC_PID bp_store_wrk '{"section":"cluster","part":"set_param","system":"synthcast","store":"bolt","route":"/set_param","tool":"wrk"}' \
		cluster-bolt-set_param "http://127.0.0.1:$P_SC" set_param
	bp_stop "$SC_PID"
	for fsync in always everysec; do
		bp_redis_start "cluster-redis-$fsync" "$P_REDIS" "$fsync"
		bp_synthcast_start "cluster-redis-$fsync-node" "$P_SC" -store "redis://127.0.0.1:$P_REDIS/0" -max-streams "$STORE_MAX_STREAMS"
		BP_SERVER="$BP_SERVER (redis-server --save \"\" --appendonly yes --appendfsync $fsync on port $P_REDIS)"
		BP_STREAM_ID=$(curl -s --max-time 5 "http://127.0.0.1:$P_SC/create_stream" | jq -r .id) || bp_die "create_stream failed"
		BP_WRK_PIDS="$SC_PID $RD_PID" bp_store_wrk "$(jq -nc --arg st "redis, appendfsync $fsync" \
			'{section:"cluster", part:"set_param", system:"synthcast", store:$st, route:"/set_param", tool:"wrk"}')" \
			"cluster-redis-$fsync-set_param" "http://127.0.0.1:$P_SC" set_param
		bp_stop "$SC_PID"
		bp_stop "$RD_PID"
	done
	BP_WRK_PIDS=""
}

# bp_cluster_failover: 3 nodes behind nginx, FAILOVER_N listeners over
# FAILOVER_STREAMS streams with `listen -reconnect`; once they are all
# connected (the ramp, then FAILOVER_SETTLE), FAILOVER_KILLS times: kill -9
# a node (n1, n2, n3, n1, …), start it again on its port and wait for its
# /healthz, then FAILOVER_SETTLE for the listeners to settle. The listen's
# steady window is sized to hold every kill; its gaps are pooled over them.
# Records: section "cluster", part "failover", and one part "kill" per kill.
bp_cluster_failover() {
	local settle ramp dur secs i node t0 t1 lpid rc=0 res
	settle=$(bp_secs "$FAILOVER_SETTLE")
	ramp=$(bp_secs "$FAILOVER_RAMP")
	dur=$((settle + FAILOVER_KILLS * (settle + 2) + 5))
	secs=$(bp_listen_timeout "$FAILOVER_N" "${ramp}s" "${dur}s")
	bp_cluster_up cluster-failover 3 always
	local srv=$CLUSTER_SHOWN # the restarts below set BP_SERVER to one node's
	local -a lcmd=("$BENCH" listen -url "http://127.0.0.1:$P_CNGINX" -streams "$FAILOVER_STREAMS" -n "$FAILOVER_N"
		-ramp "${ramp}s" -duration "${dur}s" -reconnect -json)
	local shown="${lcmd[*]}"
	shown=${shown/#"$BENCH"/$BENCH_SHOWN}
	bp_log "run cluster-failover: $shown, $FAILOVER_KILLS kills"
	bp_start cluster-failover-listen timeout -k 10 "$secs" "${lcmd[@]}"
	lpid=$BP_LAST_PID
	sleep $((ramp + settle))
	local kills='[]'
	for ((i = 0; i < FAILOVER_KILLS; i++)); do
		node=$((i % 3 + 1))
		kill -0 "$lpid" 2>/dev/null || { bp_log "listen ended before kill $((i + 1))"; break; }
		t0=$(date +%s%N)
		bp_kill9 "${NODE_PIDS[node - 1]}"
		bp_cluster_node_start cluster-failover-k$((i + 1)) "$node"
		t1=$(date +%s%N)
		bp_log "kill $((i + 1)): n$node killed and healthy again in $(((t1 - t0) / 1000000)) ms"
		kills=$(jq -c --argjson n "$node" --argjson ms "$(((t1 - t0) / 1000000))" '. + [{node: ("n" + ($n | tostring)), restart_ms: $ms}]' <<<"$kills")
		sleep "$settle"
	done
	wait "$lpid" || rc=$?
	bp_stop "$lpid"
	if res=$(bp_last_json "$BP_RUN/cluster-failover-listen.log"); then
		bp_record "$(jq -nc --argjson r "$res" --argjson k "$kills" --arg cmd "$shown" --arg s "$srv" \
			--argjson n "$FAILOVER_N" --argjson st "$FAILOVER_STREAMS" --argjson rc "$rc" --arg settle "$FAILOVER_SETTLE" \
			'{section:"cluster", part:"failover", nodes:3, n:$n, streams:$st, settle:$settle, kills:$k, cmd:$cmd, server:$s, result:$r}
			 + (if $rc != 0 then {exit: $rc} else {} end)')"
		bp_log "  → $(jq -c '{ok, failed, closed_early, stalled_listeners, reconnect}' <<<"$res")"
	else
		bp_record "$(jq -nc --argjson k "$kills" --arg cmd "$shown" --arg s "$srv" --arg e "exit $rc: $(tail -c 600 "$BP_RUN/cluster-failover-listen.log")" \
			'{section:"cluster", part:"failover", nodes:3, kills:$k, cmd:$cmd, server:$s, error:$e}')"
		bp_log "  → FAILED (exit $rc)"
	fi
	bp_cluster_down
}

# bp_cluster_scale: for each count in CLUSTER_NODES, that many nodes behind
# nginx (all on this machine), and two listen cases through nginx:
# CLUSTER_LISTEN_N listeners over CLUSTER_LISTEN_STREAMS streams, then
# CLUSTER_UNIQUE_K unique 44.1 kHz stereo streams with one listener each;
# the nodes' CPU and RSS summed (-pids). Records: section "cluster", part
# "listen" or "unique", nodes.
bp_cluster_scale() {
	local nodes pids
	for nodes in $CLUSTER_NODES; do
		bp_cluster_up "cluster-$nodes" "$nodes" always
		pids=$(IFS=,; echo "${NODE_PIDS[*]}")
		BP_SERVER=$CLUSTER_SHOWN
		BP_SHOWN_CMD="$BENCH_SHOWN listen -url http://127.0.0.1:$P_CNGINX -streams $CLUSTER_LISTEN_STREAMS -n $CLUSTER_LISTEN_N -ramp $CLUSTER_LISTEN_RAMP -duration $CLUSTER_DURATION -pids NODES -json" \
			bp_case "$(jq -nc --argjson k "$nodes" --argjson n "$CLUSTER_LISTEN_N" --argjson s "$CLUSTER_LISTEN_STREAMS" \
				'{section:"cluster", part:"listen", nodes:$k, n:$n, streams:$s}')" "cluster-$nodes-listen" \
			"$(bp_listen_timeout "$CLUSTER_LISTEN_N" "$CLUSTER_LISTEN_RAMP" "$CLUSTER_DURATION")" \
			"$BENCH" listen -url "http://127.0.0.1:$P_CNGINX" -streams "$CLUSTER_LISTEN_STREAMS" -n "$CLUSTER_LISTEN_N" \
			-ramp "$CLUSTER_LISTEN_RAMP" -duration "$CLUSTER_DURATION" -pids "$pids" -json
		BP_SHOWN_CMD="$BENCH_SHOWN listen -url http://127.0.0.1:$P_CNGINX -streams $CLUSTER_UNIQUE_K -n $CLUSTER_UNIQUE_K -params samplerate=44100&channels=2 -ramp $CLUSTER_UNIQUE_RAMP -duration $CLUSTER_DURATION -pids NODES -json" \
			bp_case "$(jq -nc --argjson k "$nodes" --argjson n "$CLUSTER_UNIQUE_K" \
				'{section:"cluster", part:"unique", nodes:$k, n:$n, streams:$n}')" "cluster-$nodes-unique" \
			"$(bp_listen_timeout "$CLUSTER_UNIQUE_K" "$CLUSTER_UNIQUE_RAMP" "$CLUSTER_DURATION")" \
			"$BENCH" listen -url "http://127.0.0.1:$P_CNGINX" -streams "$CLUSTER_UNIQUE_K" -n "$CLUSTER_UNIQUE_K" \
			-params "samplerate=44100&channels=2" -ramp "$CLUSTER_UNIQUE_RAMP" -duration "$CLUSTER_DURATION" -pids "$pids" -json
		bp_cluster_down
	done
}

# bp_cluster_section: the cluster section's three parts, on ports picked
# above P_ADMIN: P_REDIS, P_CNGINX (the cluster's nginx), P_NODE1..3.
bp_cluster_section() {
	bp_pick_port P_REDIS $((P_ADMIN + 1))
	bp_pick_port P_CNGINX $((P_REDIS + 1))
	bp_pick_port P_NODE1 $((P_CNGINX + 1))
	bp_pick_port P_NODE2 $((P_NODE1 + 1))
	bp_pick_port P_NODE3 $((P_NODE2 + 1))
	bp_cluster_set_param
	bp_cluster_failover
	bp_cluster_scale
}

# bp_secs DURATION: a Go-style duration (250ms, 30s, 2m, 1m30s) in whole
# seconds, rounded up.
bp_secs() {
	local d=$1 total_ms=0 num unit
	while [[ $d =~ ^([0-9]+(\.[0-9]+)?)(ms|s|m|h)(.*)$ ]]; do
		num=${BASH_REMATCH[1]}
		unit=${BASH_REMATCH[3]}
		d=${BASH_REMATCH[4]}
		case $unit in
		ms) total_ms=$(awk -v a="$total_ms" -v n="$num" 'BEGIN{printf "%d", a + n}') ;;
		s) total_ms=$(awk -v a="$total_ms" -v n="$num" 'BEGIN{printf "%d", a + n*1000}') ;;
		m) total_ms=$(awk -v a="$total_ms" -v n="$num" 'BEGIN{printf "%d", a + n*60000}') ;;
		h) total_ms=$(awk -v a="$total_ms" -v n="$num" 'BEGIN{printf "%d", a + n*3600000}') ;;
		esac
	done
	[ -z "$d" ] || bp_die "bad duration: $1"
	echo $(((total_ms + 999) / 1000))
}

# bp_wrk_json FILE: wrk --latency output as one JSON object.
bp_wrk_json() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v)-2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v)-2) + 0
		if (v ~ /s$/)  return substr(v, 1, length(v)-1) * 1000
		if (v ~ /m$/)  return substr(v, 1, length(v)-1) * 60000
		return v + 0
	}
	/^ +Latency +[0-9]/ { avg = ms($2); max = ms($4) }
	/^ +50%/ { p50 = ms($2) } /^ +75%/ { p75 = ms($2) }
	/^ +90%/ { p90 = ms($2) } /^ +99%/ { p99 = ms($2) }
	/requests in/ { req = $1; dur = $4; sub(/,$/, "", dur) }
	/Non-2xx or 3xx responses:/ { non2xx = $NF }
	/Socket errors:/ { sub(/^ *Socket errors: */, ""); serr = $0; n = split($0, f, /[ ,]+/); for (i = 2; i <= n; i += 2) errs += f[i] }
	/^Requests\/sec:/ { rps = $2 }
	END {
		if (rps == "") exit 1
		printf "{\"mode\":\"wrk\",\"rps\":%s,\"requests\":%s,\"duration\":\"%s\",\"latency_ms\":{\"avg\":%s,\"p50\":%s,\"p75\":%s,\"p90\":%s,\"p99\":%s,\"max\":%s},\"non_2xx\":%d,\"errors\":%d,\"socket_errors\":\"%s\"}\n",
			rps, req, dur, avg+0, p50+0, p75+0, p90+0, p99+0, max+0, non2xx+0, errs+0, serr
	}' "$1"
}

# bp_cpu_ticks PID...: user+system CPU of the processes, in clock ticks
# (fields 14 and 15 of /proc/PID/stat, counted after the command name).
bp_cpu_ticks() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# bp_rss_kib PID...: summed VmRSS of the processes, in KiB.
bp_rss_kib() {
	local p t=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || v=0
		t=$((t + ${v:-0}))
	done
	echo "$t"
}

# bp_store_metrics URL: the store series of synthcast's /metrics at URL as one
# JSON object {t, commits, writes, failures, sum_s, count, le: {bound: count}}
# (t: when read, in seconds), or nothing if they cannot be read.
bp_store_metrics() {
	local t
	t=$(date +%s.%N)
	curl -s --max-time 5 "$1" 2>/dev/null | awk -v t="$t" '
	/^synthcast_store_commits_total / { c = $2 }
	/^synthcast_store_committed_writes_total / { w = $2 }
	/^synthcast_store_commit_failures_total / { f = $2 }
	/^synthcast_store_commit_seconds_sum / { s = $2 }
	/^synthcast_store_commit_seconds_count / { n = $2 }
	/^synthcast_store_commit_seconds_bucket\{le="/ {
		le = $1; sub(/.*le="/, "", le); sub(/".*/, "", le)
		b = b (b == "" ? "" : ",") "\"" le "\":" $2
	}
	END {
		if (c == "") exit 1
		printf "{\"t\":%s,\"commits\":%s,\"writes\":%s,\"failures\":%s,\"sum_s\":%s,\"count\":%s,\"le\":{%s}}\n", t, c, w + 0, f + 0, s + 0, n + 0, b
	}'
}

# BP_JQ_COMMITS: jq, over {a, b} (two bp_store_metrics snapshots), the
# commits between them: per second, writes per commit, the mean commit time
# and the bucket bounds (ms) that hold the median and the 99th percentile.
# shellcheck disable=SC2016
BP_JQ_COMMITS='
  (.b.commits - .a.commits) as $c | (.b.t - .a.t) as $dt | (.b.count - .a.count) as $n
  | ([.b.le | to_entries[] | {le: .key, n: (.value - (.a.le[.key] // 0))}]
     | map(. + {ms: (if .le == "+Inf" then null else (.le | tonumber) * 1000 end)}) | sort_by(.ms // 1e18)) as $h
  | def q(p): ($h | map(select(.n >= p * $n)) | first | if . == null then null elif .ms == null then "+Inf" else .ms end);
  {commits: $c, seconds: $dt, commits_per_s: (if $dt > 0 then $c / $dt else null end),
   writes_per_commit: (if $c > 0 then (.b.writes - .a.writes) / $c else null end),
   failures: (.b.failures - .a.failures),
   commit_ms: {mean: (if $n > 0 then (.b.sum_s - .a.sum_s) / $n * 1000 else null end),
     p50_le: (if $n > 0 then q(0.5) else null end), p99_le: (if $n > 0 then q(0.99) else null end)}}'

# bp_wrk_case META NAME SECONDS WRK_ARGS...: run wrk (bounded) and record its
# figures. With BP_WRK_PIDS (server PIDs), their CPU over the run and RSS at
# its end go in result.server as `bench control` reports them; with
# BP_WRK_METRICS (synthcast's /metrics URL), the store's commits over the run
# go in result.server.commits (BP_JQ_COMMITS).
bp_wrk_case() {
	local meta=$1 name=$2 secs=$3
	shift 3
	meta=$(bp_meta "$meta")
	local shown="wrk $*"
	bp_log "run $name: $shown"
	local rc=0 res t0=0 t1=0 rss=0
	local -a pids
	read -r -a pids <<<"${BP_WRK_PIDS:-}"
	local m0="" m1="" commits=null
	[ -z "${BP_WRK_METRICS:-}" ] || m0=$(bp_store_metrics "$BP_WRK_METRICS") || m0=""
	[ ${#pids[@]} = 0 ] || t0=$(bp_cpu_ticks "${pids[@]}")
	bp_run "$name" "$secs" wrk "$@" || rc=$?
	if [ ${#pids[@]} != 0 ]; then
		t1=$(bp_cpu_ticks "${pids[@]}")
		rss=$(bp_rss_kib "${pids[@]}")
	fi
	[ -z "$m0" ] || m1=$(bp_store_metrics "$BP_WRK_METRICS") || m1=""
	if [ -n "$m1" ]; then
		commits=$(jq -nc --argjson a "$m0" --argjson b "$m1" "{a: \$a, b: \$b} | $BP_JQ_COMMITS") || commits=null
	fi
	if res=$(bp_wrk_json "$BP_RUN/$name.out"); then
		if [ ${#pids[@]} != 0 ]; then
			res=$(jq -c --argjson d "$((t1 - t0))" --argjson hz "$(getconf CLK_TCK)" --argjson rss "$rss" \
				--arg pids "${pids[*]}" \
				'. + {server: {pids: ($pids | split(" ") | map(tonumber)), cpu_s: ($d / $hz), rss_kib: $rss,
				  cpu_per_request_us: (if .requests > 0 then ($d / $hz) / .requests * 1e6 else null end)}}' <<<"$res")
		fi
		if [ "$commits" != null ]; then
			res=$(jq -c --argjson c "$commits" '.server = ((.server // {}) + {commits: $c})' <<<"$res")
		fi
		bp_record "$(jq -c --arg cmd "$shown" --argjson r "$res" '. + {cmd: $cmd, result: $r}' <<<"$meta")"
		bp_log "  → $res"
	else
		bp_record "$(jq -c --arg cmd "$shown" --arg e "exit $rc: $(tail -c 400 "$BP_RUN/$name.err" "$BP_RUN/$name.out" 2>/dev/null)" \
			'. + {cmd: $cmd, error: $e}' <<<"$meta")"
		bp_log "  → FAILED (exit $rc)"
	fi
}

# bp_gobench PKG...: go test -bench over the packages that exist, one record per benchmark.
bp_gobench() {
	local pkgs=() p
	for p in "$@"; do
		[ -d "$BP_ROOT/$p" ] && pkgs+=("./$p")
	done
	[ ${#pkgs[@]} = 0 ] && return 0
	local args=(test -run '^$' -bench "${GOBENCH_PATTERN:-.}" -benchmem -benchtime "${GOBENCH_TIME:-1s}" "${pkgs[@]}")
	bp_log "run go ${args[*]}"
	local rc=0
	bp_run gobench "${GOBENCH_TIMEOUT:-900}" go "${args[@]}" || rc=$?
	local cmd="go ${args[*]}"
	awk -v cmd="$cmd" '
	/^pkg: / { pkg = $2 }
	/^Benchmark/ && NF >= 4 {
		name = $1; sub(/-[0-9]+$/, "", name)
		line = sprintf("{\"case\":\"gobench\",\"pkg\":\"%s\",\"name\":\"%s\",\"iterations\":%s,\"metrics\":{", pkg, name, $2)
		sep = ""
		for (i = 3; i + 1 <= NF; i += 2) {
			line = line sprintf("%s\"%s\":%s", sep, $(i+1), $i); sep = ","
		}
		print line "}}"
	}' "$BP_RUN/gobench.out" | while read -r l; do
		bp_record "$(jq -c --arg cmd "$cmd" '. + {cmd: $cmd}' <<<"$l")"
	done
	grep -E '^(FAIL|ok|---)' "$BP_RUN/gobench.out" >&2 || true
	if [ "$rc" != 0 ]; then
		bp_record "$(jq -nc --arg cmd "$cmd" --arg e "exit $rc: $(grep -E 'FAIL|panic|cannot|error' "$BP_RUN/gobench.out" "$BP_RUN/gobench.err" | head -5)" \
			'{case: "gobench", cmd: $cmd, error: $e}')"
	fi
}
