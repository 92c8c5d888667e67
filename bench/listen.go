package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

// bufPool holds read buffers of readBufSize.
var bufPool = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// listenRun is the state shared by a listen run's listeners.
type listenRun struct {
	steadyStart, steadyEnd time.Time

	active  atomic.Int64 // listeners receiving their body now
	failed  atomic.Int64
	early   atomic.Int64
	stalled atomic.Int64 // listeners that have stalled at least once
	bytes   atomic.Int64
}

// listener phases.
const (
	phaseHead = iota
	phaseBody
	phaseDone
)

// outcomes.
const (
	outcomeNone = iota
	outcomeOK
	outcomeFailed
	outcomeEarly
)

// listener is one simulated player. Its fields are written by its own
// goroutine only, and read by the reporter after the run.
type listener struct {
	run  *listenRun
	req  []byte // the request, shared by the listeners of one target
	addr string
	src  net.Addr // source address, nil for the system's choice

	phase   int
	outcome int
	why     string // failure reason

	dialAt, connAt, headAt, firstByte, end time.Time
	head                                   []byte // response head being read; nil after it

	w           frameWalker
	bytes       int64
	lastAudioAt time.Time // last read that completed audio
	burst       float64
	burstDone   bool
	leadMin     float64
	leadMax     float64
	leadN       int
	inStall     bool
	stallEvents int
}

func (l *listener) fail(why string, now time.Time) {
	l.phase, l.outcome, l.why, l.end = phaseDone, outcomeFailed, why, now
	l.run.failed.Add(1)
}

// connect runs the listener until its connection ends or the steady window
// does. ctx bounds dialing.
func (l *listener) connect(ctx context.Context) {
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: -1, LocalAddr: l.src}
	l.dialAt = time.Now()
	c, err := d.DialContext(ctx, "tcp", l.addr)
	if err != nil {
		l.fail("dial", time.Now())
		return
	}
	defer c.Close()
	tc := c.(*net.TCPConn)
	l.connAt = time.Now()
	_ = tc.SetDeadline(minTime(l.run.steadyEnd, l.connAt.Add(headTimeout)))
	if _, err := tc.Write(l.req); err != nil {
		l.fail("write", time.Now())
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		l.fail("conn", time.Now())
		return
	}
	read := l.onReadable
	for l.phase != phaseDone {
		wasHead := l.phase == phaseHead
		if err := rc.Read(read); err != nil {
			l.finish(time.Now(), err)
			return
		}
		if wasHead && l.phase == phaseBody {
			_ = tc.SetDeadline(l.run.steadyEnd)
		}
	}
}

// onReadable reads once into a pooled buffer and handles the bytes. It is
// the RawConn read callback: false means "nothing to read, wait".
func (l *listener) onReadable(fd uintptr) bool {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	var n int
	var err error
	for {
		n, err = syscall.Read(int(fd), *bp)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EAGAIN {
		return false
	}
	now := time.Now()
	switch {
	case err != nil:
		l.finish(now, err)
	case n == 0:
		l.finish(now, io.EOF)
	case l.phase == phaseHead:
		l.onHead((*bp)[:n], now)
	default:
		l.onBody((*bp)[:n], now)
	}
	return true
}

// onHead collects the response head and checks its status: 200, from
// "HTTP/1.1 200", "HTTP/1.0 200" (Icecast) or "ICY 200".
func (l *listener) onHead(p []byte, now time.Time) {
	if l.head == nil {
		l.head = make([]byte, 0, 1024)
	}
	l.head = append(l.head, p...)
	end := headEnd(l.head)
	if end < 0 {
		if len(l.head) > maxRespHead {
			l.fail("head too large", now)
		}
		return
	}
	l.headAt = now
	if code := statusCode(l.head); code != 200 {
		l.fail("status "+strconv.Itoa(code), now)
		return
	}
	l.phase = phaseBody
	l.run.active.Add(1)
	body := l.head[end:]
	l.head = nil
	if len(body) > 0 {
		l.onBody(body, now)
	}
}

// headEnd returns the offset just past the blank line ending a response
// head (CRLF or bare LF line ends), or -1.
func headEnd(b []byte) int {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return i + 2
	}
	return -1
}

// statusCode returns the status code of a response head's first line, or 0.
func statusCode(head []byte) int {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 2 || !(bytes.HasPrefix(f[0], []byte("HTTP/1.")) || string(f[0]) == "ICY") {
		return 0
	}
	code, err := strconv.Atoi(string(f[1]))
	if err != nil || code < 100 || code > 999 {
		return 0
	}
	return code
}

// onBody walks one read's audio and updates the listener's figures.
func (l *listener) onBody(p []byte, now time.Time) {
	if l.firstByte.IsZero() {
		l.firstByte = now
	}
	l.bytes += int64(len(p))
	l.run.bytes.Add(int64(len(p)))
	el := now.Sub(l.firstByte).Seconds()
	before := l.w.audio
	l.sampleLead(before-el, now, true)
	l.w.Write(p)
	if got := l.w.audio - before; got > 0 {
		if !l.burstDone && !l.lastAudioAt.IsZero() && got <= burstRate*now.Sub(l.lastAudioAt).Seconds() {
			l.burst, l.burstDone = before, true
		}
		l.lastAudioAt = now
		l.sampleLead(l.w.audio-el, now, false)
	}
}

// sampleLead records a lead (seconds of audio held minus seconds played,
// for a player started at the first byte) observed at now: before a read's
// audio (low, the buffer just before a refill) or after it (high). Leads
// count from stallGrace after the first byte; min and max only inside the
// steady window, stalls at any time.
func (l *listener) sampleLead(lead float64, now time.Time, low bool) {
	if now.Sub(l.firstByte) < stallGrace {
		return
	}
	if low && lead < 0 && !l.inStall {
		l.inStall = true
		if l.stallEvents == 0 {
			l.run.stalled.Add(1)
		}
		l.stallEvents++
	} else if !low && lead >= 0 {
		l.inStall = false
	}
	if now.Before(l.run.steadyStart) || now.After(l.run.steadyEnd) {
		return
	}
	if l.leadN == 0 {
		l.leadMin, l.leadMax = lead, lead
	}
	l.leadN++
	if low {
		l.leadMin = min(l.leadMin, lead)
	} else {
		l.leadMax = max(l.leadMax, lead)
	}
}

// finish ends the listener on a read error, end of file or deadline.
func (l *listener) finish(now time.Time, err error) {
	if l.phase == phaseDone {
		return
	}
	if l.phase == phaseHead {
		why := "head: " + errWord(err)
		l.fail(why, now)
		return
	}
	l.run.active.Add(-1)
	l.phase, l.end = phaseDone, now
	// The last sample: what a player would hold at the end.
	if !l.firstByte.IsZero() {
		at := minTime(now, l.run.steadyEnd)
		l.sampleLead(l.w.audio-at.Sub(l.firstByte).Seconds(), at, true)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && !now.Before(l.run.steadyEnd) {
		l.outcome = outcomeOK
		return
	}
	l.outcome, l.why = outcomeEarly, errWord(err)
	l.run.early.Add(1)
}

// errWord names an error class for failure counts.
func errWord(err error) string {
	switch {
	case errors.Is(err, io.EOF):
		return "closed"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	}
	return "error"
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

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
	json       bool
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
	fs.BoolVar(&c.json, "json", false, "print only the final JSON line (no progress, no summary)")
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

// listenReport is the listen mode's JSON line. Times are in ms (_ms) or
// seconds (_s); see the package documentation for each figure.
type listenReport struct {
	Mode             string         `json:"mode"`
	Listeners        int            `json:"listeners"`
	Streams          int            `json:"streams"`
	SourceAddrs      int            `json:"source_addrs"`
	OK               int            `json:"ok"`
	Failed           int            `json:"failed"`
	ClosedEarly      int            `json:"closed_early"`
	Reasons          map[string]int `json:"reasons,omitempty"`
	ConnectMs        summary        `json:"connect_ms"`
	HeadMs           summary        `json:"head_ms"`
	TTFBMs           summary        `json:"ttfb_ms"`
	BurstS           spread         `json:"burst_s"`
	BurstDef         string         `json:"burst_def"`
	LeadS            spread         `json:"lead_s"`
	LeadListeners    int            `json:"lead_listeners"`
	StalledListeners int            `json:"stalled_listeners"`
	StallEvents      int            `json:"stall_events"`
	SyncLosses       int64          `json:"sync_losses"`
	SkippedBytes     int64          `json:"skipped_bytes"`
	Bytes            int64          `json:"bytes"`
	AudioS           float64        `json:"audio_s"`
	RampS            float64        `json:"ramp_s"`
	DurationS        float64        `json:"duration_s"`
	ListenerS        float64        `json:"listener_s"`
	TimedOut         bool           `json:"timed_out,omitempty"`
	Server           *serverReport  `json:"server,omitempty"`
	Client           clientReport   `json:"client"`
}

// serverReport is the sampled processes' use over the steady window.
type serverReport struct {
	Pids              []int   `json:"pids"`
	CPUS              float64 `json:"cpu_s"`
	CPUPerListenerS   float64 `json:"cpu_per_listener_s"`
	RSSKiB            int64   `json:"rss_kib"`
	RSSBaselineKiB    int64   `json:"rss_baseline_kib"`
	RSSPerListenerKiB float64 `json:"rss_per_listener_kib"`
	ClkTck            int     `json:"clk_tck"`
	ClkTckAssumed     bool    `json:"clk_tck_assumed,omitempty"`
	Error             string  `json:"error,omitempty"`
}

// clientReport is this process's own use over the steady window.
type clientReport struct {
	CPUS            float64 `json:"cpu_s"`
	CPUPerListenerS float64 `json:"cpu_per_listener_s"`
	RSSKiB          int64   `json:"rss_kib"`
}

const burstDef = "audio received before the first read that brings audio at no more than twice real time"

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
	reqs := make([][]byte, len(urls))
	addrs := make([]string, len(urls))
	for i, u := range urls {
		ep, err := parseEndpoint(u)
		if err != nil {
			return err
		}
		addrs[i] = ep.addr
		reqs[i] = []byte("GET " + ep.path + " HTTP/1.1\r\nHost: " + ep.host +
			"\r\nUser-Agent: synthcast-bench\r\nIcy-MetaData: 0\r\nAccept: */*\r\n\r\n")
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
	r := &listenRun{steadyStart: start.Add(cfg.ramp)}
	r.steadyEnd = r.steadyStart.Add(cfg.duration)
	ctx, cancel := context.WithDeadline(ctx, r.steadyEnd.Add(listenGrace))
	defer cancel()

	ls := make([]listener, cfg.n)
	var wg sync.WaitGroup
	wg.Add(cfg.n)
	go func() {
		for i := range ls {
			l := &ls[i]
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
				l.connect(ctx)
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
	return writeJSON(stdout, rep)
}

// summarizeListen computes the report from the finished listeners.
func summarizeListen(ls []listener, r *listenRun, cfg listenConfig, streams, srcs int) listenReport {
	rep := listenReport{
		Mode: "listen", Listeners: len(ls), Streams: streams, SourceAddrs: max(srcs, 1),
		RampS: cfg.ramp.Seconds(), DurationS: cfg.duration.Seconds(), BurstDef: burstDef,
		Reasons: map[string]int{},
	}
	var connect, head, ttfb, burst, leadMin []float64
	leadMax := 0.0
	for i := range ls {
		l := &ls[i]
		switch l.outcome {
		case outcomeOK:
			rep.OK++
		case outcomeFailed:
			rep.Failed++
			rep.Reasons[l.why]++
		case outcomeEarly:
			rep.ClosedEarly++
			rep.Reasons["early: "+l.why]++
		}
		if !l.connAt.IsZero() {
			connect = append(connect, ms(l.connAt.Sub(l.dialAt)))
		}
		if !l.headAt.IsZero() {
			head = append(head, ms(l.headAt.Sub(l.connAt)))
		}
		if !l.firstByte.IsZero() {
			ttfb = append(ttfb, ms(l.firstByte.Sub(l.connAt)))
			// Listener-seconds inside the steady window.
			from := l.firstByte
			if from.Before(r.steadyStart) {
				from = r.steadyStart
			}
			if to := minTime(l.end, r.steadyEnd); to.After(from) {
				rep.ListenerS += to.Sub(from).Seconds()
			}
		}
		if l.burstDone {
			burst = append(burst, l.burst)
		}
		if l.leadN > 0 {
			leadMin = append(leadMin, l.leadMin)
			if len(leadMin) == 1 || l.leadMax > leadMax {
				leadMax = l.leadMax
			}
		}
		if l.stallEvents > 0 {
			rep.StalledListeners++
			rep.StallEvents += l.stallEvents
		}
		rep.SyncLosses += l.w.syncLosses
		rep.SkippedBytes += l.w.skipped
		rep.Bytes += l.bytes
		rep.AudioS += l.w.audio
	}
	rep.ConnectMs, rep.HeadMs, rep.TTFBMs = roundSummary(summarize(connect)), roundSummary(summarize(head)), roundSummary(summarize(ttfb))
	rep.BurstS = roundSpread(spreadOf(burst))
	rep.LeadListeners = len(leadMin)
	if lm := spreadOf(leadMin); len(leadMin) > 0 {
		rep.LeadS = roundSpread(spread{Min: lm.Min, P50: lm.P50, Max: leadMax})
	}
	rep.AudioS = round3(rep.AudioS)
	rep.ListenerS = round3(rep.ListenerS)
	if len(rep.Reasons) == 0 {
		rep.Reasons = nil
	}
	return rep
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

func roundSummary(s summary) summary { return summary{round3(s.P50), round3(s.P99), round3(s.Max)} }
func roundSpread(s spread) spread    { return spread{round3(s.Min), round3(s.P50), round3(s.Max)} }

// printListen writes the human summary.
func printListen(w io.Writer, r *listenReport) {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %d listeners over %d stream(s) from %d source address(es); ramp %.1fs, steady %.1fs\n",
		r.Listeners, r.Streams, r.SourceAddrs, r.RampS, r.DurationS)
	fmt.Fprintf(&b, "  connections  ok %d  failed %d  closed early %d", r.OK, r.Failed, r.ClosedEarly)
	for k, v := range r.Reasons {
		fmt.Fprintf(&b, "  [%s: %d]", k, v)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  connect ms   p50 %.2f  p99 %.2f  max %.2f\n", r.ConnectMs.P50, r.ConnectMs.P99, r.ConnectMs.Max)
	fmt.Fprintf(&b, "  head ms      p50 %.2f  p99 %.2f  max %.2f   (request sent -> end of response head)\n", r.HeadMs.P50, r.HeadMs.P99, r.HeadMs.Max)
	fmt.Fprintf(&b, "  TTFB ms      p50 %.2f  p99 %.2f  max %.2f   (request sent -> first body byte)\n", r.TTFBMs.P50, r.TTFBMs.P99, r.TTFBMs.Max)
	fmt.Fprintf(&b, "  burst s      min %.3f  p50 %.3f  max %.3f   (%s)\n", r.BurstS.Min, r.BurstS.P50, r.BurstS.Max, burstDef)
	fmt.Fprintf(&b, "  lead s       min %.3f  p50 of minima %.3f  max %.3f   (%d listeners sampled)\n", r.LeadS.Min, r.LeadS.P50, r.LeadS.Max, r.LeadListeners)
	fmt.Fprintf(&b, "  stalls       %d listener(s), %d event(s)   sync losses %d   skipped bytes %d\n", r.StalledListeners, r.StallEvents, r.SyncLosses, r.SkippedBytes)
	fmt.Fprintf(&b, "  received     %.1f MB, %.0f s of audio; %.0f listener-seconds in the steady window\n", float64(r.Bytes)/1e6, r.AudioS, r.ListenerS)
	if s := r.Server; s != nil {
		if s.Error != "" {
			fmt.Fprintf(&b, "  server       %v: %s\n", s.Pids, s.Error)
		} else {
			assumed := ""
			if s.ClkTckAssumed {
				assumed = " (assumed)"
			}
			fmt.Fprintf(&b, "  server       %v: %.2f CPU-s = %.2f µs per listener-second (CLK_TCK %d%s); RSS %d KiB, baseline %d KiB, %.1f KiB per listener\n",
				s.Pids, s.CPUS, s.CPUPerListenerS*1e6, s.ClkTck, assumed, s.RSSKiB, s.RSSBaselineKiB, s.RSSPerListenerKiB)
		}
	}
	fmt.Fprintf(&b, "  client       %.2f CPU-s = %.2f µs per listener-second; RSS %d KiB\n", r.Client.CPUS, r.Client.CPUPerListenerS*1e6, r.Client.RSSKiB)
	io.WriteString(w, b.String())
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
