# The side-by-side section of BENCHMARKS.md (make bench-peers) from
# bench/out/peers.jsonl, read with -s; $part picks the header or a subsection.
include "lib";
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
  + "MP3 encoder, with output.harbor's defaults; all K run on Liquidsoap's one clock, in one thread. "
  + "synthcast serves K tokens (renders on all cores). \"catch-up\" counts Liquidsoap's log lines saying its clock fell behind. "
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
  + "real-time player that started at the listener's first byte plays the first changed frame (its arrival, if later); "
  + "*arrival*: from the call to that frame's arrival. Liquidsoap (`bench/peers/interactive.liq`): "
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
