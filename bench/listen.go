package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// Listen-mode limits and definitions.
const (
	// maxListenListeners and maxListenDuration bound a run; a run ends by
	// itself at the latest listenGrace after its steady window.
	maxListenListeners = 100000
	maxListenDuration  = time.Hour
	maxListenRamp      = time.Hour
	listenGrace        = 30 * time.Second

	// readBufSize is the size of each read: large, so a listener costs one
	// read system call per burst of data the server sends. Buffers are
	// pooled and held only while a read's bytes are walked, not while a
	// listener waits, so memory does not grow with listeners.
	readBufSize = 64 << 10

	// maxRespHead bounds a response head; a longer one fails the listener.
	maxRespHead = 16 << 10

	// dialTimeout and headTimeout bound connecting and the response head.
	dialTimeout = 10 * time.Second
	headTimeout = 10 * time.Second

	// fdReserve is the file descriptors kept for everything but listeners.
	fdReserve = 64

	// maxPerSource is the most connections made from one source address.
	// Past it, listeners spread over 127.0.0.2, .3, … It is far below the
	// ephemeral port range (28232 ports by default) on purpose: the kernel
	// finds a free port for connect() by walking the range, and with 19000
	// connections from one address to one port that walk cost the client
	// 83% of its CPU, up to 1.6 cores, late in a 10 s ramp; first bytes
	// waited 1.7 s and two thirds of the listeners stalled for want of
	// client CPU. At 2000 per address the walk is short (connect p99 12 ms).
	maxPerSource = 2000

	// stallGrace is how long after its first byte a listener's lead starts
	// to count: the burst and the first tick settle first.
	stallGrace = time.Second

	// burstRate: the burst ends at the first read whose completed audio is
	// at most this many times the wall time since the previous read that
	// completed audio (the data no longer arrives faster than it plays).
	burstRate = 2.0
)

// listenConfig is the listen mode's command line.
type listenConfig struct {
	url        string
	streams    int
	params     string
	streamURLs []string
	ids        []string
	n          int
	ramp       time.Duration
	duration   time.Duration
	perSource  int
	pids       []int
	icy        bool
	json       bool
	reconnect  bool
}

func parseListen(args []string, stderr io.Writer) (listenConfig, error) {
	var c listenConfig
	var streamURLs, ids, pids string
	var pid int
	fs := newFlagSet("listen", stderr)
	fs.StringVar(&c.url, "url", "", "synthcast base `URL` (http://127.0.0.1:PORT), with -streams or -ids")
	fs.IntVar(&c.streams, "streams", 0, "create this many streams on -url and spread listeners over them (default 1 with -url)")
	fs.StringVar(&c.params, "params", "", "extra `query` for each created stream, e.g. freq=220&wave=saw")
	fs.StringVar(&streamURLs, "stream-urls", "", "comma-separated full stream `URLs` (any server, e.g. an Icecast mount); listeners round-robin")
	fs.StringVar(&ids, "ids", "", "comma-separated existing stream `tokens` on -url")
	fs.IntVar(&c.n, "n", 100, "listeners (at most 100000)")
	fs.DurationVar(&c.ramp, "ramp", 0, "spread the connections evenly over this long")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "steady window after the ramp (at most 1h)")
	fs.IntVar(&pid, "pid", 0, "server `PID` to sample (CPU time, RSS)")
	fs.StringVar(&pids, "pids", "", "comma-separated `PIDs` sampled and summed (e.g. Icecast and Liquidsoap)")
	fs.IntVar(&c.perSource, "per-source", 0, "connections per source address before spreading over 127.0.0.2, .3, … (0: 2000, or 7/8 of the ephemeral port range if less)")
	fs.BoolVar(&c.icy, "icy", false, "ask for ICY metadata (Icy-MetaData: 1), require icy-metaint: 16000, check and strip the blocks")
	fs.BoolVar(&c.json, "json", false, "print only the final JSON line (no progress, no summary)")
	fs.BoolVar(&c.reconnect, "reconnect", false, "connect again (after 50 ms, doubling to 1 s; at most 20 tries in a row without audio) when a stream ends before the steady window does, as players that reconnect do; reports reconnects and the gap from the loss to the next audio byte")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	c.streamURLs, c.ids = splitList(streamURLs), splitList(ids)
	var err error
	if c.pids, err = parsePids(pid, pids); err != nil {
		return c, err
	}
	sources := 0
	if c.streams > 0 {
		sources++
	}
	if len(c.ids) > 0 {
		sources++
	}
	if len(c.streamURLs) > 0 {
		sources++
	}
	switch {
	case sources > 1:
		return c, fmt.Errorf("%w: give one of -streams, -ids and -stream-urls", errUsage)
	case len(c.streamURLs) == 0 && c.url == "":
		return c, fmt.Errorf("%w: -url or -stream-urls is required", errUsage)
	case len(c.streamURLs) > 0 && c.url != "":
		return c, fmt.Errorf("%w: -stream-urls takes full URLs; -url is not used with it", errUsage)
	case c.n < 1 || c.n > maxListenListeners:
		return c, fmt.Errorf("%w: -n %d: want 1 to %d", errUsage, c.n, maxListenListeners)
	case c.duration <= 0 || c.duration > maxListenDuration:
		return c, fmt.Errorf("%w: -duration %v: want more than 0, at most %v", errUsage, c.duration, maxListenDuration)
	case c.ramp < 0 || c.ramp > maxListenRamp:
		return c, fmt.Errorf("%w: -ramp %v: want 0 to %v", errUsage, c.ramp, maxListenRamp)
	case c.perSource < 0:
		return c, fmt.Errorf("%w: -per-source %d: want 0 (automatic) or more", errUsage, c.perSource)
	case c.streams < 0 || c.streams > c.n:
		return c, fmt.Errorf("%w: -streams %d: want 1 to -n", errUsage, c.streams)
	}
	if c.url != "" && c.streams == 0 && len(c.ids) == 0 {
		c.streams = 1
	}
	return c, nil
}

func runListen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseListen(args, stderr)
	if err != nil {
		return err
	}
	// Descriptors: one per listener, checked before anything is created.
	limit, err := raiseNoFile()
	if err != nil {
		return err
	}
	if uint64(cfg.n)+fdReserve > limit {
		return fmt.Errorf("%w: -n %d needs %d file descriptors; RLIMIT_NOFILE allows %d here (run several bench processes)",
			errUsage, cfg.n, uint64(cfg.n)+fdReserve, limit)
	}
	// Targets.
	var urls []string
	switch {
	case len(cfg.streamURLs) > 0:
		urls = cfg.streamURLs
	default:
		base, err := baseURL(cfg.url)
		if err != nil {
			return err
		}
		ids := cfg.ids
		if cfg.streams > 0 {
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			ids, err = createStreams(cctx, base, cfg.params, cfg.streams)
			cancel()
			if err != nil {
				return fmt.Errorf("creating streams: %w", err)
			}
		}
		for _, id := range ids {
			urls = append(urls, base+"/stream?id="+id)
		}
	}
	icyAsk := "0"
	if cfg.icy {
		icyAsk = "1"
	}
	reqs := make([][]byte, len(urls))
	addrs := make([]string, len(urls))
	for i, u := range urls {
		ep, err := parseEndpoint(u)
		if err != nil {
			return err
		}
		addrs[i] = ep.addr
		reqs[i] = []byte("GET " + ep.path + " HTTP/1.1\r\nHost: " + ep.host +
			"\r\nUser-Agent: synthcast-bench\r\nIcy-MetaData: " + icyAsk + "\r\nAccept: */*\r\n\r\n")
	}

	// Source addresses.
	perSource := cfg.perSource
	if perSource == 0 {
		perSource = portBudget()
	}
	srcs := sourceAddrs(cfg.n, perSource)

	var sampler *procSampler
	var base procSample
	var sampleErr error
	if len(cfg.pids) > 0 {
		sampler = newProcSampler(cfg.pids)
		if base, err = sampler.sample(); err != nil {
			return fmt.Errorf("sampling the server: %w", err)
		}
	}

	start := time.Now()
	r := &listenRun{steadyStart: start.Add(cfg.ramp), icy: cfg.icy}
	r.steadyEnd = r.steadyStart.Add(cfg.duration)
	ctx, cancel := context.WithDeadline(ctx, r.steadyEnd.Add(listenGrace))
	defer cancel()

	ls := make([]listener, cfg.n)
	var rcs []reconnects // with -reconnect, one per listener
	if cfg.reconnect {
		rcs = make([]reconnects, cfg.n)
	}
	var wg sync.WaitGroup
	wg.Add(cfg.n)
	go func() {
		for i := range ls {
			l := &ls[i]
			var rc *reconnects
			if rcs != nil {
				rc = &rcs[i]
			}
			*l = listener{run: r, req: reqs[i%len(reqs)], addr: addrs[i%len(addrs)]}
			if len(srcs) > 0 {
				l.src = srcs[i%len(srcs)]
			}
			at := start.Add(time.Duration(int64(cfg.ramp) * int64(i) / int64(cfg.n)))
			if d := time.Until(at); d > time.Millisecond {
				select {
				case <-time.After(d):
				case <-ctx.Done():
				}
			}
			go func() {
				defer wg.Done()
				if ctx.Err() != nil {
					l.fail("not started", time.Now())
					return
				}
				if rc != nil {
					l.connectAgain(ctx, rc)
				} else {
					l.connect(ctx)
				}
			}()
		}
	}()

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()

	// Samples at the steady window's edges. If every listener is done
	// (failed) well before an edge, the sample is skipped.
	type edge struct{ server, self procSample }
	var edges [2]edge
	var edgesDone sync.WaitGroup
	edgesDone.Add(1)
	go func() {
		defer edgesDone.Done()
		for i, at := range []time.Time{r.steadyStart, r.steadyEnd} {
			select {
			case <-time.After(time.Until(at)):
			case <-done:
				if time.Until(at) > 100*time.Millisecond {
					return
				}
			case <-ctx.Done():
				return
			}
			if sampler != nil {
				s, err := sampler.sample()
				if err != nil && sampleErr == nil {
					sampleErr = err
				}
				edges[i].server = s
			}
			edges[i].self = selfSample()
		}
	}()
	stopProgress := func() {}
	if !cfg.json && isTerminal(stderr) {
		stopProgress = progress(stderr, func(el time.Duration, bps float64) string {
			return fmt.Sprintf("%5.0fs  active %d/%d  failed %d  early %d  stalled %d  %.2f MB/s",
				el.Seconds(), r.active.Load(), cfg.n, r.failed.Load(), r.early.Load(), r.stalled.Load(), bps/1e6)
		}, &r.bytes)
	}

	timedOut := false
	select {
	case <-done:
	case <-ctx.Done():
		timedOut = true
	}
	stopProgress()
	edgesDone.Wait()
	if timedOut {
		// The listeners' own deadlines passed long ago: this is a bug or a
		// wedged machine. Report what is there without waiting.
		fmt.Fprintln(stderr, "bench: global deadline reached; reporting what finished")
	}

	var rep listenReport
	if timedOut {
		// Listeners are still running: their fields are not ours to read.
		rep = listenReport{Mode: "listen", Listeners: cfg.n, TimedOut: true, BurstDef: burstDef,
			Failed: int(r.failed.Load()), ClosedEarly: int(r.early.Load()), Bytes: r.bytes.Load()}
	} else {
		rep = summarizeListen(ls, r, cfg, len(urls), len(srcs))
	}
	if sampler != nil {
		sr := &serverReport{Pids: cfg.pids, ClkTck: sampler.hz, ClkTckAssumed: !sampler.hzRead}
		s0, s1 := edges[0].server, edges[1].server
		switch {
		case sampleErr != nil:
			sr.Error = sampleErr.Error()
		case s1.at.IsZero():
			sr.Error = "no sample at the end of the steady window"
		default:
			sr.CPUS = round3(s1.cpu - s0.cpu)
			sr.RSSKiB = s1.rssKiB
			sr.RSSBaselineKiB = base.rssKiB
			if rep.ListenerS > 0 {
				sr.CPUPerListenerS = (s1.cpu - s0.cpu) / rep.ListenerS
			}
			if rep.OK > 0 {
				sr.RSSPerListenerKiB = round3(float64(s1.rssKiB-base.rssKiB) / float64(rep.OK))
			}
		}
		rep.Server = sr
	}
	if c0, c1 := edges[0].self, edges[1].self; !c1.at.IsZero() {
		rep.Client = clientReport{CPUS: round3(c1.cpu - c0.cpu), RSSKiB: c1.rssKiB}
		if rep.ListenerS > 0 {
			rep.Client.CPUPerListenerS = (c1.cpu - c0.cpu) / rep.ListenerS
		}
	}
	if !cfg.json {
		printListen(stderr, &rep)
	}
	if rcs != nil && !timedOut {
		rr := summarizeReconnects(rcs)
		if !cfg.json {
			printReconnects(stderr, rr)
		}
		return writeJSON(stdout, struct {
			listenReport
			Reconnect *reconnectReport `json:"reconnect"`
		}{rep, rr})
	}
	return writeJSON(stdout, rep)
}

// progress redraws line(elapsed, rate) on w about once a second until the
// returned stop function is called, which clears the line; rate is the
// growth of counter per second over the last interval.
func progress(w io.Writer, line func(time.Duration, float64) string, counter *atomic.Int64) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		start, last, lastN := time.Now(), time.Now(), int64(0)
		for {
			select {
			case <-quit:
				fmt.Fprint(w, "\r\033[K")
				return
			case now := <-t.C:
				n := counter.Load()
				rate := float64(n-lastN) / now.Sub(last).Seconds()
				last, lastN = now, n
				fmt.Fprintf(w, "\r\033[K%s", line(now.Sub(start), rate))
			}
		}
	}()
	return func() { close(quit); <-done }
}
