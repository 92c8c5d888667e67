#!/usr/bin/env bash
# make bench-peers: synthcast side by side with Icecast 2 + Liquidsoap 2 and
# nginx, all in the same run, on this machine, on loopback only.
#
#   (a) listen   one programme, many listeners: Icecast relaying Liquidsoap's
#                440 Hz sine (LISTEN_STREAMS mounts) vs synthcast (LISTEN_STREAMS
#                tokens), same listener counts, same ramp and duration
#   (b) unique   K unique streams, one listener each (by default): Liquidsoap
#                output.harbor with K mounts vs synthcast with K tokens
#   (c) latency  a change heard: Liquidsoap's gain ref via harbor and via
#                Icecast vs synthcast /set_param (defaults, then tuned
#                -prebuffer/-tick, with a stall check at TUNED_LISTENERS)
#   (d) control  wrk keep-alive on /set_param vs nginx `return 200`
#   (e) store    the durable control plane: wrk keep-alive on /create_stream and
#                /set_param against synthcast -store bolt (a data dir of the
#                run) and -store memory, vs nginx `return 200` (bp_store_section,
#                shared with make bench)
#
# Installs what the chosen sections need and is missing from Debian (icecast2,
# liquidsoap, nginx-light, wrk, ffmpeg, jq, curl), builds bin/synthcast and the load-test command (./bench),
# raises the open-files limit to the hard limit, and runs everything on
# 127.0.0.1, each server started and stopped by its PID.
#
# Results: bench/out/peers.jsonl (one JSON object a line), then the plots
# (bench/peers/plots.sh, into bench/plots/; gnuplot-nox from Debian if
# missing) and BENCHMARKS.md are regenerated (bench/peers/mdgen.sh; make
# bench's section is kept). Logs and
# configs of a run go to a temporary directory, removed on success
# (BENCH_KEEP_LOGS=1 keeps it); a failed run leaves bench/out/peers.partial.jsonl
# (BENCH_KEEP_PARTIAL=1 publishes it).
#
# Every size and duration is an environment variable (see the defaults below;
# about 14 minutes on 2 cores). QUICK=1 makes everything tiny for a smoke test
# (about 2 minutes) and writes to bench/out/quick/ (its own BENCHMARKS.md there).
# SECTIONS picks sections (default "listen unique latency control store"); the
# report keeps the other sections' text from earlier runs. BENCH_OUT
# and BENCH_MD redirect the results and the report; BENCH_BIN=path uses a
# prebuilt load-test command instead of building ./bench.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=peers/lib.sh
. "$(dirname "$0")/peers/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${LISTEN_COUNTS:=50 200}" "${LISTEN_MAX:=500}" "${LISTEN_RAMP:=1s}" "${LISTEN_DURATION:=5s}"
	: "${UNIQUE_KS:=4 8}" "${UNIQUE_RAMP:=1s}" "${UNIQUE_DURATION:=5s}"
	: "${LATENCY_N:=3}" "${TUNED_LISTENERS:=100}" "${TUNED_DURATION:=5s}"
	: "${CONTROL_DURATION:=3s}"
fi
: "${SECTIONS:=listen unique latency control store}"
: "${LISTEN_COUNTS:=1000 5000}"     # listener counts run on both sides …
: "${LISTEN_MAX:=19000}"            # … and this one (synthcast's -max-listeners default)
: "${LISTEN_STREAMS:=10}"           # programmes the listeners are spread over
: "${LISTEN_RAMP:=10s}"             # time over which the listeners connect
: "${LISTEN_DURATION:=60s}"         # time they listen (the goal: 19,000 for 60 s)
: "${UNIQUE_KS:=40 80 200 400}"     # unique-stream counts
: "${UNIQUE_PER_STREAM:=1}"         # listeners per unique stream
: "${UNIQUE_RAMP:=2s}"
: "${UNIQUE_DURATION:=20s}"
: "${LATENCY_N:=8}"                 # changes measured per system
: "${TUNED_PREBUFFER:=250ms}"       # synthcast's tuned pacing
: "${TUNED_TICK:=200ms}"
: "${TUNED_LISTENERS:=1000}"        # listeners for the tuned stall check
: "${TUNED_DURATION:=30s}"
: "${CONTROL_CONNS:=100}"           # wrk -c
: "${CONTROL_THREADS:=2}"           # wrk -t
: "${CONTROL_DURATION:=10s}"        # wrk -d
: "${STORE_MAX_STREAMS:=10000000}"  # synthcast -max-streams in (e): every create kept
: "${ICECAST_BURST_SIZE:=65535}"    # Debian's default burst-size
: "${ICECAST_QUEUE_SIZE:=524288}"   # Debian's default queue-size (512 KiB)
: "${ICECAST_CLIENTS:=20000}"       # Debian's default is 100
: "${PORT_BASE:=18000}"

bp_init peers
bp_raise_nofile
# Only what the chosen sections use.
PKGS=(jq curl)
case " $SECTIONS " in *" listen "* | *" unique "* | *" latency "*) PKGS+=(ffmpeg icecast2 liquidsoap) ;; esac
case " $SECTIONS " in *" control "* | *" store "*) PKGS+=(wrk nginx-light) ;; esac
bp_apt "${PKGS[@]}"
bp_apt_try gnuplot-nox || bp_log "gnuplot-nox could not be installed: the plots are not redrawn"
bp_build
bp_machine

LISTEN_ALL="$LISTEN_COUNTS $LISTEN_MAX"
bp_pick_port P_SC "$PORT_BASE"
bp_pick_port P_ICE $((P_SC + 1))
bp_pick_port P_HARBOR $((P_ICE + 1))
bp_pick_port P_CTL $((P_HARBOR + 1))
bp_pick_port P_NGINX $((P_CTL + 1))
bp_pick_port P_ADMIN $((P_NGINX + 1))
bp_log "ports: synthcast $P_SC (admin $P_ADMIN), icecast $P_ICE, harbor $P_HARBOR, harbor control $P_CTL, nginx $P_NGINX"

# Fresh per run; Liquidsoap reads the source password from its environment.
ICE_SRC_PW=$(bp_secret)
export ICECAST_SOURCE_PASSWORD=$ICE_SRC_PW
ICE_ADMIN_PW=$(bp_secret)
SC_MAX_LISTENERS=19000
for n in $LISTEN_ALL $((TUNED_LISTENERS)); do
	[ "$n" -gt "$SC_MAX_LISTENERS" ] && SC_MAX_LISTENERS=$n
done

# --- peers ---------------------------------------------------------------------

# ice_start NAME SOURCES: Icecast on P_ICE from the template, config and logs
# in $BP_RUN/NAME; PID in ICE_PID.
ice_start() {
	local name=$1
	shift
	local dir="$BP_RUN/$name"
	rm -rf "$dir"
	mkdir -p "$dir"
	sed -e "s|@CLIENTS@|$ICECAST_CLIENTS|; s|@SOURCES@|$1|; s|@QUEUE_SIZE@|$ICECAST_QUEUE_SIZE|" \
		-e "s|@BURST_SIZE@|$ICECAST_BURST_SIZE|; s|@SOURCE_PASSWORD@|$ICE_SRC_PW|" \
		-e "s|@ADMIN_PASSWORD@|$ICE_ADMIN_PW|; s|@PORT@|$P_ICE|; s|@LOGDIR@|$dir|g; s|@LOGLEVEL@|2|" \
		"$BP_PEERS/icecast.xml.tmpl" >"$dir/icecast.xml"
	if [ "$(id -u)" = 0 ]; then
		# Icecast refuses to run as root: drop to nobody with exec (same PID).
		chown -R nobody:nogroup "$dir"
		bp_start "$name" setpriv --reuid=nobody --regid=nogroup --clear-groups icecast2 -c "$dir/icecast.xml"
	else
		bp_start "$name" icecast2 -c "$dir/icecast.xml"
	fi
	ICE_PID=$BP_LAST_PID
	bp_wait_http "http://127.0.0.1:$P_ICE/status-json.xsl" 20 "$ICE_PID" ||
		{ cat "$BP_RUN/$name.log" "$dir/error.log" >&2 2>/dev/null; bp_die "icecast did not start"; }
}

# ice_wait_mounts N: until Icecast lists N mounts (sources connected).
ice_wait_mounts() {
	local want=$1 i n
	for ((i = 0; i < 600; i++)); do
		n=$(curl -s --max-time 2 "http://127.0.0.1:$P_ICE/status-json.xsl" |
			jq '.icestats.source | if . == null then 0 elif type == "array" then length else 1 end' 2>/dev/null || echo 0)
		[ "${n:-0}" -ge "$want" ] && return 0
		sleep 0.1
	done
	bp_log "icecast has ${n:-0} of $want mounts after 60 s"
	return 1
}

# liq_start NAME SCRIPT ENV...: Liquidsoap running SCRIPT; PID in LIQ_PID.
liq_start() {
	local name=$1 script=$2
	shift 2
	bp_start "$name" env "$@" liquidsoap "$BP_PEERS/$script"
	LIQ_PID=$BP_LAST_PID
}

csv_urls() { # csv_urls PREFIX N SUFFIX: PREFIX0SUFFIX,PREFIX1SUFFIX,…
	local i out=""
	for ((i = 0; i < $2; i++)); do out+="${out:+,}$1$i$3"; done
	echo "$out"
}

# --- (a) one programme, many listeners -----------------------------------------
section_listen() {
	local n first=1 urls probe
	urls=$(csv_urls "http://127.0.0.1:$P_ICE/sine" "$LISTEN_STREAMS" .mp3)
	for n in $LISTEN_ALL; do
		# Icecast relaying Liquidsoap (its LISTEN_STREAMS sources).
		ice_start "icecast-$n" $((LISTEN_STREAMS + 2))
		liq_start "liq-sine-$n" sine-icecast.liq ICECAST_PORT="$P_ICE" LIQ_MOUNTS="$LISTEN_STREAMS"
		BP_SERVER="icecast2 -c icecast.xml (bench/peers/icecast.xml.tmpl, port $P_ICE) + LIQ_MOUNTS=$LISTEN_STREAMS liquidsoap bench/peers/sine-icecast.liq"
		if ice_wait_mounts "$LISTEN_STREAMS"; then
			if [ $first = 1 ]; then
				bp_probe '{"section":"listen","system":"icecast"}' "http://127.0.0.1:$P_ICE/sine0.mp3" || true
			fi
			BP_SHOWN_CMD="$BENCH_SHOWN listen -stream-urls http://127.0.0.1:$P_ICE/sine{0..$((LISTEN_STREAMS - 1))}.mp3 -n $n -ramp $LISTEN_RAMP -duration $LISTEN_DURATION -pids ICECAST,LIQUIDSOAP -json" \
				bp_case "$(jq -nc --argjson n "$n" --argjson s "$LISTEN_STREAMS" '{section:"listen", system:"icecast", n:$n, streams:$s}')" \
				"listen-icecast-$n" "$(bp_listen_timeout "$n" "$LISTEN_RAMP" "$LISTEN_DURATION")" \
				"$BENCH" listen -stream-urls "$urls" -n "$n" -ramp "$LISTEN_RAMP" -duration "$LISTEN_DURATION" \
				-pids "$ICE_PID,$LIQ_PID" -json
		else
			bp_record "$(jq -nc --argjson n "$n" '{section:"listen", system:"icecast", n:$n, error:"Liquidsoap sources did not all connect to Icecast"}')"
		fi
		bp_stop "$LIQ_PID"
		bp_stop "$ICE_PID"

		# synthcast, LISTEN_STREAMS tokens, default pacing.
		probe=
		if [ $first = 1 ]; then probe='{"section":"listen","system":"synthcast"}'; fi
		bp_synthcast_listen "listen-synthcast-$n" \
			"$(jq -nc --argjson n "$n" --argjson s "$LISTEN_STREAMS" '{section:"listen", system:"synthcast", n:$n, streams:$s}')" \
			"$LISTEN_STREAMS" "$n" "$LISTEN_RAMP" "$LISTEN_DURATION" "$probe"
		first=0
	done
}

# --- (b) K unique streams -------------------------------------------------------
section_unique() {
	local k n first=1 urls catchup probe
	for k in $UNIQUE_KS; do
		n=$((k * UNIQUE_PER_STREAM))
		liq_start "liq-harbor-$k" harbor-unique.liq LIQ_HARBOR_PORT="$P_HARBOR" LIQ_STREAMS="$k"
		BP_SERVER="LIQ_HARBOR_PORT=$P_HARBOR LIQ_STREAMS=$k liquidsoap bench/peers/harbor-unique.liq"
		if bp_wait_http "http://127.0.0.1:$P_HARBOR/u$((k - 1))" 60 "$LIQ_PID" &&
			bp_wait_audio "http://127.0.0.1:$P_HARBOR/u$((k - 1))" 30; then
			if [ $first = 1 ]; then
				bp_probe '{"section":"unique","system":"liquidsoap"}' "http://127.0.0.1:$P_HARBOR/u0" || true
			fi
			urls=$(csv_urls "http://127.0.0.1:$P_HARBOR/u" "$k" "")
			BP_SHOWN_CMD="$BENCH_SHOWN listen -stream-urls http://127.0.0.1:$P_HARBOR/u{0..$((k - 1))} -n $n -ramp $UNIQUE_RAMP -duration $UNIQUE_DURATION -pid LIQUIDSOAP -json" \
				bp_case "$(jq -nc --argjson k "$k" --argjson n "$n" '{section:"unique", system:"liquidsoap", k:$k, n:$n}')" \
				"unique-liquidsoap-$k" "$(bp_listen_timeout "$n" "$UNIQUE_RAMP" "$UNIQUE_DURATION")" \
				"$BENCH" listen -stream-urls "$urls" -n "$n" -ramp "$UNIQUE_RAMP" -duration "$UNIQUE_DURATION" \
				-pid "$LIQ_PID" -json
		else
			bp_record "$(jq -nc --argjson k "$k" '{section:"unique", system:"liquidsoap", k:$k, error:"harbor mounts did not come up"}')"
		fi
		# Liquidsoap says so when its one clock thread falls behind real time.
		catchup=$(grep -c -i 'catchup\|catch up' "$BP_RUN/liq-harbor-$k.log" || true)
		bp_stop "$LIQ_PID"
		bp_record "$(jq -nc --argjson k "$k" --argjson c "${catchup:-0}" '{section:"unique", system:"liquidsoap", case:"liq_log", k:$k, catchup_lines:$c}')"

		probe=
		if [ $first = 1 ]; then probe='{"section":"unique","system":"synthcast"}'; fi
		bp_synthcast_listen "unique-synthcast-$k" \
			"$(jq -nc --argjson k "$k" --argjson n "$n" '{section:"unique", system:"synthcast", k:$k, n:$n}')" \
			"$k" "$n" "$UNIQUE_RAMP" "$UNIQUE_DURATION" "$probe"
		first=0
	done
}

# --- (c) latency: a change heard -------------------------------------------------
section_latency() {
	local lat_t=$((LATENCY_N * 20 + 60))
	ice_start icecast-latency 4
	liq_start liq-interactive interactive.liq ICECAST_PORT="$P_ICE" LIQ_HARBOR_PORT="$P_HARBOR" LIQ_CONTROL_PORT="$P_CTL"
	BP_SERVER="icecast2 -c icecast.xml (port $P_ICE) + LIQ_HARBOR_PORT=$P_HARBOR LIQ_CONTROL_PORT=$P_CTL ICECAST_PORT=$P_ICE liquidsoap bench/peers/interactive.liq"
	if bp_wait_http "http://127.0.0.1:$P_CTL/gain1" 60 "$LIQ_PID" && ice_wait_mounts 1 &&
		bp_wait_audio "http://127.0.0.1:$P_HARBOR/live" 30; then
		bp_probe '{"section":"latency","system":"liquidsoap-harbor"}' "http://127.0.0.1:$P_HARBOR/live" || true
		bp_probe '{"section":"latency","system":"liquidsoap-icecast"}' "http://127.0.0.1:$P_ICE/live.mp3" || true
		local set0="http://127.0.0.1:$P_CTL/gain0" set1="http://127.0.0.1:$P_CTL/gain1" url
		url="http://127.0.0.1:$P_HARBOR/live"
		bp_case '{"section":"latency","system":"liquidsoap-harbor","via":"output.harbor (direct)"}' latency-liq-harbor "$lat_t" \
			"$BENCH" latency -stream-url "$url" -set-silence-url "$set0" -set-sound-url "$set1" -n "$LATENCY_N" -json
		url="http://127.0.0.1:$P_ICE/live.mp3"
		bp_case '{"section":"latency","system":"liquidsoap-icecast","via":"output.icecast → Icecast (relay)"}' latency-liq-icecast "$lat_t" \
			"$BENCH" latency -stream-url "$url" -set-silence-url "$set0" -set-sound-url "$set1" -n "$LATENCY_N" -json
	else
		bp_record '{"section":"latency","system":"liquidsoap-harbor","error":"interactive Liquidsoap did not come up"}'
	fi
	bp_stop "$LIQ_PID"
	bp_stop "$ICE_PID"

	bp_synthcast_start synthcast "$P_SC" -max-listeners "$SC_MAX_LISTENERS"
	bp_case '{"section":"latency","system":"synthcast","via":"/set_param, -prebuffer 1s -tick 500ms (defaults)"}' latency-synthcast "$lat_t" \
		"$BENCH" latency -url "http://127.0.0.1:$P_SC" -n "$LATENCY_N" -json
	bp_stop "$SC_PID"

	bp_synthcast_start synthcast-tuned "$P_SC" -prebuffer "$TUNED_PREBUFFER" -tick "$TUNED_TICK" -max-listeners "$SC_MAX_LISTENERS"
	bp_case "$(jq -nc --arg v "/set_param, -prebuffer $TUNED_PREBUFFER -tick $TUNED_TICK" '{section:"latency", system:"synthcast-tuned", via:$v}')" \
		latency-synthcast-tuned "$lat_t" \
		"$BENCH" latency -url "http://127.0.0.1:$P_SC" -n "$LATENCY_N" -json
	bp_synthcast_tuned_listen listen-synthcast-tuned
	bp_stop "$SC_PID"
}

# --- (d) control plane -------------------------------------------------------------
section_control() {
	bp_synthcast_set_param wrk-synthcast control-synthcast

	if bp_nginx_start nginx "$P_NGINX"; then
		BP_WRK_PIDS=$NG_PIDS bp_wrk_set_param '{"section":"control","system":"nginx","route":"return 200","tool":"wrk"}' wrk-nginx "http://127.0.0.1:$P_NGINX"
		bp_stop "$NG_PID"
	else
		bp_record "$(jq -nc --arg e "$BP_SKIP" '{section:"control", system:"nginx", error:$e}')"
	fi
}

# --- (e) the durable control plane -------------------------------------------------
section_store() {
	bp_store_section store
}

for s in $SECTIONS; do
	case $s in
	listen | unique | latency | control | store) "section_$s" ;;
	*) bp_die "unknown section $s (listen unique latency control store)" ;;
	esac
done
bp_finish
