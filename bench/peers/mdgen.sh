#!/usr/bin/env bash
# The jq programs are single-quoted on purpose.
# shellcheck disable=SC2016
# mdgen.sh OUT_DIR BENCHMARKS.md [PLOTS_DIR]: (re)write BENCHMARKS.md from the
# JSON lines of the last runs: OUT_DIR/bench.jsonl (make bench) and
# OUT_DIR/peers.jsonl (make bench-peers). The SVGs in PLOTS_DIR (default
# bench/plots; bench/peers/plots.sh draws them) are embedded by links relative
# to BENCHMARKS.md: the listener and unique-stream plots in a section of
# their own, the encoder chart in the encoder table's part. A section whose .jsonl is absent is kept as it stands in
# the existing BENCHMARKS.md, so one target never erases the other's figures.
# Within a section, each subsection (listen, unique, latency, control, store, cluster,
# ...) sits between <!-- BEGIN suite:sub | stamp --> and <!-- END suite:sub -->,
# the stamp naming the run it comes from: a run that did not cover a
# subsection (SECTIONS="store", say) keeps the existing text, and says so
# under its heading when it comes from another run. A report written before
# these markers is read by its headings (legacy_map below).
# Needs jq (Debian's jq 1.6 is enough).
set -euo pipefail
out=${1:?usage: mdgen.sh OUT_DIR BENCHMARKS.md [PLOTS_DIR]}
md=${2:?usage: mdgen.sh OUT_DIR BENCHMARKS.md [PLOTS_DIR]}
plots=${3:-$(cd "$(dirname "$0")/.." && pwd)/plots}

# plot_link NAME: the link to PLOTS_DIR/NAME.svg from BENCHMARKS.md's
# directory, or nothing if there is no such file.
plot_link() {
	[ -f "$plots/$1.svg" ] || return 0
	realpath -m --relative-to="$(dirname "$md")" "$plots/$1.svg"
}
ENCODER_SVG=$(plot_link encoder)

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
    + (if $r.sections then " (SECTIONS=\"" + ($r.sections | join(" ")) + "\")" else "" end)
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
    + row(["open files (ulimit -n)", $m.nofile]) + "\n"
    + (if $m.load then row(["load average 1 / 5 / 15 min, at start / end", ($m.load | gsub(" "; " / ")) + " — " + (($r.load // "?") | gsub(" "; " / "))]) + "\n" else "" end)
    + "\n"
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
def stamp(all; peers):
  (all | map(select(.case == "machine")) | last) as $m
  | (all | map(select(.case == "run")) | last) as $r
  | "run " + (($r.time // $m.time // "?") | tostring) + ", commit " + ($m.commit // "?")
    + ", " + ($m.cpu // "?") + " × " + (($m.nproc // "?") | tostring) + " (nproc)"
    + (if peers and ($m.icecast // "") != "" then ", " + $m.icecast else "" end)
    + (if peers and ($m.liquidsoap // "") != "" then ", " + $m.liquidsoap else "" end);
def sections(all): (all | map(select(.case == "run")) | last | .sections) // null;
def mib: if . == null then null else . / 1048576 end;
def ok_rps: res | if .rps == null then null
  elif (.requests // 0) > 0 then .rps * (.requests - (.non_2xx // 0)) / .requests else .rps end;
def minus(a; b): if (a | type) == "number" and (b | type) == "number" then a - b else null end;
def store_sub(all; heading):
  (all | map(select(.section == "store" and .case == null))) as $S
  | (all | map(select(.section == "store" and .case == "data"))) as $D
  | def pick(route; sys; st): $S | map(select(.route == route and .system == sys and (st == null or .store == st))) | last;
  def nginx(route): pick(route; "nginx"; null);
  if ($S | length) == 0 then "" else
  ($S | map(select(.system == "synthcast")) | .[0] // $S[0]) as $f
  | pick("/set_param"; "synthcast"; "bolt") as $sb | pick("/set_param"; "synthcast"; "memory") as $sm
  | pick("/create_stream"; "synthcast"; "bolt") as $cb | pick("/create_stream"; "synthcast"; "memory") as $cm
  | heading + "\n\n"
  + "wrk -t" + (($f.threads // "?") | tostring) + " -c" + (($f.conns // "?") | tostring) + " -d" + ($f.duration // "?")
  + ", keep-alive, the control plane'"'"'s scripts (`bench/create_stream.lua`; `bench/set_param.lua`, all on one stream), "
  + "a fresh server per row: synthcast with `-store bolt` (the default: a 200 is sent once the change is in a committed, "
  + "fsynced transaction, many requests sharing one commit), its `-data-dir` in the run'"'"'s temporary directory (RUN), "
  + "and with `-store memory`; `-max-streams " + (($f.max_streams // "?") | tostring) + "` so that every create is kept. "
  + "nginx `return 200` (`bench/peers/nginx.conf.tmpl`), measured in the same run with the same scripts, is the yardstick. "
  + "*2xx/s*: answers 200 per second (a 503 is a change that was not stored); *÷ nginx*: 2xx/s over nginx'"'"'s requests/s "
  + "for the same script. Every figure is defined in `bench/doc.go` (\"Durable control plane\").\n\n"
  + (if $sb == null or $sm == null then "" else
    "In this run, /set_param: " + (($sb | ok_rps) | fmt(0)) + " 2xx/s durable (" + ratio($sb | ok_rps; nginx("/set_param").result.rps)
    + " of nginx), " + (($sm | ok_rps) | fmt(0)) + " in memory (" + ratio($sm | ok_rps; nginx("/set_param").result.rps) + "); "
    + "/create_stream: " + (($cb | ok_rps) | fmt(0)) + " durable (" + ratio($cb | ok_rps; nginx("/create_stream").result.rps)
    + "), " + (($cm | ok_rps) | fmt(0)) + " in memory (" + ratio($cm | ok_rps; nginx("/create_stream").result.rps) + ").\n\n" end)
  + head(["route", "system", "store", "requests/s", "2xx/s", "÷ nginx", "latency ms p50", "p90", "p99", "max",
      "non-2xx / errors", "server CPU µs / request"]) + "\n"
  + (["/create_stream", "/set_param"] | map(. as $rt | [nginx($rt), pick($rt; "synthcast"; "bolt"), pick($rt; "synthcast"; "memory")]
      | map(select(. != null)) | map(. as $x | row([$rt, .system, (.store // "–")]
        + (if .error then [err, "", "", "", "", "", "", "", ""] else
          [(res.rps | fmt(0)), (ok_rps | fmt(0)), ratio(ok_rps; nginx($rt).result.rps),
           (res.latency_ms.p50 | fmt(3)), (res.latency_ms.p90 | fmt(3)), (res.latency_ms.p99 | fmt(3)), (res.latency_ms.max | fmt(2)),
           (((res.non_2xx // 0) | tostring) + " / " + ((res.errors // 0) | tostring)),
           (res.server.cpu_per_request_us | fmt(2))] end)))) | flatten | join("\n")) + "\n\n"
  + ([$cb, $sb, $cm, $sm] | map(select(. != null and .error == null))) as $K
  | (if ($K | length) == 0 then "" else
    "The commit. Seen from outside: the latency of the rows above runs from wrk'"'"'s request to the 200, which with "
    + "`-store bolt` is sent only after the group commit that holds the change; `-store memory` is the same path with no "
    + "disk, so *bolt − memory* is what waiting for the commit adds (scheduling noise on shared cores can make it negative). "
    + "Seen from inside: the server'"'"'s own `/metrics` (admin listener), read before and after each run: "
    + "`synthcast_store_commits_total`, `synthcast_store_committed_writes_total` and the `synthcast_store_commit_seconds` "
    + "histogram, whose buckets (0.5, 1, 2, 5, 10 ms, …) bound the median and the 99th percentile from above. "
    + "*commits/s at least* is the check from outside: each connection has one request in flight, so a commit holds at most "
    + "one write per connection (2xx/s ÷ connections). `BenchmarkBoltWrite` in the Go benchmarks gives the store'"'"'s own "
    + "writes/s and commits/s with a fixed number of writers.\n\n"
    + head(["route", "store", "latency ms p50", "p90", "p99", "2xx/s", "commits/s", "writes / commit", "commit ms mean",
        "commit ms p50 ≤", "p99 ≤", "commits/s at least"]) + "\n"
    + ($K | map(. as $x | (if .store == "bolt" then res.server.commits else null end) as $c | row([.route, .store,
        (res.latency_ms.p50 | fmt(3)), (res.latency_ms.p90 | fmt(3)), (res.latency_ms.p99 | fmt(3)), (ok_rps | fmt(0)),
        ($c.commits_per_s | fmt(0)), ($c.writes_per_commit | fmt(1)), ($c.commit_ms.mean | fmt(3)),
        ($c.commit_ms.p50_le | fmt(1)), ($c.commit_ms.p99_le | fmt(1)),
        (if .store == "bolt" and (.conns | type) == "number" then ($x | ok_rps) / .conns else null end | fmt(0))])) | join("\n")) + "\n"
    + ([["/create_stream", $cb, $cm], ["/set_param", $sb, $sm]] | map(select(.[1] != null and .[2] != null
        and .[1].error == null and .[2].error == null))
      | map(row([.[0], "bolt − memory",
        (minus(.[1].result.latency_ms.p50; .[2].result.latency_ms.p50) | fmt(3)),
        (minus(.[1].result.latency_ms.p90; .[2].result.latency_ms.p90) | fmt(3)),
        (minus(.[1].result.latency_ms.p99; .[2].result.latency_ms.p99) | fmt(3)), "", "", "", "", "", "", ""]))
      | join("\n")) + "\n\n" end)
  + (if ($D | length) == 0 then "" else
    "What the /create_stream rows left (counted before the server was stopped with SIGTERM, the data file measured after):\n\n"
    + head(["store", "streams", "data file MiB", "on disk MiB", "bytes / stream", "server RSS MiB", "RSS bytes / stream"]) + "\n"
    + ($D | map(row([.store, (.streams | fmt(0)), (.file_bytes | mib | fmt(1)), (.alloc_bytes | mib | fmt(1)),
        (if .file_bytes and (.streams // 0) > 0 then .file_bytes / .streams else null end | fmt(0)),
        ((.rss_kib // null) | if . == null then null else . / 1024 end | fmt(1)),
        (if .rss_kib and (.streams // 0) > 0 then .rss_kib * 1024 / .streams else null end | fmt(0))])) | join("\n")) + "\n" end)
  + cmds($S | map({label: (.system + (if .store then " " + .store else "" end) + " " + .route), cmd, server})) end;
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
if $part == "header" then "## Side by side: `make bench-peers`\n\n" + machine($all)
elif $part == "glance" then glance
elif $part == "format" then probes($all)
elif $part == "store" then store_sub($all; "### (e) Durable control plane: /create_stream and /set_param, -store bolt vs -store memory vs nginx")
elif $part == "listen" then (if ($L | length) == 0 then "" else
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
elif $part == "unique" then (if ($U | length) == 0 then "" else
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
elif $part == "latency" then (if ($T | length) == 0 then "" else
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
elif $part == "control" then (if ($C | length) == 0 then "" else
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
else "" end
'

JQ_BENCH='
. as $all
| ($all | map(select(.section == "listen" and .case == null))) as $L
| ($all | map(select(.section == "unique" and .case == null))) as $U
| ($all | map(select(.section == "latency" and .case == null))) as $T
| ($all | map(select(.section == "tuned" and .case == null))) as $TU
| ($all | map(select(.section == "control" and .case == null))) as $C
| ($all | map(select(.case == "gobench"))) as $G
| ($all | map(select(.section == "restart" and .case == null))) as $R
| ($all | map(select(.section == "icy" and .case == null))) as $I
| ($all | map(select(.section == "icy" and .case == "ratio")) | last) as $IR
| ($all | map(select(.section == "cluster" and .case == null))) as $K
| ($all | map(select(.section == "encoder" and .case == null))) as $E
| if $part == "header" then "## synthcast alone: `make bench`\n\n" + machine($all)
elif $part == "format" then probes($all)
elif $part == "listen" then (if ($L | length) == 0 then "" else
  "### Listener ladder (" + (($L[0].streams // "?") | tostring) + " streams, default pacing)\n\n"
  + listen_head("listeners asked") + "\n"
  + ($L | map(row([(.n | tostring), .system] + listen_cells)) | join("\n")) + "\n"
  + cmds($L | map({label: ((.n | tostring) + " listeners"), cmd, server})) + "\n" end)
elif $part == "unique" then (if ($U | length) == 0 then "" else
  "### Unique-stream ladder (one listener per stream)\n\n"
  + listen_head("K streams (listeners)") + "\n"
  + ($U | map(row([((.k | tostring) + " (" + ((.n // "?") | tostring) + ")"), .system] + listen_cells)) | join("\n")) + "\n"
  + cmds($U | map({label: ("K=" + (.k | tostring)), cmd, server})) + "\n" end)
elif $part == "icy" then (if ($I | length) == 0 then "" else
  "### ICY metadata: server CPU per listener-second, with and without\n\n"
  + (($I[0].n // "?") | tostring) + " listeners over " + (($I[0].streams // "?") | tostring)
  + " streams against one synthcast (`-store memory`), the same load twice in this run: plain, then asking for titles "
  + "(`Icy-MetaData: 1`; `go run ./bench listen -icy` checks each metadata block'"'"'s layout and takes it out before "
  + "walking the frames). *CPU ms / listener-s*: the server'"'"'s CPU over the steady window, rendering and encoding its "
  + "streams included, over the listener-seconds in it; *bad blocks*: metadata blocks that broke the layout. "
  + "Definitions: `bench/doc.go` (\"ICY metadata'"'"'s cost\").\n\n"
  + head(["run", "ok / failed", "stalled listeners", "sync losses / bad blocks", "ICY blocks (titles, changes)",
      "server CPU s", "listener-s", "CPU ms / listener-s", "client CPU s"]) + "\n"
  + ($I | map(row([(if .icy then "ICY" else "plain" end)]
      + (if .error then [err, "", "", "", "", "", "", ""] else
        [okfail, stalls,
         (res.sync_losses | fmt(0)) + " / " + (if .icy then (res.icy.bad_blocks | fmt(0)) else "–" end),
         (if .icy then (res.icy.blocks | fmt(0)) + " (" + (res.icy.titles | fmt(0)) + ", " + (res.icy.title_changes | fmt(0)) + ")" else "–" end),
         (res.server.cpu_s | fmt(2)), (res.listener_s | fmt(0)), (ms(res.server.cpu_per_listener_s) | fmt(3)),
         (res.client.cpu_s | fmt(1))] end))) | join("\n")) + "\n"
  + (if $IR == null then "" else
      row(["ICY ÷ plain", "", "", "", "", "", "",
        (if $IR.ratio == null then "–" else ($IR.ratio | fmt(2)) + "×" end) + " (goal ≤ " + ($IR.goal | tostring) + "×: "
        + (if $IR.goal_met == true then "met" elif $IR.goal_met == false then "**not met**" else "–" end) + ")", ""]) + "\n" end)
  + cmds($I | map({label: (if .icy then "ICY" else "plain" end), cmd, server})) + "\n" end)
elif $part == "latency" then (if ($T | length) == 0 then "" else
  "### A change heard (/set_param → first changed frame at a listener)\n\n"
  + latency_head("system"; "pacing") + "\n"
  + ($T | map(row([.system, .via] + latency_cells)) | join("\n")) + "\n"
  + (if ($TU | length) == 0 then "" else "\n" + listen_head("listeners asked") + "\n"
     + ($TU | map(row([(.n | tostring), .system + " (" + (.prebuffer // "?") + " / " + (.tick // "?") + ")"] + listen_cells)) | join("\n")) + "\n" end)
  + cmds(($T + $TU) | map({label: .system, cmd, server})) + "\n" end)
elif $part == "control" then (if ($C | length) == 0 then "" else
  "### Control plane\n\n"
  + control_head(["route", "tool"]) + "\n"
  + ($C | map(row([.route, .tool] + control_cells)) | join("\n")) + "\n"
  + (if ($C | map(select(.route == "/create_stream")) | length) > 0
     then "\n/create_stream answers 503 once the server holds -max-streams streams (10000 by default): its non-2xx are those.\n" else "" end)
  + cmds($C | map({label: (.route + " " + .tool), cmd, server})) + "\n" end)
elif $part == "store" then store_sub($all; "### Durable control plane: /create_stream and /set_param, -store bolt vs -store memory vs nginx")
elif $part == "cluster" then (if ($K | length) == 0 then "" else
  ($K | map(select(.part == "set_param"))) as $KS
  | ($K | map(select(.part == "failover"))) as $KF
  | ($K | map(select(.part == "listen" or .part == "unique"))) as $KN
  | ($KS | map(select(.system == "nginx")) | last) as $kn
  | "### A cluster: Redis store, failover, 1–3 nodes\n\n"
  + "Definitions: `bench/doc.go` (\"A cluster\"). Every process (redis-server, the nodes, nginx, the load) runs on this "
  + "machine over loopback; each is started for its case and stopped by its PID.\n\n"
  + (if ($KS | length) == 0 then "" else
    "**/set_param, Redis vs the embedded store.** wrk -t" + (($KS[0].threads // "?") | tostring) + " -c" + (($KS[0].conns // "?") | tostring)
    + " -d" + ($KS[0].duration // "?") + " --latency, keep-alive, `bench/set_param.lua` on one stream, in this run, a fresh server per row: "
    + "one synthcast with `-store bolt` (a 200 once the change is in a committed, fsynced bolt transaction), one with "
    + "`-store redis://…` on a redis-server of the run (`--save \"\" --appendonly yes`, `--appendfsync always`: Redis fsyncs "
    + "before it answers; `everysec`: a machine crash can lose the last second or two), and nginx `return 200` as the yardstick. "
    + "*÷ nginx*: 2xx/s over nginx'"'"'s requests/s. Server CPU for the Redis rows is synthcast + redis-server.\n\n"
    + head(["server", "store", "requests/s", "2xx/s", "÷ nginx", "latency ms p50", "p99", "max", "non-2xx / errors", "server CPU µs / request"]) + "\n"
    + ($KS | map(row([.system, .store] + (if .error then [err, "", "", "", "", "", "", ""] else
        [(res.rps | fmt(0)), (ok_rps | fmt(0)), ratio(ok_rps; $kn.result.rps),
         (res.latency_ms.p50 | fmt(3)), (res.latency_ms.p99 | fmt(3)), (res.latency_ms.max | fmt(2)),
         (((res.non_2xx // 0) | tostring) + " / " + ((res.errors // 0) | tostring)),
         (res.server.cpu_per_request_us | fmt(2))] end))) | join("\n")) + "\n\n" end)
  + (if ($KF | length) == 0 then "" else
    ($KF | last) as $f
    | "**Failover.** 3 nodes (`-store redis://…`, appendfsync always) behind nginx with `deploy/nginx/synthcast.conf` "
    + "(its addresses replaced by the run'"'"'s, in a minimal `daemon off;` nginx.conf), "
    + (($f.n // "?") | tostring) + " listeners over " + (($f.streams // "?") | tostring) + " streams with `listen -reconnect` "
    + "(a lost stream is asked again after 50 ms, doubling to 1 s). Once all are connected, " + (($f.kills // []) | length | tostring)
    + " times: `kill -9` a node (n1, n2, n3, n1, …), start it again on its port, wait for its /healthz, then wait " + ($f.settle // "?")
    + " (the config has `max_fails=0`: nginx never marks a node down, and a request that finds its node dead goes on to the next). "
    + "*gap*: from a listener'"'"'s stream ending to the next audio byte, pooled over every loss of every kill (p50 / p99 / max); "
    + "*lost*: listeners not connected at the end of the window (failed / closed early), and those that gave up "
    + "(20 tries in a row without audio); *stalled*: listeners whose lead went below zero while connected; "
    + "*restart*: `kill -9` to the new process answering /healthz.\n\n"
    + head(["kills", "listeners (streams)", "streams lost and found again", "gap ms p50", "p99", "max", "tries",
        "lost: failed / closed early / gave up", "stalled listeners", "ok", "restart ms p50 / max"]) + "\n"
    + ($KF | map(. as $x | row([(($x.kills // []) | length | tostring), ((.n // "?") | tostring) + " (" + ((.streams // "?") | tostring) + ")"]
        + (if .error then [err, "", "", "", "", "", "", "", ""] else
          (($x.kills // []) | map(.restart_ms) | sort) as $rm
          | [(res.reconnect.gaps | fmt(0)), (res.reconnect.gap_ms.p50 | fmt(1)), (res.reconnect.gap_ms.p99 | fmt(1)),
             (res.reconnect.gap_ms.max | fmt(1)), (res.reconnect.tries | fmt(0)),
             ((res.failed // "?") | tostring) + " / " + ((res.closed_early // "?") | tostring) + " / " + ((res.reconnect.gave_up // "?") | tostring),
             stalls, (res.ok | fmt(0)),
             (if ($rm | length) == 0 then "–" else ($rm[(($rm | length) - 1) / 2 | floor] | fmt(0)) + " / " + ($rm[-1] | fmt(0)) end)] end)))
      | join("\n")) + "\n\n"
    + "Kills: " + (($f.kills // []) | map(.node + " " + (.restart_ms | tostring) + " ms") | join(", ")) + ".\n\n"
    + (($f.result.reasons // {})["status 502"] // 0) as $b
    | (if $b == 0 then "" else
      "**" + ($b | tostring) + " listeners ended on `502`** (nginx: `no live upstreams`, with every node running). "
      + "With `max_fails` above 0, nginx OSS marks a node that refused a connection as failed and counts it live again only "
      + "when a request sent to it ends well (`ngx_http_upstream_free_round_robin_peer`); a `/stream` request does not "
      + "end, so a restarted node that gets only listeners stays out. The shipped config sets `max_fails=0` for this.\n\n" end) end)
  + (if ($KN | length) == 0 then "" else
    "**1, 2 and 3 nodes.** The same load through nginx (`deploy/nginx/synthcast.conf` with that many `server` lines) in front of "
    + "1, 2 or 3 nodes sharing a redis-server: a listener case and a unique-streams case (44.1 kHz stereo, one listener each). "
    + "**The nodes, nginx, redis-server and the load generator all share this machine'"'"'s " + (($all | map(select(.case == "machine")) | last | .nproc // "?") | tostring)
    + " cores, so this is a correctness check (every count serves every listener, in time), not a scaling figure**: more nodes "
    + "here only split the same cores. *node CPU s*: the nodes'"'"' CPU over the steady window, summed (nginx and redis-server not included).\n\n"
    + head(["case", "nodes", "ok / failed", "stalled listeners", "TTFB ms p50 / p99 / max", "lead s min / p50 / max",
        "sync losses", "node CPU s", "node RSS MiB", "client CPU s"]) + "\n"
    + ($KN | map(row([(if .part == "listen" then ((.n | tostring) + " listeners over " + (.streams | tostring) + " streams")
          else ((.n | tostring) + " unique streams") end), (.nodes | tostring)]
        + (if .error then [err, "", "", "", "", "", "", ""] else
          [okfail, stalls,
           (res.ttfb_ms.p50 | fmt(1)) + " / " + (res.ttfb_ms.p99 | fmt(1)) + " / " + (res.ttfb_ms.max | fmt(1)),
           (res.lead_s.min | fmt(2)) + " / " + (res.lead_s.p50 | fmt(2)) + " / " + (res.lead_s.max | fmt(2)),
           (res.sync_losses | fmt(0)), (res.server.cpu_s | fmt(2)),
           ((res.server.rss_kib // null) | if . == null then null else . / 1024 end | fmt(1)),
           (res.client.cpu_s | fmt(1))] end))) | join("\n")) + "\n" end)
  + cmds($K | map({label: (if .part == "set_param" then .system + " " + .store
      elif .part == "failover" then "failover" else .part + ", " + (.nodes | tostring) + " node(s)" end), cmd, server}))
  + "\n" end)
elif $part == "restart" then (if ($R | length) == 0 then "" else
  "### Restart: exec to serving over N stored streams\n\n"
  + "`go run ./bench restart` runs the real binary over an empty data directory (`-store bolt`), creates N streams over "
  + "keep-alive connections, stops it with SIGTERM, then starts it again K times over that directory. *serving*: from exec "
  + "to the first 200 of GET /healthz (which also says every stream is back); *listening*: from exec to the server'"'"'s "
  + "`listening` log line; *load*: the server'"'"'s own `took=` for reading and checking every record; *bytes / stream*: "
  + "the data file `synthcast.db` over N; *RSS*: the server'"'"'s resident memory once serving. The goals (the issue'"'"'s): "
  + "serving in less than 1 s at 100,000 streams, at most 512 bytes of disk per stream. Definitions: `bench/doc.go` (\"restart\").\n\n"
  + head(["streams", "created in s (per s)", "data file MiB", "bytes / stream", "serving ms min / p50 / max",
      "listening ms p50", "load ms p50", "RSS MiB p50", "stop ms p50", "restarts", "goal: serving / disk"]) + "\n"
  + ($R | map(if .error then row([(.streams | tostring), err, "", "", "", "", "", "", "", "", ""]) else
      row([(.streams | tostring),
        (res.create.seconds | fmt(1)) + " (" + (res.create.rps | fmt(0)) + ")",
        (res.data_file_bytes | mib | fmt(1)), (res.bytes_per_stream | fmt(0)),
        (res.serving_ms.min | fmt(0)) + " / " + (res.serving_ms.p50 | fmt(0)) + " / " + (res.serving_ms.max | fmt(0)),
        (res.listening_ms.p50 | fmt(0)), (res.load_ms.p50 | fmt(0)),
        ((res.rss_kib.p50 // null) | if . == null then null else . / 1024 end | fmt(1)),
        (res.stop_ms.p50 | fmt(0)), ((res.restarts // []) | length | tostring),
        (if res.goal.serving_met then "met" else "**not met**" end) + " / " + (if res.goal.disk_met then "met" else "**not met**" end)]) end)
    | join("\n")) + "\n"
  + cmds($R | map({label: ((.streams | tostring) + " streams"), cmd,
      server: (if res.server then res.server | sub("^[^ ]*/"; "bin/") + " (DATA: a fresh temporary directory)" else .server end)}))
  + "\n" end)
elif $part == "encoder" then (if ($E | length) == 0 then "" else
  ($all | map(select(.section == "encoder" and .case == "input")) | last) as $in
  | ($all | map(select(.section == "encoder" and .case == "build")) | last) as $b
  | ($E | map(select(.row == "lame-default")) | last | .result.rtf.p50) as $lame
  | def files(l): (l // []) | map(sub("^[^ ]* "; "") | gsub("[\\[\\]]"; "") | split(" ")) | flatten | map(select(. != ""));
    def row_of(r): $E | map(select(.row == r)) | last;
    def rtf(r): row_of(r) | if . == null or .error or .skipped then null else .result.rtf.p50 end;
  (files($b.default_files) - files($b.purego_files)) as $only_def
  | (files($b.purego_files) - files($b.default_files)) as $only_pure
  | "### MP3 encoders: real-time factor per core\n\n"
  + "The same " + (($in.result.seconds // "?") | tostring) + " s of 44.1 kHz stereo for every row (`go run ./bench pcm`: "
  + "synthcast'"'"'s renderer through " + (($in.result.scenes // []) | length | tostring) + " scenes: "
  + (($in.result.scenes // []) | map(.name) | join("; ")) + "), encoded at 128 kbit/s on one thread, "
  + (($in.repeats // "?") | tostring) + " run(s) each, on " + ($b.cpu // "?")
  + " (AVX2: " + (if $b.avx2 then "yes" else "no" end) + ", FMA: " + (if $b.fma then "yes" else "no" end) + "). "
  + "*RTF per core*: seconds of audio encoded per CPU-second (user + system) of the encoding process, the median of the runs "
  + "(min – max beside it). synthcast'"'"'s encoder runs inside `bench encode` on a locked thread over the input already in "
  + "memory (getrusage around the encode loop); ffmpeg'"'"'s CPU is its rusage at exit, its start and the reading of the "
  + "file included, which the baseline row (ffmpeg with no encoder) measures alone. *÷ LAME default*: RTF over LAME'"'"'s at "
  + "its default quality in this run. *output*: the encoded file walked frame by frame: frames, their audio, and valid "
  + "(no sync loss, every frame 128 kbit/s 44.1 kHz stereo, 0 to 0.15 s longer than the input). "
  + "Definitions: `bench/doc.go` (\"The encoder table\").\n\n"
  + (if $b == null then "" elif $b.kernels_differ then
      "`-tags purego` builds other files of render and shine: " + ($only_def | map("`" + . + "`") | join(", "))
      + " in the default build (SIMD kernels, used where the CPU has them), " + ($only_pure | map("`" + . + "`") | join(", "))
      + " with purego.\n\n"
    else "`-tags purego` selects the same files as the default build in this tree: both synthcast rows run the same code.\n\n" end)
  + (if rtf("synthcast") != null and $lame != null then
      "In this run: synthcast'"'"'s encoder " + (rtf("synthcast") | fmt(0)) + "× real time per core, " + ratio(rtf("synthcast"); $lame)
      + " LAME'"'"'s default" + (if rtf("synthcast-purego") != null then " (purego: " + (rtf("synthcast-purego") | fmt(0)) + "×, "
      + ratio(rtf("synthcast-purego"); $lame) + ")" else "" end)
      + (if rtf("shine") != null then "; shine in C " + (rtf("shine") | fmt(0)) + "×" else "" end) + ".\n\n" else "" end)
  + head(["encoder", "RTF per core", "min – max", "÷ LAME default", "CPU s p50", "wall s p50", "output: frames, audio s, valid"]) + "\n"
  + ($E | map(row([.label // .row]
      + (if .skipped then ["skipped: " + .skipped, "", "", "", "", ""]
        elif .error then [err, "", "", "", "", ""]
        else [(res.rtf.p50 | fmt(1)), (res.rtf.min | fmt(1)) + " – " + (res.rtf.max | fmt(1)),
          (if .baseline then "(baseline)" else ratio(res.rtf.p50; $lame) end),
          (res.cpu_s.p50 | fmt(3)), ((res.runs // []) | map(.wall_s) | sort | if length == 0 then null else .[(length - 1) / 2 | floor] end | fmt(3)),
          (if res.out == null then "–" else (res.out.frames | tostring) + ", " + (res.out.audio_s | fmt(3)) + ", "
            + (if res.out.valid then "yes" else "**no**: " + (res.out.why // "?") end) end)] end))) | join("\n")) + "\n\n"
  + (if $encoder_svg != "" then "![MP3 encoders: RTF per core](" + $encoder_svg + ")\n" else "" end)
  + cmds(([$in] | map(select(. != null)) | map({label: "input", cmd})) + ($E | map(select(.cmd)) | map({label: .row, cmd})))
  + "\n" end)
elif $part == "gobench" then (if ($G | length) == 0 then "" else
  "### Go benchmarks of the hot paths\n\n"
  + (if ($G | map(select(.pkg // "" | endswith("/store"))) | length) > 0 then
    "store: *writes/s* and *commits/s* are the store'"'"'s own, with that many writers each waiting for its write to be "
    + "durable before the next (as an HTTP handler does); commits/s is the rate of fsynced transactions, writes/s ÷ commits/s "
    + "the writes one group commit carried. *bytes/record*: the data file over 100,000 records; *ns/record*: opening and "
    + "loading them, per record.\n\n" else "" end)
  + head(["package", "benchmark", "ns/op", "B/op", "allocs/op", "other"]) + "\n"
  + ($G | map(if .error then row(["", "", err, "", "", ""]) else
      row([(.pkg | sub("^github.com/synthcast/synthcast/"; "")), .name,
        (.metrics["ns/op"] | fmt(1)), (.metrics["B/op"] | fmt(0)), (.metrics["allocs/op"] | fmt(0)),
        (.metrics | to_entries | map(select(.key | IN("ns/op", "B/op", "allocs/op") | not))
          | map((.value | fmt(2)) + " " + .key) | join(", "))]) end) | join("\n")) + "\n"
  + cmds($G | map(select(.cmd)) | .[0:1] | map({label: "all", cmd, server})) + "\n" end)
else "" end
'

# legacy_map SUITE: where each subsection starts in a report written before
# the subsection markers ("line prefix=subsection;..."); the header (the run
# and machine) is regenerated, not kept.
legacy_map() {
	case $1 in
	bench) echo 'Format check=format;### Listener ladder=listen;### Unique-stream ladder=unique;### A change heard=latency;### Control plane=control;### Go benchmarks=gobench' ;;
	peers) echo 'At a glance=glance;Format check=format;### (a)=listen;### (b)=unique;### (c)=latency;### (d)=control' ;;
	esac
}

# old_sub SUITE SUB: subsection SUB of section SUITE in the existing report:
# its stamp on the first line, then its text; nothing if it has none.
old_sub() {
	[ -f "$md" ] || return 0
	awk -v suite="$1" -v want="$2" -v map="$(legacy_map "$1")" '
	BEGIN {
		b = "<!-- BEGIN " suite " -->"; e = "<!-- END " suite " -->"
		sb = "<!-- BEGIN " suite ":" want " | "; se = "<!-- END " suite ":" want " -->"
		np = split(map, kv, ";")
		for (i = 1; i <= np; i++) { split(kv[i], p, "="); pre[i] = p[1]; nm[i] = p[2] }
	}
	$0 == b { insec = 1; next }
	$0 == e { insec = 0; next }
	!insec { next }
	index($0, sb) == 1 { stamp = substr($0, length(sb) + 1); sub(/ -->$/, "", stamp); nested = 1; found = 1; next }
	$0 == se { nested = 0; next }
	nested { body = body $0 "\n"; next }
	/^<!-- (BEGIN|END) / { cur = ""; next }
	/^Run .* commit `/ { lt = $2; lc = $0; sub(/.*commit `/, "", lc); sub(/`.*/, "", lc) }
	/^\| CPU \| / { lcpu = $0; sub(/^\| CPU \| /, "", lcpu); sub(/ \|$/, "", lcpu) }
	suite == "peers" && /^\| (Icecast|Liquidsoap) \| / { v = $0; sub(/^\| [A-Za-z]+ \| /, "", v); sub(/ \|$/, "", v); if (v != "") lver = lver ", " v }
	{
		hit = 0
		for (i = 1; i <= np; i++) if (index($0, pre[i]) == 1) { cur = nm[i]; hit = 1; break }
		if (!hit && $0 ~ /^### /) cur = ""
	}
	cur == want { legacy = legacy $0 "\n" }
	END {
		if (found) { print stamp; printf "%s", body }
		else if (legacy != "") { print "run " lt ", commit " lc ", " lcpu lver; printf "%s", legacy }
	}' "$md"
}

# emit_sub SUITE SUB STAMP TEXT [NOTE]: one subsection between its markers;
# NOTE, if given, goes under its heading (or first, if it has none), where a
# note from an earlier keep is dropped.
emit_sub() {
	echo "<!-- BEGIN $1:$2 | $3 -->"
	printf '%s\n' "$4" | awk -v note="${5:-}" '
	function out(l) {
		if (l == "") { blanks++; return }
		for (; blanks > 0; blanks--) print ""
		print l
	}
	/^> \*Kept from an earlier run/ { skip = 1; next }
	skip && /^$/ { skip = 0; next }
	{ skip = 0 }
	note != "" && !done && /^### / { out($0); out(""); out(note); done = 1; next }
	note != "" && !done { out(note); out(""); done = 1 }
	{ out($0) }'
	echo
	echo "<!-- END $1:$2 -->"
}

# section SUITE PROG TITLE SUB...: the section SUITE of the report. With
# results (OUT_DIR/SUITE.jsonl): the header from them, then each subsection
# the run covered from them, and each other one as it stands in the existing
# report. Without: the existing section as it stands, or a placeholder.
section() {
	local name=$1 prog=$2 title=$3
	shift 3
	local j="$out/$name.jsonl"
	echo "<!-- BEGIN $name -->"
	if [ -s "$j" ]; then
		local stamp ran sub text old ostamp
		# The peers' versions matter to their figures: a part kept from
		# another run names them.
		stamp=$(jq -r -s --arg suite "$name" "$JQ_LIB stamp(.; \$suite == \"peers\")" "$j")
		ran=" $(jq -r -s "$JQ_LIB sections(.) | if . == null then \"ALL\" else join(\" \") end" "$j") "
		jq -r -s --arg part header --arg encoder_svg "$ENCODER_SVG" "$JQ_LIB $prog" "$j"
		for sub; do
			text=""
			if covered "$sub" "$ran"; then
				text=$(jq -r -s --arg part "$sub" --arg encoder_svg "$ENCODER_SVG" "$JQ_LIB $prog" "$j")
			fi
			if [ -n "$text" ]; then
				emit_sub "$name" "$sub" "$stamp" "$text"
				echo
				continue
			fi
			old=$(old_sub "$name" "$sub")
			[ -n "$old" ] || continue
			ostamp=${old%%$'\n'*}
			text=${old#*$'\n'}
			if [ "$ostamp" = "$stamp" ]; then
				emit_sub "$name" "$sub" "$ostamp" "$text"
			else
				emit_sub "$name" "$sub" "$ostamp" "$text" "> *Kept from an earlier run ($ostamp): the run above did not cover this part.*"
			fi
			echo
		done
	elif [ -f "$md" ] && grep -q "<!-- BEGIN $name -->" "$md"; then
		awk -v b="<!-- BEGIN $name -->" -v e="<!-- END $name -->" \
			'$0 == e { on = 0 } on { print } $0 == b { on = 1 }' "$md"
	else
		printf '## %s\n\nNot run yet.\n\n' "$title"
	fi
	echo "<!-- END $name -->"
}

# covered SUB " SECTIONS ": whether a run of SECTIONS (or ALL) wrote SUB.
# The format check comes with whatever listened; the at-a-glance list sums
# up the four side-by-side sections and is rewritten only with all four.
covered() {
	local sub=$1 ran=$2 s
	case $ran in *" ALL "*) return 0 ;; esac
	case $sub in
	format) return 0 ;;
	glance)
		for s in listen unique latency control; do
			case $ran in *" $s "*) ;; *) return 1 ;; esac
		done
		return 0
		;;
	esac
	case $ran in *" $sub "*) return 0 ;; esac
	return 1
}

# plots_section: the listener and unique-stream plots (both targets' data),
# those of them that exist, between their markers.
plots_section() {
	local l u
	l=$(plot_link listen-cpu)
	u=$(plot_link unique-stalls)
	[ -n "$l$u" ] || return 0
	echo "<!-- BEGIN plots -->"
	echo "## Plots"
	echo
	echo "Drawn by \`bench/peers/plots.sh\` (gnuplot) from the data files beside them in \`bench/plots/\`, which"
	echo "\`go run ./bench plotdata\` writes from the JSON lines of the last \`make bench\` and \`make bench-peers\`: a"
	echo "series that a run did not measure keeps its data, so each legend names the run (date, CPU) its"
	echo "points come from. Server CPU is per listener-second of the steady window (the ladders' *CPU ms /"
	echo "listener*, Icecast + Liquidsoap summed); a stalled listener is one whose player ran dry at least"
	echo "once. The tables below hold every figure; the encoder chart is with its table."
	echo
	[ -z "$l" ] || printf '![Server CPU per listener-second against listeners](%s)\n\n' "$l"
	[ -z "$u" ] || printf '![Stalled listeners against unique streams](%s)\n\n' "$u"
	echo "<!-- END plots -->"
	echo
}

tmp=$(mktemp "${md}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
{
	cat <<'EOF'
# Benchmarks

Generated by `bench/peers/mdgen.sh` from the JSON lines in `bench/out/`: do not edit by hand.
`make bench` measures synthcast alone (`bench/run-bench.sh`); `make bench-peers` runs it side by
side with Icecast 2 + Liquidsoap 2 and nginx in the same run (`bench/run-peers.sh`). Each target
rewrites its own section and leaves the other as it was; a run of some of a target's sections
(`SECTIONS=...`) rewrites those parts and keeps the others, each part marked with the run it comes
from when that is not the run its section's header describes. Every figure comes from the load-test
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
	plots_section
	section bench "$JQ_BENCH" "synthcast alone: \`make bench\`" format listen unique icy latency control store cluster restart encoder gobench
	echo
	section peers "$JQ_PEERS" "Side by side: \`make bench-peers\`" glance format listen unique latency control store
} >"$tmp"
mv "$tmp" "$md"
trap - EXIT
