# The synthcast-alone section of BENCHMARKS.md (make bench) from
# bench/out/bench.jsonl, read with -s; $part picks the header or a subsection.
include "lib";
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
  + "(`Icy-MetaData: 1`; `go run ./bench listen -icy` checks each metadata block's layout and takes it out before "
  + "walking the frames). *CPU ms / listener-s*: the server's CPU over the steady window, rendering and encoding its "
  + "streams included, over the listener-seconds in it; *bad blocks*: metadata blocks that broke the layout. "
  + "Definitions: `bench/doc.go` (\"ICY metadata's cost\").\n\n"
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
    + "*÷ nginx*: 2xx/s over nginx's requests/s. Server CPU for the Redis rows is synthcast + redis-server.\n\n"
    + head(["server", "store", "requests/s", "2xx/s", "÷ nginx", "latency ms p50", "p99", "max", "non-2xx / errors", "server CPU µs / request"]) + "\n"
    + ($KS | map(row([.system, .store] + (if .error then [err, "", "", "", "", "", "", ""] else
        [(res.rps | fmt(0)), (ok_rps | fmt(0)), ratio(ok_rps; $kn.result.rps),
         (res.latency_ms.p50 | fmt(3)), (res.latency_ms.p99 | fmt(3)), (res.latency_ms.max | fmt(2)),
         (((res.non_2xx // 0) | tostring) + " / " + ((res.errors // 0) | tostring)),
         (res.server.cpu_per_request_us | fmt(2))] end))) | join("\n")) + "\n\n" end)
  + (if ($KF | length) == 0 then "" else
    ($KF | last) as $f
    | "**Failover.** 3 nodes (`-store redis://…`, appendfsync always) behind nginx with `deploy/nginx/synthcast.conf` "
    + "(its addresses replaced by the run's, in a minimal `daemon off;` nginx.conf), "
    + (($f.n // "?") | tostring) + " listeners over " + (($f.streams // "?") | tostring) + " streams with `listen -reconnect` "
    + "(a lost stream is asked again after 50 ms, doubling to 1 s). Once all are connected, " + (($f.kills // []) | length | tostring)
    + " times: `kill -9` a node (n1, n2, n3, n1, …), start it again on its port, wait for its /healthz, then wait " + ($f.settle // "?")
    + " (the config has `max_fails=0`: nginx never marks a node down, and a request that finds its node dead goes on to the next). "
    + "*gap*: from a listener's stream ending to the next audio byte, pooled over every loss of every kill (p50 / p99 / max); "
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
    + "**The nodes, nginx, redis-server and the load generator all share this machine's " + (($all | map(select(.case == "machine")) | last | .nproc // "?") | tostring)
    + " cores, so this is a correctness check (every count serves every listener, in time), not a scaling figure**: more nodes "
    + "here only split the same cores. *node CPU s*: the nodes' CPU over the steady window, summed (nginx and redis-server not included).\n\n"
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
  + "to the first 200 of GET /healthz (which also says every stream is back); *listening*: from exec to the server's "
  + "`listening` log line; *load*: the server's own `took=` for reading and checking every record; *bytes / stream*: "
  + "the data file `synthcast.db` over N; *RSS*: the server's resident memory once serving. The goals (the issue's): "
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
  + "synthcast's renderer through " + (($in.result.scenes // []) | length | tostring) + " scenes: "
  + (($in.result.scenes // []) | map(.name) | join("; ")) + "), encoded at 128 kbit/s on one thread, "
  + (($in.repeats // "?") | tostring) + " run(s) each, on " + ($b.cpu // "?")
  + " (AVX2: " + (if $b.avx2 then "yes" else "no" end) + ", FMA: " + (if $b.fma then "yes" else "no" end) + "). "
  + "*RTF per core*: seconds of audio encoded per CPU-second (user + system) of the encoding process, the median of the runs "
  + "(min – max beside it). synthcast's encoder runs inside `bench encode` on a locked thread over the input already in "
  + "memory (getrusage around the encode loop); ffmpeg's CPU is its rusage at exit, its start and the reading of the "
  + "file included, which the baseline row (ffmpeg with no encoder) measures alone. *÷ LAME default*: RTF over LAME's at "
  + "its default quality in this run. *output*: the encoded file walked frame by frame: frames, their audio, and valid "
  + "(no sync loss, every frame 128 kbit/s 44.1 kHz stereo, 0 to 0.15 s longer than the input). "
  + "Definitions: `bench/doc.go` (\"The encoder table\").\n\n"
  + (if $b == null then "" elif $b.kernels_differ then
      "`-tags purego` builds other files of render and shine: " + ($only_def | map("`" + . + "`") | join(", "))
      + " in the default build (SIMD kernels, used where the CPU has them), " + ($only_pure | map("`" + . + "`") | join(", "))
      + " with purego.\n\n"
    else "`-tags purego` selects the same files as the default build in this tree: both synthcast rows run the same code.\n\n" end)
  + (if rtf("synthcast") != null and $lame != null then
      "In this run: synthcast's encoder " + (rtf("synthcast") | fmt(0)) + "× real time per core, " + ratio(rtf("synthcast"); $lame)
      + " LAME's default" + (if rtf("synthcast-purego") != null then " (purego: " + (rtf("synthcast-purego") | fmt(0)) + "×, "
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
    "store: *writes/s* and *commits/s* are the store's own, with that many writers each waiting for its write to be "
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
