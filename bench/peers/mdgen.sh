#!/usr/bin/env bash
# The jq programs are single-quoted on purpose.
# shellcheck disable=SC2016
# mdgen.sh OUT_DIR BENCHMARKS.md: (re)write BENCHMARKS.md from the JSON lines
# of the last runs: OUT_DIR/bench.jsonl (make bench) and OUT_DIR/peers.jsonl
# (make bench-peers). A section whose .jsonl is absent is kept as it stands in
# the existing BENCHMARKS.md, so one target never erases the other's figures.
# Needs jq (Debian's jq 1.6 is enough).
set -euo pipefail
out=${1:?usage: mdgen.sh OUT_DIR BENCHMARKS.md}
md=${2:?usage: mdgen.sh OUT_DIR BENCHMARKS.md}

# Helpers shared by both sections' jq programs.
JQ_LIB='
def fmt(d): if . == null then "–" elif type == "number" then
    (if d == 0 then (. | round | tostring) else ((. * pow(10; d) | round) / pow(10; d) | tostring) end)
  else tostring end;
def esc: tostring | gsub("\\|"; "\\|") | gsub("\n"; " ");
def code: if . == null then "–" else "`" + (esc) + "`" end;
def ratio(a; b): if (a | type) == "number" and (b | type) == "number" and b != 0
  then ((a / b) | fmt(2)) + "×" else "–" end;
def row(cells): "| " + (cells | map(if . == null then "–" else esc end) | join(" | ")) + " |";
def head(cells): row(cells) + "\n" + "|" + (cells | map(" --- |") | join(""));
def res: .result // {};
def err: if .error then "error: " + (.error | tostring | .[0:160]) else null end;
def machine(all):
  (all | map(select(.case == "machine")) | last) as $m
  | (all | map(select(.case == "run")) | last) as $r
  | if $m == null then "" else
    "Run " + (($r.time // $m.time // "?") | tostring) + " in " + (($r.seconds // "?") | tostring) + " s"
    + (if $r.quick then " (**QUICK=1 smoke run: tiny sizes, figures not meaningful**)" else "" end)
    + (if $r.partial then " (**partial: the run failed with exit " + ($r.exit | tostring) + "**)" else "" end)
    + ", commit `" + ($m.commit // "?") + "`" + (if $m.dirty == "yes" then " (work tree modified)" else "" end) + ".\n\n"
    + head(["machine", ""]) + "\n"
    + row(["CPU", ($m.cpu + " × " + ($m.nproc | tostring) + " (nproc)")]) + "\n"
    + row(["memory", $m.memory]) + "\n"
    + row(["kernel", $m.kernel]) + "\n"
    + row(["Go", $m.go]) + "\n"
    + (if $m.icecast != "" then row(["Icecast", $m.icecast]) + "\n" else "" end)
    + (if $m.liquidsoap != "" then row(["Liquidsoap", $m.liquidsoap]) + "\n" else "" end)
    + (if $m.nginx != "" then row(["nginx", $m.nginx]) + "\n" else "" end)
    + (if $m.wrk != "" then row(["wrk", $m.wrk]) + "\n" else "" end)
    + row(["open files (ulimit -n)", $m.nofile]) + "\n\n"
    + "Servers, Liquidsoap and the load generator all share these cores, over loopback.\n"
  end;
def cmds(list): if (list | length) == 0 then "" else
  "\nCommands (ports and PIDs as in that run):\n\n"
  + (list | map("- " + (.label) + ": `" + (.cmd // "?" | gsub("`"; "")) + "`"
      + (if .server then " against `" + (.server | gsub("`"; "")) + "`" else "" end)) | join("\n")) + "\n" end;
def ms(x): if x == null then null else x * 1000 end;
def stalls: res | if .stalled_listeners == null then null
  else (.stalled_listeners | tostring) + " (" + ((.stall_events // 0) | tostring) + " events)" end;
def okfail: if .error then err else res | ((.ok // "?") | tostring) + " / " + ((.failed // "?") | tostring)
  + (if (.closed_early // 0) > 0 then " / " + (.closed_early | tostring) + " closed early" else "" end) end;
def reasons: res.reasons // {} | to_entries | map(.key + " " + (.value | tostring)) | join(", ")
  | if . == "" then null else . end;
def listen_cells: [
  okfail, stalls,
  (res.ttfb_ms.p50 | fmt(1)) + " / " + (res.ttfb_ms.p99 | fmt(1)) + " / " + (res.ttfb_ms.max | fmt(1)),
  (res.burst_s.p50 | fmt(2)),
  (res.lead_s.min | fmt(2)) + " / " + (res.lead_s.p50 | fmt(2)) + " / " + (res.lead_s.max | fmt(2)),
  (res.sync_losses | fmt(0)),
  (res.server.cpu_s | fmt(2)),
  (ms(res.server.cpu_per_listener_s) | fmt(3)),
  ((res.server.rss_kib // null) | if . == null then null else . / 1024 end | fmt(1)),
  (res.server.rss_per_listener_kib | fmt(1)),
  (res.client.cpu_s | fmt(1)),
  reasons ];
def listen_head(first): head([first, "system", "ok / failed", "stalled listeners", "TTFB ms p50 / p99 / max",
  "burst s p50", "lead s min / p50 / max", "sync losses", "server CPU s", "CPU ms / listener", "RSS MiB",
  "RSS KiB / listener", "client CPU s", "failures"]);
def probes(all): (all | map(select(.case == "probe"))) as $p
  | if ($p | length) == 0 then "" else
    "Format check (ffprobe of each server'"'"'s stream):\n\n"
    + head(["system", "URL", "codec", "sample rate", "channels", "bit rate", "128 kbit/s 44.1 kHz stereo MP3?"]) + "\n"
    + ($p | map(row([.system, .url, .probe.codec_name, .probe.sample_rate, .probe.channels, .probe.bit_rate,
        (if .ok then "yes" else "**no**" end)])) | join("\n")) + "\n"
  end;
def heard: res | if .heard_ms then .heard_ms elif .heard_s then (.heard_s | map_values(. * 1000)) else {} end;
def latency_cells: if .error then [err, "", "", "", ""] else
  [(heard.min | fmt(0)), (heard.p50 | fmt(0)), (heard.max | fmt(0)), (res.arrival_ms.p50 | fmt(0)),
   ((res.reps | if . == null then null else length end | fmt(0)) + " (" + ((res.timeouts // 0) | tostring) + " timed out)")] end;
def latency_head(first; second): head([first, second, "heard ms min", "p50", "max", "arrival ms p50", "changes"]);
def control_cells: if .error then [err, "", "", "", "", ""] else
  [(res.rps | fmt(0)), (res.latency_ms.p50 | fmt(3)), (res.latency_ms.p99 | fmt(3)), (res.latency_ms.max | fmt(2)),
   (((res.non_2xx // res.non2xx // 0) | tostring) + " / " + ((res.errors // 0) | tostring)),
   (res.server.cpu_per_request_us | fmt(2))] end;
def control_head(cells): head(cells + ["requests/s", "latency ms p50", "p99", "max", "non-2xx / errors", "server CPU µs / request"]);
'

JQ_PEERS='
. as $all
| ($all | map(select(.section == "listen" and .case == null))) as $L
| ($all | map(select(.section == "unique" and .case == null))) as $U
| ($all | map(select(.section == "latency" and .case == null))) as $T
| ($all | map(select(.section == "tuned" and .case == null))) as $TU
| ($all | map(select(.section == "control" and .case == null))) as $C
| ($all | map(select(.case == "liq_log"))) as $LQ
| def sys(list; s; key; v): list | map(select(.system == s and .[key] == v)) | last;
def nostall(list; s): list | map(select(.system == s and .result != null and .result.failed == 0
    and .result.closed_early == 0 and .result.stalled_listeners == 0) | .k) | max;
def glance:
  ([
    (if ($L | length) == 0 then empty else
      ($L | map(.n) | max) as $n | sys($L; "icecast"; "n"; $n) as $i | sys($L; "synthcast"; "n"; $n) as $s
      | "\($n) listeners asked on \($L[0].streams) programmes: synthcast kept \($s.result.ok // "?") "
        + "(\($s.result.stalled_listeners // "?") of them stalled at least once), Icecast + Liquidsoap \($i.result.ok // "?") "
        + "(\($i.result.failed // "?") failed to connect or get a head, \($i.result.stalled_listeners // "?") stalled)."
    end),
    (if ($L | length) == 0 then empty else
      "Server CPU per listener, Icecast + Liquidsoap ÷ synthcast: "
      + ($L | map(.n) | unique | map(. as $n | sys($L; "icecast"; "n"; $n) as $i | sys($L; "synthcast"; "n"; $n) as $s
          | ratio($i.result.server.cpu_per_listener_s; $s.result.server.cpu_per_listener_s) + " at \($n)") | join(", ")) + "."
    end),
    (if ($U | length) == 0 then empty else
      "Unique streams, largest K with no failed or stalled listener (K tried: \($U | map(.k) | unique | map(tostring) | join(", "))): "
      + "Liquidsoap " + ((nostall($U; "liquidsoap") // "none") | tostring)
      + ", synthcast " + ((nostall($U; "synthcast") // "none") | tostring) + "."
    end),
    (if ($T | length) == 0 then empty else
      "A change heard (p50): " + ($T | map(.system + " " + (heard.p50 | fmt(0)) + " ms") | join(", ")) + "."
    end),
    (if ($C | length) == 0 then empty else
      (sys($C; "synthcast"; "tool"; "wrk") as $s | sys($C; "nginx"; "tool"; "wrk") as $n
      | "/set_param under wrk: \($s.result.rps // "?" | fmt(0)) requests/s, " + ratio($s.result.rps; $n.result.rps)
        + " of nginx `return 200` (\($n.result.rps // "?" | fmt(0)) requests/s).")
    end)
  ] | map("- " + .) | join("\n")) as $g
  | if $g == "" then "" else "At a glance (this run; details and commands below):\n\n" + $g + "\n\n" end;
"## Side by side: `make bench-peers`\n\n"
+ machine($all) + "\n"
+ glance
+ probes($all) + "\n"
+ (if ($L | length) == 0 then "" else
  "### (a) One programme, many listeners: Icecast 2 relaying Liquidsoap vs synthcast\n\n"
  + "Icecast (Debian package, `bench/peers/icecast.xml.tmpl`: `<clients>` raised, queue-size 512 KiB and burst-size as Debian ships them) "
  + "relays " + (($L[0].streams // "?") | tostring) + " mounts that Liquidsoap (`bench/peers/sine-icecast.liq`) encodes "
  + "from a 440 Hz sine; synthcast serves as many tokens with its defaults (1 s prebuffer, 500 ms tick). "
  + "Server CPU and RSS for the Icecast side are Icecast + Liquidsoap together. "
  + "Icecast listens with a backlog of 5 (`ICECAST_LISTEN_QUEUE`), so a fast ramp loses connections there.\n\n"
  + listen_head("listeners asked") + "\n"
  + ($L | map(row([(.n | tostring), (if .system == "icecast" then "Icecast + Liquidsoap" else .system end)] + listen_cells)) | join("\n")) + "\n\n"
  + "Ratios (same listener count, same run):\n\n"
  + head(["listeners asked", "ok: synthcast ÷ Icecast", "CPU per listener: Icecast+Liquidsoap ÷ synthcast", "RSS per listener: Icecast+Liquidsoap ÷ synthcast", "stalled listeners: Icecast / synthcast"]) + "\n"
  + ($L | map(.n) | unique | map(. as $n
      | sys($L; "icecast"; "n"; $n) as $i | sys($L; "synthcast"; "n"; $n) as $s
      | row([($n | tostring), ratio($s.result.ok; $i.result.ok),
        ratio($i.result.server.cpu_per_listener_s; $s.result.server.cpu_per_listener_s),
        ratio($i.result.server.rss_per_listener_kib; $s.result.server.rss_per_listener_kib),
        (($i.result.stalled_listeners // "–") | tostring) + " / " + (($s.result.stalled_listeners // "–") | tostring)]))
    | join("\n")) + "\n"
  + cmds($L | map({label: ((.system) + " " + (.n | tostring)), cmd, server}))
  + "\n" end)
+ (if ($U | length) == 0 then "" else
  "### (b) K unique streams: Liquidsoap output.harbor vs synthcast tokens\n\n"
  + "Liquidsoap (`bench/peers/harbor-unique.liq`) serves K mounts, each a sine of its own frequency encoded by its own "
  + "MP3 encoder, with output.harbor'"'"'s defaults; all K run on Liquidsoap'"'"'s one clock, in one thread. "
  + "synthcast serves K tokens (renders on all cores). \"catch-up\" counts Liquidsoap'"'"'s log lines saying its clock fell behind. "
  + "A stall is any dip of the lead below zero; *lead min* says how deep the worst one went (harbor sends with almost no lead, "
  + "so small scheduling jitter counts).\n\n"
  + listen_head("K streams (listeners)") + "\n"
  + ($U | map(row([((.k | tostring) + " (" + ((.n // "?") | tostring) + ")"), .system] + listen_cells)) | join("\n")) + "\n\n"
  + head(["K", "stalled listeners: Liquidsoap / synthcast", "stall events: Liquidsoap / synthcast", "server CPU: Liquidsoap ÷ synthcast", "Liquidsoap catch-up log lines"]) + "\n"
  + ($U | map(.k) | unique | map(. as $k
      | sys($U; "liquidsoap"; "k"; $k) as $l | sys($U; "synthcast"; "k"; $k) as $s
      | ($LQ | map(select(.k == $k)) | last) as $q
      | row([($k | tostring),
        (($l.result.stalled_listeners // "–") | tostring) + " / " + (($s.result.stalled_listeners // "–") | tostring),
        (($l.result.stall_events // "–") | tostring) + " / " + (($s.result.stall_events // "–") | tostring),
        ratio($l.result.server.cpu_s; $s.result.server.cpu_s),
        (($q.catchup_lines // "–") | tostring)]))
    | join("\n")) + "\n"
  + cmds($U | map({label: ((.system) + " K=" + (.k | tostring)), cmd, server}))
  + "\n" end)
+ (if ($T | length) == 0 then "" else
  "### (c) A change heard: Liquidsoap interactive gain vs synthcast /set_param\n\n"
  + "One listener; the switch (tone to digital silence, or back) is an HTTP GET. *heard*: from the call to when a "
  + "real-time player that started at the listener'"'"'s first byte plays the first changed frame (its arrival, if later); "
  + "*arrival*: from the call to that frame'"'"'s arrival. Liquidsoap (`bench/peers/interactive.liq`): "
  + "a `ref` amplitude set by a harbor HTTP handler, served by output.harbor (direct) and through Icecast (relay).\n\n"
  + latency_head("system"; "served via") + "\n"
  + ($T | map(row([.system, .via] + latency_cells)) | join("\n")) + "\n\n"
  + (sys($T; "synthcast"; "section"; "latency") as $sd | sys($T; "synthcast-tuned"; "section"; "latency") as $st
     | head(["peer", "p50: peer ÷ synthcast (defaults)", "p50: peer ÷ synthcast (tuned)"]) + "\n"
     + ($T | map(select(.system | startswith("liquidsoap"))) | map(
         row([.system, ratio(heard.p50; ($sd | heard.p50)), ratio(heard.p50; ($st | heard.p50))]))
       | join("\n")) + "\n")
  + (if ($TU | length) == 0 then "" else
     "\nTuned synthcast (" + ($TU[0].prebuffer // "?") + " prebuffer, " + ($TU[0].tick // "?") + " tick) under listeners:\n\n"
     + listen_head("listeners asked") + "\n"
     + ($TU | map(row([(.n | tostring), .system] + listen_cells)) | join("\n")) + "\n" end)
  + cmds(($T + $TU) | map({label: (.system + (if .n then " " + (.n | tostring) + " listeners" else "" end)), cmd, server}))
  + "\n" end)
+ (if ($C | length) == 0 then "" else
  "### (d) Control plane: /set_param vs nginx `return 200`\n\n"
  + "wrk, keep-alive, the same request script and connection count against both; nginx (`bench/peers/nginx.conf.tmpl`, "
  + "one worker per core, no log) answers from memory.\n\n"
  + control_head(["system", "route", "tool"]) + "\n"
  + ($C | map(row([.system, .route, .tool] + control_cells)) | join("\n")) + "\n\n"
  + (sys($C; "synthcast"; "tool"; "wrk") as $s | sys($C; "nginx"; "tool"; "wrk") as $n
     | "synthcast ÷ nginx under wrk: requests/s " + ratio($s.result.rps; $n.result.rps)
     + ", p99 latency " + ratio($s.result.latency_ms.p99; $n.result.latency_ms.p99) + ".\n")
  + cmds($C | map({label: (.system + " " + .tool), cmd, server}))
  + "\n" end)
'

JQ_BENCH='
. as $all
| ($all | map(select(.section == "listen" and .case == null))) as $L
| ($all | map(select(.section == "unique" and .case == null))) as $U
| ($all | map(select(.section == "latency" and .case == null))) as $T
| ($all | map(select(.section == "tuned" and .case == null))) as $TU
| ($all | map(select(.section == "control" and .case == null))) as $C
| ($all | map(select(.case == "gobench"))) as $G
| "## synthcast alone: `make bench`\n\n"
+ machine($all) + "\n"
+ probes($all) + "\n"
+ (if ($L | length) == 0 then "" else
  "### Listener ladder (" + (($L[0].streams // "?") | tostring) + " streams, default pacing)\n\n"
  + listen_head("listeners asked") + "\n"
  + ($L | map(row([(.n | tostring), .system] + listen_cells)) | join("\n")) + "\n"
  + cmds($L | map({label: ((.n | tostring) + " listeners"), cmd, server})) + "\n" end)
+ (if ($U | length) == 0 then "" else
  "### Unique-stream ladder (one listener per stream)\n\n"
  + listen_head("K streams (listeners)") + "\n"
  + ($U | map(row([((.k | tostring) + " (" + ((.n // "?") | tostring) + ")"), .system] + listen_cells)) | join("\n")) + "\n"
  + cmds($U | map({label: ("K=" + (.k | tostring)), cmd, server})) + "\n" end)
+ (if ($T | length) == 0 then "" else
  "### A change heard (/set_param → first changed frame at a listener)\n\n"
  + latency_head("system"; "pacing") + "\n"
  + ($T | map(row([.system, .via] + latency_cells)) | join("\n")) + "\n"
  + (if ($TU | length) == 0 then "" else "\n" + listen_head("listeners asked") + "\n"
     + ($TU | map(row([(.n | tostring), .system + " (" + (.prebuffer // "?") + " / " + (.tick // "?") + ")"] + listen_cells)) | join("\n")) + "\n" end)
  + cmds(($T + $TU) | map({label: .system, cmd, server})) + "\n" end)
+ (if ($C | length) == 0 then "" else
  "### Control plane\n\n"
  + control_head(["route", "tool"]) + "\n"
  + ($C | map(row([.route, .tool] + control_cells)) | join("\n")) + "\n"
  + (if ($C | map(select(.route == "/create_stream")) | length) > 0
     then "\n/create_stream answers 503 once the server holds -max-streams streams (10000 by default): its non-2xx are those.\n" else "" end)
  + cmds($C | map({label: (.route + " " + .tool), cmd, server})) + "\n" end)
+ (if ($G | length) == 0 then "" else
  "### Go benchmarks of the hot paths\n\n"
  + head(["package", "benchmark", "ns/op", "B/op", "allocs/op", "other"]) + "\n"
  + ($G | map(if .error then row(["", "", err, "", "", ""]) else
      row([(.pkg | sub("^github.com/synthcast/synthcast/"; "")), .name,
        (.metrics["ns/op"] | fmt(1)), (.metrics["B/op"] | fmt(0)), (.metrics["allocs/op"] | fmt(0)),
        (.metrics | to_entries | map(select(.key | IN("ns/op", "B/op", "allocs/op") | not))
          | map((.value | fmt(2)) + " " + .key) | join(", "))]) end) | join("\n")) + "\n"
  + cmds($G | map(select(.cmd)) | .[0:1] | map({label: "all", cmd, server})) + "\n" end)
'

# section NAME: the new text of a section (from OUT_DIR/NAME.jsonl), or the
# existing one, or a placeholder.
section() {
	local name=$1 prog=$2 title=$3
	echo "<!-- BEGIN $name -->"
	if [ -s "$out/$name.jsonl" ]; then
		jq -r -s "$JQ_LIB $prog" "$out/$name.jsonl"
	elif [ -f "$md" ] && grep -q "<!-- BEGIN $name -->" "$md"; then
		awk -v b="<!-- BEGIN $name -->" -v e="<!-- END $name -->" \
			'$0 == e { on = 0 } on { print } $0 == b { on = 1 }' "$md"
	else
		printf '## %s\n\nNot run yet.\n\n' "$title"
	fi
	echo "<!-- END $name -->"
}

tmp=$(mktemp "${md}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
	cat <<'EOF'
# Benchmarks

Generated by `bench/peers/mdgen.sh` from the JSON lines in `bench/out/`: do not edit by hand.
`make bench` measures synthcast alone (`bench/run-bench.sh`); `make bench-peers` runs it side by
side with Icecast 2 + Liquidsoap 2 and nginx in the same run (`bench/run-peers.sh`). Each target
rewrites its own section and leaves the other as it was. Every figure comes from the load-test
command (`go run ./bench`, or wrk for the control plane) on this one machine over loopback, and
each row lists its command line.

Columns (the load-test command's own definitions are in `bench/doc.go`): *ok / failed* =
listeners connected to the end of the steady window / that could not connect or got no 200
(the *failures* column counts the reasons; *closed early* = cut off by the server);
*stalled listeners* = listeners whose lead went below zero at least once after their first
second, i.e. a real-time player ran dry (the events: how many times); *TTFB* = connected to
first body byte; *burst* = audio received at once on connecting; *lead* = audio received minus
time since the first byte (min, median of each listener's lowest, max); *sync losses* = bytes
that were not where an MP3 frame should start; *server CPU s* = user+system CPU of the server
process(es) over the steady window (per listener in ms); *RSS* = resident memory (per listener:
above the idle baseline); *client CPU* = the load generator's own, on the same cores.

EOF
	section bench "$JQ_BENCH" "synthcast alone: \`make bench\`"
	echo
	section peers "$JQ_PEERS" "Side by side: \`make bench-peers\`"
} >"$tmp"
mv "$tmp" "$md"
trap - EXIT
