// Command bench is synthcast's load-test tool: it measures what listeners of
// an endless MP3 stream experience under load, how fast the control routes
// answer, and how long a parameter change takes to be heard. It works
// against synthcast and, for listening and latency, against any HTTP MP3
// stream (an Icecast mount fed by Liquidsoap, say), so the two can be
// compared on the same machine. It uses only the standard library and
// render's frame-header parser, and connects only to 127.0.0.0/8.
//
//	go run ./bench listen  -url http://127.0.0.1:8000 -streams 10 -n 1000 -ramp 5s -duration 30s -pid PID
//	go run ./bench listen  -stream-urls http://127.0.0.1:8001/live.mp3 -n 1000 -pids ICECAST,LIQUIDSOAP
//	go run ./bench control -url http://127.0.0.1:8000 -route set_param -c 100 -duration 10s
//	go run ./bench latency -url http://127.0.0.1:8000 -n 10
//	go run ./bench latency -stream-url URL -set-cmd-silence CMD -set-cmd-sound CMD
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
// 1000 repetitions, and bounds each one (-timeout).
//
// # listen
//
// Each listener is one goroutine and one TCP connection. It sends
// "GET path HTTP/1.1" with Host and "Icy-MetaData: 0", accepts a 200 answer
// in HTTP/1.1, HTTP/1.0 (Icecast) or ICY form, and reads the endless body
// with 64 KiB reads through the connection's RawConn: a pooled buffer is
// taken only once data is there, so waiting listeners hold none, and there
// is one timer per connection (its deadline), none per read. The body is
// walked frame by frame as it arrives (render.ParseFrameHeader) and then
// dropped; only a partial frame is carried to the next read. Listeners
// start evenly spread over -ramp; the steady window is the -duration that
// follows the ramp, and every connection is closed at its end.
//
// Figures, per listener, then over listeners:
//
//   - ok: the connection lasted to the end of the steady window.
//     failed: dial error, write error, an answer other than 200, no
//     complete head within 10 s, or a head over 16 KiB (reasons counts
//     each). closed_early: the body ended (server close, reset) before the
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
//   - bytes: body bytes received. listener_s: listener-seconds inside the
//     steady window (each listener from its first byte, or the window's
//     start, to its end, or the window's).
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
package main
