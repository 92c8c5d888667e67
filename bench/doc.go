// Command bench is synthcast's load-test tool: it measures what listeners of
// an endless MP3 stream experience under load, how fast the control routes
// answer, how long a parameter change takes to be heard, and how long the
// server takes to serve again after a restart over its stored streams. It
// works against synthcast and, for listening and latency, against any HTTP
// MP3 stream (an Icecast mount fed by Liquidsoap, say), so the two can be
// compared on the same machine. It also times MP3 encoders (synthcast's and
// ffmpeg's) over the same PCM, and writes the data of BENCHMARKS.md's
// plots. It uses only the standard library and render (the frame-header
// parser, and the synthesiser and encoder for pcm and encode), and connects
// only to 127.0.0.0/8.
//
//	go run ./bench listen  -url http://127.0.0.1:8000 -streams 10 -n 1000 -ramp 5s -duration 30s -pid PID
//	go run ./bench listen  -url http://127.0.0.1:8000 -streams 10 -n 1000 -ramp 10s -duration 60s -pid PID -icy
//	go run ./bench listen  -stream-urls http://127.0.0.1:8001/live.mp3 -n 1000 -pids ICECAST,LIQUIDSOAP
//	go run ./bench control -url http://127.0.0.1:8000 -route set_param -c 100 -duration 10s
//	go run ./bench latency -url http://127.0.0.1:8000 -n 10
//	go run ./bench latency -stream-url URL -set-cmd-silence CMD -set-cmd-sound CMD
//	go run ./bench restart -bin bin/synthcast -streams 100000 -restarts 3
//	go run ./bench pcm     -o in.raw -seconds 200
//	go run ./bench encode  -in in.raw -out out.mp3 -repeats 3
//	go run ./bench encode  -in in.raw -out lame.mp3 -repeats 3 -- ffmpeg -threads 1 -f s16le -ar 44100 -ac 2 -i in.raw -c:a libmp3lame -b:a 128k -y lame.mp3
//	go run ./bench plotdata -bench bench/out/bench.jsonl -peers bench/out/peers.jsonl -dir bench/plots
//
// Every mode prints a human summary on stderr (and, when stderr is a
// terminal, a progress line about once a second) and one JSON object as the
// last line of stdout; -json leaves only the JSON. The exit status is 0 when
// the measurement ran, whatever it found; 2 for a bad command line; 1 when
// the run could not be made (no server, stream creation refused, …).
//
// # Bounds
//
// Every loop stops by itself. listen refuses more than 100000 listeners or
// a ramp or steady window over an hour, and stops everything at ramp +
// duration + 30 s whatever happens. It raises its RLIMIT_NOFILE to the hard
// limit and refuses a run that would not fit in it (one descriptor per
// listener; 20000 here, so one process holds at most 19936 listeners). Past
// 2000 connections (or 7/8 of the ephemeral port range, if less) per source
// address, listeners spread over the source addresses 127.0.0.2, 127.0.0.3,
// …: the kernel's search for a free ephemeral port grows with the ports in
// use, and from one address it made the client, not the server, the
// bottleneck of a fast ramp.
// control refuses more than 10000 connections or an hour; latency more than
// 1000 repetitions, and bounds each one (-timeout). restart refuses more
// than 1000000 streams, 20 restarts or an hour (-timeout bounds the whole
// run), gives each start a minute to serve and each stop 30 s before
// SIGKILL, and stops the servers it started by their PID whatever happens
// (an interrupt included; the child also gets SIGTERM if bench dies).
//
// # listen
//
// Each listener is one goroutine and one TCP connection. It sends
// "GET path HTTP/1.1" with Host and "Icy-MetaData: 0" (1 with -icy),
// accepts a 200 answer in HTTP/1.1, HTTP/1.0 (Icecast) or ICY form, and
// reads the endless body with 64 KiB reads through the connection's RawConn: a pooled buffer is
// taken only once data is there, so waiting listeners hold none, and there
// is one timer per connection (its deadline), none per read. The body is
// walked frame by frame as it arrives (render.ParseFrameHeader) and then
// dropped; only a partial frame is carried to the next read. Listeners
// start evenly spread over -ramp; the steady window is the -duration that
// follows the ramp, and every connection is closed at its end.
//
// With -icy the answer must also carry "icy-metaint: 16000", and the
// metadata blocks are taken out of the body before the frame walker sees
// it (icyStripper), a block split across reads included: after every
// 16,000 audio bytes, counted from the first body byte, a length byte L,
// then 16·L bytes. Each block is checked against synthcast's layout
// exactly: L = 0 (the title has not changed; never before a first title),
// or "StreamTitle='", a title, "';" and fewer than 16 NULs to the end
// (the shortest block that holds the text), the title valid UTF-8 of at
// most 200 bytes with no control character. Another server's blocks
// (Icecast's, with StreamUrl='…', say) count as bad. The read loop stays
// as it is: the stripper hands the walker views of the read buffer and
// allocates once per listener at most, for a title split across reads.
//
// Figures, per listener, then over listeners:
//
//   - ok: the connection lasted to the end of the steady window.
//     failed: dial error, write error, an answer other than 200, no
//     complete head within 10 s, a head over 16 KiB, or with -icy a head
//     without "icy-metaint: 16000" (reasons counts each). closed_early: the body ended (server close, reset) before the
//     end of the steady window.
//   - connect_ms: dial to connected. head_ms: connected (the request is
//     written at once) to the end of the response head. ttfb_ms: connected
//     to the first body byte. Each as p50, p99 and max over listeners
//     (nearest-rank percentiles).
//   - audio: seconds of audio in the complete frames received (a frame's
//     samples over its sample rate, counted when its last byte arrives).
//   - lead: audio received − (now − first body byte): how far ahead of a
//     player that started at the first byte and never paused the data is.
//     It is sampled at each read from one second after the first byte on:
//     just before the read's audio is added (the low point, the player's
//     buffer just before a refill) and just after (the high point).
//     lead_s.min is the lowest low point of any listener, lead_s.p50 the
//     median of the listeners' lowest low points, lead_s.max the highest
//     high point; all three inside the steady window only, over
//     lead_listeners listeners. The last sample is taken when the
//     connection ends, so a server that stops sending shows.
//   - stalls: a low point below zero after the listener's first second
//     (the player ran dry) starts a stall event; the event ends at the
//     first read that brings the lead back to zero or above.
//     stalled_listeners had at least one event, stall_events is the total.
//     The player is not modelled as pausing: the lead keeps its debt.
//   - burst_s: the audio received before the first read that brings audio
//     at no more than twice real time (the audio a read completes, over the
//     time since the previous read that completed audio, is at most 2),
//     i.e. what arrived at once on connecting; min, p50 and max over
//     listeners. The JSON repeats this definition as burst_def.
//   - sync_losses: a byte where a frame header must start that is not one.
//     The walker then scans for a header confirmed by a second one where
//     its frame ends; each loss counts once however long the scan.
//     skipped_bytes: bytes discarded while scanning, including any before
//     the first frame (a relay may start a listener mid-frame; that alone
//     is not a loss).
//   - icy (with -icy), summed over listeners: blocks, the metadata blocks
//     received whole (zero-length ones included); titles, the good blocks
//     that carried a title (synthcast sends one first, then one each time
//     the title changes); title_changes, titles that differ from the title
//     the listener had before (its first is not a change); bad_blocks,
//     blocks that broke the layout: a failure counted as a sync loss is,
//     after which the listener goes on with the framing the block's length
//     byte gave (a wrong length then shows as sync losses too). metaint:
//     the interval required, 16000.
//   - bytes: body bytes received (with -icy, the metadata included).
//     listener_s: listener-seconds inside the steady window (each listener
//     from its first byte, or the window's start, to its end, or the
//     window's).
//   - server (with -pid or -pids, summed over the processes): cpu_s is
//     utime+stime from /proc/PID/stat between the window's start and end,
//     in clock ticks converted with AT_CLKTCK from /proc/self/auxv (100 Hz
//     here, as `getconf CLK_TCK` says; 100 is assumed, and clk_tck_assumed
//     set, if auxv cannot be read). cpu_per_listener_s = cpu_s /
//     listener_s. rss_kib: VmRSS from /proc/PID/status at the window's end;
//     rss_baseline_kib the same before the first connection (after
//     creating the streams); rss_per_listener_kib = (rss − baseline) / ok.
//   - client: this process's own CPU (getrusage) over the window, per
//     listener-second, and its RSS: the client shares the machine with the
//     server, so its cost is part of the picture.
//
// # ICY metadata's cost (the scripts' icy section)
//
// `make bench` (section icy, bench/run-bench.sh) starts one synthcast
// (-store memory, its admin listener on a port of the run) and runs listen
// against it twice with the same load, ICY_N listeners (1000) over
// LISTEN_STREAMS streams (10, created by each run), LISTEN_RAMP ramp,
// ICY_DURATION steady window (60 s): first plain, then with -icy.
//
//   - CPU per listener-second: server.cpu_per_listener_s of each run (the
//     server's CPU over the steady window, rendering and encoding of its
//     streams included, over the listener-seconds in it), in ms in the
//     report.
//   - ICY ÷ plain: the -icy run's CPU per listener-second over the plain
//     run's. The goal: at most 1.3.
//
// # control
//
// -c keep-alive connections, each a goroutine on a raw TCP connection that
// writes -pipeline preformatted requests at once (64 variants rotated: for
// set_param, freq from 100 to 2000 Hz on one stream, created unless -ids
// gives some; for create, /create_stream with the same freqs) and reads the
// answers with a bufio.Reader, parsing the status line and Content-Length
// without allocating. rps = answers / time to the last answer; latency_ms
// is from the batch's write to each answer's end (p50, p99 from a
// histogram with 1.6% resolution, exact max); non_2xx counts answers
// outside 200–299 (503 past -max-streams for create); errors counts
// failed connects, writes and reads, after which the connection is
// reopened while time remains. -pid adds the server's CPU per request.
// wrk scripts for the same loads are bench/set_param.lua and
// bench/create_stream.lua.
//
// # latency
//
// One listener reads the stream as it arrives, as a player with no buffer
// of its own would be fed, and classifies every frame as silent or not
// from its side information, without decoding (frameSilent): a frame is
// digital silence when no granule has a big-value region and each
// granule's count1 region holds only zero quadruples. shine (synthcast's
// encoder) codes a silent frame that way, its unused bits as 1s, which both
// count1 tables read as zeros; LAME codes silence with no main data at all
// (part2_3_length 0) — both checked by the tests, LAME through ffmpeg.
// Repetitions alternate: switch to silence, then back to sound. Each waits
// until the last 4 frames show the current state and a pause (-settle plus
// 0 to 100% of it, random) has passed, calls the switch (synthcast:
// set_param gain=0 / gain=0.5 on a stream created with gain=0.5 freq=440;
// otherwise -set-cmd-silence/-set-cmd-sound through sh -c, or a GET of
// -set-silence-url/-set-sound-url), and waits for the first frame of the
// new state to arrive after the call began.
//
//   - arrival_ms: call start to the arrival of the first changed frame.
//   - heard_ms: call start to when a real-time player that started at the
//     listener's first body byte plays that frame: first byte + the frame's
//     audio position, or its arrival if later (a frame cannot play before
//     it arrives). For synthcast this is about prebuffer to prebuffer +
//     tick, plus a frame for the encoder's overlap.
//   - call_ms: how long the switch call itself took.
//
// Per repetition, and min/p50/max over them; timeouts counts repetitions
// with no change seen within -timeout.
//
// # restart
//
// Runs the server binary (-bin) itself, on 127.0.0.1:0 (the address is read
// back from its "listening" log line) and no admin listener, with
// -store bolt over -data-dir
// (absent or empty; by default a temporary directory, removed at the end),
// -max-streams N and -stream-ttl 24h, so no stream expires during the run.
// First it creates N streams over -c keep-alive connections, each writing
// -pipeline /create_stream requests at once and reading their answers (a
// connection waits for each create's commit, so the connections, not the
// pipeline, make the commits' groups); a non-2xx answer is asked again.
// /healthz must then count N streams. The server is stopped with SIGTERM,
// and started again -restarts times over the same directory; each time,
// /healthz must count N streams and the server's log must say it loaded N.
//
//   - serving_ms: from just before exec to the first 200 answer of
//     GET /healthz (polled every millisecond once the address is logged):
//     how long a restarted server keeps its listeners and its control
//     routes waiting. The goal: under 1000 ms at 100000 streams
//     (goal.serving_met: every restart of the run).
//   - listening_ms: from exec to the "listening" log line (the listener is
//     open). load_ms: the server's own figure for loading every stored
//     stream (took= of its "streams loaded" line, to the millisecond);
//     loaded and expired are that line's counts, served the count /healthz
//     gave.
//   - stop_ms: from SIGTERM to the process's exit (the store drains its
//     queue and closes first); create.stop_ms is the same after the creates.
//   - data_file_bytes: the size of DATA/synthcast.db after the creates and
//     the stop; data_alloc_bytes what the file takes on disk (its blocks);
//     bytes_per_stream = data_file_bytes / N. The goal: at most 512
//     (goal.disk_met). A small N is dominated by the file's minimum size.
//   - rss_kib: the server's VmRSS just after its first 200: the memory the
//     loaded streams take.
//   - create: streams created, their rate (created over the time from the
//     first request to the last answer) and the non-2xx answers retried.
//
// Per restart, and min/p50/max over them.
//
// # Durable control plane (the scripts' store section)
//
// `make bench` and `make bench-peers` (section store, bench/peers/lib.sh)
// run wrk with the control scripts (create_stream.lua; set_param.lua, all on
// one stream) at the control case's threads, connections and duration,
// keep-alive, against nginx `return 200` and against a fresh synthcast per
// case with -store bolt (a data directory of the run) and with -store
// memory. The figures that are not wrk's own:
//
//   - 2xx/s: wrk's requests/s times the share of answers that were 200 (a
//     503 is a change the server could not store). ÷ nginx: 2xx/s over
//     nginx's requests/s with the same script in the same run.
//   - the commit seen from outside: with -store bolt a 200 for
//     /create_stream or /set_param is sent only once the change is in a
//     committed, fsynced transaction shared by many requests (group
//     commit), so the latency of those rows (wrk's p50, p90, p99) is that of
//     a durable change; bolt − memory is what waiting for the commit adds.
//     commits/s at least: 2xx/s over wrk's connections, since each
//     connection has one request in flight, so a commit holds at most one
//     write per connection.
//   - the commit seen from inside: the server's /metrics (its admin
//     listener, on a port of the run) read just before and just after the
//     wrk run. commits/s: synthcast_store_commits_total's increase over the
//     time between the two reads; writes / commit: the increase of
//     synthcast_store_committed_writes_total over that of the commits;
//     commit ms mean: synthcast_store_commit_seconds' sum over its count
//     (increases); commit ms p50 ≤ and p99 ≤: the smallest bucket bound of
//     that histogram (0.5, 1, 2, 5, 10 ms, …) holding half, or 99%, of the
//     run's commits: an upper bound, not a value.
//   - BenchmarkBoltWrite (`go test -run '^$' -bench BoltWrite ./store/`, in
//     the gobench section): the store alone, with 1, 16 or 256 writers that
//     each wait for their write to be durable before the next, as an HTTP
//     handler does; writes/s and commits/s per second of wall clock,
//     writes/s ÷ commits/s the writes a commit carried.
//   - server CPU µs / request: the server's utime+stime (/proc/PID/stat,
//     nginx's master and workers summed) over the wrk run, per request.
//   - after the /create_stream case: the streams the server holds
//     (/healthz), its VmRSS, and with bolt the data file's size and blocks
//     once the server has stopped; per stream, each over the streams.
//
// # A cluster (the scripts' cluster section)
//
// `make bench` (section cluster, bench/peers/lib.sh) runs every part on
// this machine over loopback: redis-server (started by the script on a
// free port, --save "" --appendonly yes, its own directory in the run's),
// synthcast nodes with -store redis://127.0.0.1:PORT/0, and for parts 2
// and 3 nginx with deploy/nginx/synthcast.conf, its addresses replaced by
// the run's as e2e_cluster_harness_test.go does, in a minimal nginx.conf
// (daemon off;, one worker per core, its own prefix directory). Every
// process is started for its part and stopped by its PID.
//
//   - /set_param: wrk at the control case's threads, connections and
//     duration, keep-alive, bench/set_param.lua on one stream, against a
//     fresh server per row, in the same run: nginx `return 200`, one
//     synthcast with -store bolt, one with -store redis:// on a
//     redis-server with --appendfsync always (Redis fsyncs its file
//     before it answers, so a 200 survives a machine crash), then
//     everysec (a machine crash can lose the last second or two). 2xx/s
//     and ÷ nginx as in the store section; server CPU µs / request is
//     synthcast's plus redis-server's.
//   - failover: 3 nodes (appendfsync always) behind nginx, FAILOVER_N
//     listeners (300) over FAILOVER_STREAMS streams (30) with listen
//     -reconnect. After the ramp and FAILOVER_SETTLE (6 s), FAILOVER_KILLS
//     times (10): SIGKILL to one node (n1, n2, n3, n1, …), the node started
//     again on its port, its /healthz awaited (restart ms: SIGKILL to that
//     answer), then FAILOVER_SETTLE. deploy/nginx/synthcast.conf sets
//     max_fails=0: with max_fails above 0, nginx OSS takes a failed node
//     back only when a request sent to it ends well, and a /stream
//     request does not end, so with listeners alone a restarted node
//     stayed out and listeners got 502 (no live upstreams) once every
//     node had been out (291 of 300 lost in the run that found it). The
//     report says so if listeners end on a 502. One listen run holds every kill, so
//     its reconnect figures are pooled over them: gaps, the streams lost
//     and found again; gap_ms p50, p99 and max, from a listener's stream
//     ending to its next audio byte (the listener waits 50 ms before its
//     first try, so no gap is shorter); tries, connections attempted
//     after the first. Listeners lost: failed and closed_early at the end
//     of the window, and gave_up (20 tries in a row without audio).
//     Stalls count while a listener is connected.
//   - 1, 2 and 3 nodes: for each count in CLUSTER_NODES, that many nodes
//     behind nginx (the shipped file with that many server lines) and a
//     fresh redis-server; CLUSTER_LISTEN_N listeners (3000) over
//     CLUSTER_LISTEN_STREAMS streams (30), then CLUSTER_UNIQUE_K unique
//     streams (60, samplerate=44100&channels=2), one listener each, both
//     through nginx with a CLUSTER_DURATION (30 s) steady window. Figures
//     as listen's; node CPU and RSS are the nodes' summed (-pids), nginx
//     and redis-server not included. The nodes share this machine's cores
//     with nginx, redis-server and the load, so this checks that every
//     node count serves every listener in time; it is not a scaling
//     figure.
//
// # pcm, encode: the encoder table (the scripts' encoder section)
//
// pcm writes the encoder test signal: -seconds (200 by default) of 44.1 kHz
// stereo, raw s16le, rendered by render.Synth through eight scenes of equal
// length (pcmScenes: melodies in four scales and shapes, tones of each
// shape, filtered noise), one Synth gliding from each to the next as a
// /set_param would. The same -seconds gives the same bytes (its JSON line
// has their SHA-256).
//
// encode times one MP3 encoder over such a file, -repeats runs (3):
//
//   - synthcast's (no command given): the file is read into memory, then
//     each run encodes it with a new render.Encoder (128 kbit/s by
//     default) frame by frame, the last frame padded with silence, on one
//     goroutine locked to its OS thread, and is timed by getrusage
//     (RUSAGE_SELF, the process; thread_cpu_s: RUSAGE_THREAD) just before
//     the Encoder is made and just after the last frame. The first run's
//     frames go to -out. A binary built with -tags purego says so (build)
//     and uses render's pure-Go path.
//   - a command (after --, e.g. ffmpeg): run -repeats times to its end,
//     each run's CPU the rusage the kernel returns when it is reaped (the
//     command and any children it waited for): its start, reading its
//     input and writing its output included. It must write -out itself.
//
// Figures: cpu_s, user+system seconds of a run; rtf, the real-time factor
// per core: audio_s (the input's length: bytes / (rate · channels · 2))
// over cpu_s, i.e. seconds of audio encoded per CPU-second. Both as min,
// p50 (nearest rank) and max over the runs, and per run with wall_s. out:
// -out walked as listen walks a stream (bytes before the first frame, an
// ID3 tag say, are skipped, not a loss): frames, their audio_s and
// audio_diff_s (that minus the input's), sync losses, frames per bitrate,
// sample rate and channel count; valid when there are frames, no sync
// loss, every frame of the format asked for, and 0 ≤ audio_diff_s ≤ 0.15
// (the last frame's padding; LAME's encoder delay, padding and Info frame).
//
// `make bench` (section encoder, bench/peers/encoder.sh) writes
// ENCODER_SECONDS (200; QUICK=1: 20) of pcm into the run's directory and
// runs encode, ENCODER_REPEATS (3; QUICK=1: 1) runs each, on that one file:
// synthcast's encoder from this command built as usual (render's SIMD
// kernels where the CPU has AVX2 and FMA) and built with -tags purego; LAME
// through ffmpeg (`-threads 1 -f s16le -ar 44100 -ac 2 -i IN -c:a
// libmp3lame -b:a 128k`) at its default algorithm quality (ffmpeg leaves
// LAME's own default, -q 3: its output is byte for byte that of
// -compression_level 3) and with -compression_level 7 (LAME's -q 7;
// ffmpeg's -q:a would set VBR quality instead); shine in C through ffmpeg's
// libshine if that ffmpeg has it (a row saying "skipped" otherwise); and,
// as a baseline, ffmpeg reading the file with no encoder (-c:a pcm_s16le
// -f null), which is what ffmpeg's start and demuxing add to its rows. The
// table shows each row's median RTF, min – max, its ratio to LAME's
// default (÷ LAME default), and the check of its output; a "build" record
// names the CPU (lscpu's model name), whether it has AVX2 and FMA, and the
// files of render and shine that -tags purego swaps (none: both synthcast
// rows run the same code).
//
// # plotdata: BENCHMARKS.md's plots
//
// plotdata reads the results of make bench (-bench, bench/out/bench.jsonl)
// and make bench-peers (-peers, bench/out/peers.jsonl) and writes one
// tab-separated data file per series into -dir (bench/plots): a comment
// naming the run, a header row (the series' title with the run's date and
// CPU, then the column names), a row per point.
//
//   - listen-cpu.KEY.tsv: the listener ladders (section listen), listeners
//     asked against server.cpu_per_listener_s in ms (server CPU per
//     listener-second of the steady window), with ok, failed and stalled
//     listeners; KEY synthcast-bench, synthcast-peers or icecast-peers
//     (Icecast + Liquidsoap summed).
//   - unique-stalls.KEY.tsv: the unique-stream ladders (section unique), K
//     against stalled listeners, with stall events, ok and failed; KEY
//     synthcast-bench, synthcast-peers or liquidsoap-peers.
//   - encoder.tsv: the encoder table's rows as bars: median RTF, ÷ LAME
//     default, min and max; the baseline, skipped and failed rows left out.
//
// A case that failed, or has no such figure, is no point. A series the
// results do not hold keeps its file, so make bench never erases make
// bench-peers' series, nor a run of some SECTIONS those it left out; each
// legend names the run its points come from. bench/peers/plots.sh runs
// plotdata and then gnuplot (bench/peers/plots.gp) over every data file
// there, making listen-cpu.svg, unique-stalls.svg and encoder.svg.
package main
