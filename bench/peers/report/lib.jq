# Helpers shared by both sections of BENCHMARKS.md (bench/peers/mdgen.sh).
# Needs jq 1.6 or later.
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
    "Format check (ffprobe of each server's stream):\n\n"
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
  + ", keep-alive, the control plane's scripts (`bench/create_stream.lua`; `bench/set_param.lua`, all on one stream), "
  + "a fresh server per row: synthcast with `-store bolt` (the default: a 200 is sent once the change is in a committed, "
  + "fsynced transaction, many requests sharing one commit), its `-data-dir` in the run's temporary directory (RUN), "
  + "and with `-store memory`; `-max-streams " + (($f.max_streams // "?") | tostring) + "` so that every create is kept. "
  + "nginx `return 200` (`bench/peers/nginx.conf.tmpl`), measured in the same run with the same scripts, is the yardstick. "
  + "*2xx/s*: answers 200 per second (a 503 is a change that was not stored); *÷ nginx*: 2xx/s over nginx's requests/s "
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
    "The commit. Seen from outside: the latency of the rows above runs from wrk's request to the 200, which with "
    + "`-store bolt` is sent only after the group commit that holds the change; `-store memory` is the same path with no "
    + "disk, so *bolt − memory* is what waiting for the commit adds (scheduling noise on shared cores can make it negative). "
    + "Seen from inside: the server's own `/metrics` (admin listener), read before and after each run: "
    + "`synthcast_store_commits_total`, `synthcast_store_committed_writes_total` and the `synthcast_store_commit_seconds` "
    + "histogram, whose buckets (0.5, 1, 2, 5, 10 ms, …) bound the median and the 99th percentile from above. "
    + "*commits/s at least* is the check from outside: each connection has one request in flight, so a commit holds at most "
    + "one write per connection (2xx/s ÷ connections). `BenchmarkBoltWrite` in the Go benchmarks gives the store's own "
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
