#!/usr/bin/env bash
# make bench: synthcast alone on this machine, over loopback.
#
#   listen   the listener ladder: LISTEN_COUNTS listeners over LISTEN_STREAMS streams
#   unique   the unique-stream ladder: K streams, UNIQUE_PER_STREAM listener(s) each
#   icy      ICY metadata's cost: ICY_N listeners over LISTEN_STREAMS streams on
#            one synthcast (-store memory), plain then with -icy, in the same
#            run; server CPU per listener-second of each, ICY ÷ plain, ICY_GOAL
#   latency  a /set_param heard: default pacing, then tuned -prebuffer/-tick
#            (with a stall check at TUNED_LISTENERS listeners)
#   control  /set_param under wrk (keep-alive) and `bench control`, /create_stream
#   store    the durable control plane: /create_stream and /set_param under wrk
#            against -store bolt (a data dir of the run) and -store memory, and
#            nginx `return 200` in the same run (nginx-light from Debian if
#            missing; the nginx rows say "skipped" if it cannot be installed)
#   cluster  several nodes sharing a Redis (-store redis://…), on this machine:
#            /set_param under wrk against one node with Redis (appendfsync
#            always, then everysec), beside -store bolt and nginx `return 200`
#            in the same run; the failover gap over FAILOVER_KILLS kill -9s of
#            one of 3 nodes behind nginx (deploy/nginx/synthcast.conf), with
#            FAILOVER_N listeners over FAILOVER_STREAMS streams reconnecting;
#            and listeners and unique streams through nginx with
#            CLUSTER_NODES nodes (a correctness check: they share the cores)
#   restart  `bench restart`: exec to serving over RESTART_STREAMS stored
#            streams (RESTART_K restarts each), and disk per stream
#   gobench  go test -bench over the hot paths (httpparse, render, loop,
#            server) and the store (writes/s and commits/s of group commit)
#   encoder  MP3 encoders on one thread over the same ENCODER_SECONDS of
#            44.1 kHz stereo (`bench pcm`: synthcast's renderer, a mix of
#            melodies and tones, written to the run's directory): synthcast's
#            render.Encoder built as usual (SIMD kernels where the CPU has
#            them) and with -tags purego, LAME (ffmpeg libmp3lame) at its
#            default quality and at -q 7 (-compression_level 7), ffmpeg's
#            libshine if it has it, and ffmpeg reading the PCM without
#            encoding as a baseline; `bench encode`, ENCODER_REPEATS runs each:
#            real-time factor per core (audio seconds per CPU-second), ÷ LAME
#            default, each output walked frame by frame (bench/peers/encoder.sh)
#
# Results: bench/out/bench.jsonl, then the plots (bench/peers/plots.sh: data
# and SVGs in bench/plots/, gnuplot-nox from Debian if missing) and
# BENCHMARKS.md are regenerated (bench/peers/mdgen.sh; the side-by-side
# section of make bench-peers is kept, and so are the parts of this section
# that SECTIONS left out).
# Every size and duration is an environment variable (defaults below);
# QUICK=1 makes everything tiny for a smoke test. SECTIONS picks sections.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=peers/lib.sh
. "$(dirname "$0")/peers/lib.sh"
# shellcheck source-path=SCRIPTDIR source=peers/encoder.sh
. "$(dirname "$0")/peers/encoder.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${LISTEN_COUNTS:=100 500}" "${LISTEN_RAMP:=1s}" "${LISTEN_DURATION:=5s}"
	: "${UNIQUE_KS:=8 16}" "${UNIQUE_RAMP:=1s}" "${UNIQUE_DURATION:=5s}"
	: "${ICY_N:=100}" "${ICY_DURATION:=5s}"
	: "${LATENCY_N:=3}" "${TUNED_LISTENERS:=100}" "${TUNED_DURATION:=5s}"
	: "${CONTROL_DURATION:=3s}" "${GOBENCH_TIME:=100ms}"
	: "${RESTART_STREAMS:=1000}" "${RESTART_K:=2}"
	: "${ENCODER_SECONDS:=20}" "${ENCODER_REPEATS:=1}"
	: "${FAILOVER_N:=30}" "${FAILOVER_STREAMS:=3}" "${FAILOVER_KILLS:=3}" "${FAILOVER_RAMP:=1s}"
	: "${CLUSTER_LISTEN_N:=300}" "${CLUSTER_LISTEN_RAMP:=1s}" "${CLUSTER_UNIQUE_K:=10}" "${CLUSTER_DURATION:=5s}"
fi
: "${SECTIONS:=listen unique icy latency control store cluster restart encoder gobench}"
: "${LISTEN_COUNTS:=1000 5000 10000 19000}"
: "${LISTEN_STREAMS:=10}"
: "${LISTEN_RAMP:=10s}"
: "${LISTEN_DURATION:=60s}"
: "${UNIQUE_KS:=400 800 1200 1400 1600}"
: "${UNIQUE_PER_STREAM:=1}"
: "${UNIQUE_RAMP:=2s}"
: "${UNIQUE_DURATION:=20s}"
: "${ICY_N:=1000}"       # listeners in each of the icy section's two runs
: "${ICY_DURATION:=60s}" # their steady window, as the listener ladder's
: "${ICY_GOAL:=1.3}"     # the issue's goal for ICY ÷ plain server CPU per listener-second
: "${LATENCY_N:=10}"
: "${TUNED_PREBUFFER:=250ms}"
: "${TUNED_TICK:=200ms}"
: "${TUNED_LISTENERS:=1000}"
: "${TUNED_DURATION:=30s}"
: "${CONTROL_CONNS:=100}"
: "${CONTROL_THREADS:=2}"
: "${CONTROL_DURATION:=10s}"
: "${STORE_MAX_STREAMS:=10000000}"  # -max-streams in the store section: every create kept
: "${RESTART_STREAMS:=10000 100000}" # streams stored before the restarts (the goal is stated at 100000)
: "${RESTART_K:=3}"                  # restarts measured per stream count
: "${RESTART_CONNS:=32}"             # connections creating the streams
: "${RESTART_PIPELINE:=16}"          # create requests written at once per connection
: "${RESTART_TIMEOUT:=10m}"          # bound of one `bench restart`
: "${FAILOVER_N:=300}"          # listeners of the failover case (listen -reconnect)
: "${FAILOVER_STREAMS:=30}"     # over this many streams
: "${FAILOVER_KILLS:=10}"       # kill -9s, rotating over the 3 nodes
: "${FAILOVER_RAMP:=5s}"        # the listeners' ramp, before the first kill
: "${FAILOVER_SETTLE:=6s}"      # after the ramp, and after each node is healthy again (see bench/doc.go)
: "${CLUSTER_NODES:=1 2 3}"     # node counts of the listen and unique cases
: "${CLUSTER_LISTEN_N:=3000}"   # listeners of the listen case through nginx
: "${CLUSTER_LISTEN_STREAMS:=30}"
: "${CLUSTER_LISTEN_RAMP:=10s}"
: "${CLUSTER_UNIQUE_K:=60}"     # unique streams (one listener each) of the unique case
: "${CLUSTER_UNIQUE_RAMP:=2s}"
: "${CLUSTER_DURATION:=30s}"    # steady window of both
: "${GOBENCH_PKGS:=httpparse render loop server store}"
: "${ENCODER_SECONDS:=200}"   # the encoder section's input, the same for every encoder
: "${ENCODER_REPEATS:=3}"     # runs per encoder; the table shows their median
: "${ENCODER_TIMEOUT:=900}"   # seconds one encoder's runs may take
: "${PORT_BASE:=18100}"

bp_init bench
bp_raise_nofile
bp_apt jq curl ffmpeg wrk
bp_apt_try gnuplot-nox || bp_log "gnuplot-nox could not be installed: the plots are not redrawn"
case " $SECTIONS " in
*" store "* | *" cluster "*) bp_apt_try nginx-light || bp_log "nginx-light could not be installed: the store and cluster sections run without nginx" ;;
esac
case " $SECTIONS " in
*" cluster "*) bp_apt redis-server ;;
esac
bp_build
bp_machine
bp_pick_port P_SC "$PORT_BASE"
bp_pick_port P_NGINX $((P_SC + 1))
bp_pick_port P_ADMIN $((P_NGINX + 1))

SC_MAX_LISTENERS=19000
for n in $LISTEN_COUNTS $TUNED_LISTENERS $ICY_N; do
	[ "$n" -gt "$SC_MAX_LISTENERS" ] && SC_MAX_LISTENERS=$n
done

section_listen() {
	local n probe='{"section":"listen","system":"synthcast"}'
	for n in $LISTEN_COUNTS; do
		bp_synthcast_listen "listen-$n" \
			"$(jq -nc --argjson n "$n" --argjson s "$LISTEN_STREAMS" '{section:"listen", system:"synthcast", n:$n, streams:$s}')" \
			"$LISTEN_STREAMS" "$n" "$LISTEN_RAMP" "$LISTEN_DURATION" "$probe"
		probe=
	done
}

section_unique() {
	local k n
	for k in $UNIQUE_KS; do
		n=$((k * UNIQUE_PER_STREAM))
		bp_synthcast_listen "unique-$k" \
			"$(jq -nc --argjson k "$k" --argjson n "$n" '{section:"unique", system:"synthcast", k:$k, n:$n}')" \
			"$k" "$n" "$UNIQUE_RAMP" "$UNIQUE_DURATION"
	done
}

section_icy() {
	bp_icy_section
}

section_latency() {
	local lat_t=$((LATENCY_N * 20 + 60))
	bp_synthcast_start synthcast "$P_SC"
	bp_case '{"section":"latency","system":"synthcast","via":"-prebuffer 1s -tick 500ms (defaults)"}' latency-default "$lat_t" \
		"$BENCH" latency -url "http://127.0.0.1:$P_SC" -n "$LATENCY_N" -json
	bp_stop "$SC_PID"

	bp_synthcast_start synthcast-tuned "$P_SC" -prebuffer "$TUNED_PREBUFFER" -tick "$TUNED_TICK" -max-listeners "$SC_MAX_LISTENERS"
	bp_case "$(jq -nc --arg v "-prebuffer $TUNED_PREBUFFER -tick $TUNED_TICK" '{section:"latency", system:"synthcast-tuned", via:$v}')" \
		latency-tuned "$lat_t" \
		"$BENCH" latency -url "http://127.0.0.1:$P_SC" -n "$LATENCY_N" -json
	bp_synthcast_tuned_listen listen-tuned
	bp_stop "$SC_PID"
}

section_control() {
	bp_synthcast_set_param wrk-set_param control-set_param

	# /create_stream fills the registry (503 past -max-streams): a fresh server.
	bp_synthcast_start synthcast "$P_SC"
	bp_case '{"section":"control","system":"synthcast","route":"/create_stream","tool":"bench"}' control-create "$(bp_control_timeout)" \
		"$BENCH" control -url "http://127.0.0.1:$P_SC" -route create -c "$CONTROL_CONNS" -duration "$CONTROL_DURATION" -pid "$SC_PID" -json
	bp_stop "$SC_PID"
}

section_store() {
	bp_store_section store
}

section_cluster() {
	bp_cluster_section
}

section_restart() {
	local n shown
	for n in $RESTART_STREAMS; do
		# The report shows the command line the result gives; this one stands in for a failed run.
		BP_SERVER="bin/synthcast -listen 127.0.0.1:0 -admin-listen= -store bolt -data-dir DATA -max-streams $n -stream-ttl 24h (DATA: a fresh temporary directory)"
		shown="$BENCH_SHOWN restart -bin bin/synthcast -streams $n -restarts $RESTART_K -c $RESTART_CONNS -pipeline $RESTART_PIPELINE -timeout $RESTART_TIMEOUT -json"
		BP_SHOWN_CMD=$shown bp_case "$(jq -nc --argjson n "$n" '{section:"restart", system:"synthcast", store:"bolt", streams:$n}')" \
			"restart-$n" $(($(bp_secs "$RESTART_TIMEOUT") + 30)) \
			"$BENCH" restart -bin "$SYNTHCAST" -streams "$n" -restarts "$RESTART_K" -c "$RESTART_CONNS" \
			-pipeline "$RESTART_PIPELINE" -timeout "$RESTART_TIMEOUT" -json
	done
}

section_encoder() {
	BP_SERVER=""
	bp_encoder_section
}

section_gobench() {
	BP_SERVER=""
	# shellcheck disable=SC2086
	bp_gobench $GOBENCH_PKGS
}

for s in $SECTIONS; do
	case $s in
	listen | unique | icy | latency | control | store | cluster | restart | gobench | encoder) "section_$s" ;;
	*) bp_die "unknown section $s (listen unique icy latency control store cluster restart gobench encoder)" ;;
	esac
done
bp_finish
