package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/synthcast/synthcast/render"
)

// Latency-mode limits.
const (
	maxLatencyReps    = 1000
	maxLatencyTimeout = time.Minute
	maxLatencySettle  = time.Minute

	// latencyStartup bounds connecting and the first switch to sound.
	latencyStartup = 30 * time.Second

	// settledFrames is how many frames of the current state must have
	// arrived since the last switch was seen before the next switch.
	settledFrames = 4
)

type latencyConfig struct {
	url        string
	params     string
	streamURL  string
	silenceCmd string
	soundCmd   string
	silenceURL string
	soundURL   string
	n          int
	timeout    time.Duration
	settle     time.Duration
	seed       uint64
	json       bool
}

func parseLatency(args []string, stderr io.Writer) (latencyConfig, error) {
	var c latencyConfig
	fs := newFlagSet("latency", stderr)
	fs.StringVar(&c.url, "url", "", "synthcast base `URL`: creates a stream (gain=0.5, freq=440) and switches its gain 0 <-> 0.5")
	fs.StringVar(&c.params, "params", "", "extra `query` for the created stream, e.g. wave=saw")
	fs.StringVar(&c.streamURL, "stream-url", "", "generic target: the stream `URL` to listen to")
	fs.StringVar(&c.silenceCmd, "set-cmd-silence", "", "generic target: shell `command` (sh -c) that switches the target to digital silence")
	fs.StringVar(&c.soundCmd, "set-cmd-sound", "", "generic target: shell `command` that switches it back to sound")
	fs.StringVar(&c.silenceURL, "set-silence-url", "", "generic target: `URL` to GET to switch to silence (instead of -set-cmd-silence)")
	fs.StringVar(&c.soundURL, "set-sound-url", "", "generic target: `URL` to GET to switch to sound (instead of -set-cmd-sound)")
	fs.IntVar(&c.n, "n", 10, "repetitions (switches), alternately to silence and to sound")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Second, "give up on one repetition after this long")
	fs.DurationVar(&c.settle, "settle", 500*time.Millisecond, "pause between a change being seen and the next switch (plus a random 0 to 100%, to vary the phase against the server's tick)")
	fs.Uint64Var(&c.seed, "seed", 1, "seed of the pause jitter")
	fs.BoolVar(&c.json, "json", false, "print only the final JSON line")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	generic := c.streamURL != "" || c.silenceCmd != "" || c.soundCmd != "" || c.silenceURL != "" || c.soundURL != ""
	switch {
	case c.url != "" && generic:
		return c, fmt.Errorf("%w: give either -url (synthcast) or -stream-url with set commands or URLs", errUsage)
	case c.url == "" && c.streamURL == "":
		return c, fmt.Errorf("%w: -url or -stream-url is required", errUsage)
	case c.url == "" && (c.silenceCmd == "") == (c.silenceURL == ""):
		return c, fmt.Errorf("%w: give exactly one of -set-cmd-silence and -set-silence-url", errUsage)
	case c.url == "" && (c.soundCmd == "") == (c.soundURL == ""):
		return c, fmt.Errorf("%w: give exactly one of -set-cmd-sound and -set-sound-url", errUsage)
	case c.n < 1 || c.n > maxLatencyReps:
		return c, fmt.Errorf("%w: -n %d: want 1 to %d", errUsage, c.n, maxLatencyReps)
	case c.timeout <= 0 || c.timeout > maxLatencyTimeout:
		return c, fmt.Errorf("%w: -timeout %v: want more than 0, at most %v", errUsage, c.timeout, maxLatencyTimeout)
	case c.settle < 0 || c.settle > maxLatencySettle:
		return c, fmt.Errorf("%w: -settle %v: want 0 to %v", errUsage, c.settle, maxLatencySettle)
	}
	for _, u := range []string{c.silenceURL, c.soundURL} {
		if u != "" {
			if _, err := parseEndpoint(u); err != nil {
				return c, err
			}
		}
	}
	return c, nil
}

// latencyRep is one switch and when its effect was seen.
type latencyRep struct {
	To        string  `json:"to"` // "silence" or "sound"
	HeardMs   float64 `json:"heard_ms"`
	ArrivalMs float64 `json:"arrival_ms"`
	CallMs    float64 `json:"call_ms"`
	PosS      float64 `json:"pos_s"` // audio position of the first changed frame
	TimedOut  bool    `json:"timed_out,omitempty"`
}

type latencyReport struct {
	Mode       string       `json:"mode"`
	Target     string       `json:"target"`
	Reps       []latencyRep `json:"reps"`
	HeardMs    spread       `json:"heard_ms"`
	ArrivalMs  spread       `json:"arrival_ms"`
	Timeouts   int          `json:"timeouts"`
	Frames     int64        `json:"frames"`
	Silent     int64        `json:"silent_frames"`
	Unknown    int64        `json:"unknown_frames"`
	SyncLosses int64        `json:"sync_losses"`
	Error      string       `json:"error,omitempty"`
}

// changeWatch asks the reader for the first frame of a state that arrives
// after a moment.
type changeWatch struct {
	after  time.Time
	silent bool
	seen   chan changeSeen // buffered 1
}

type changeSeen struct {
	pos     float64   // audio position of the frame, seconds since the first frame
	arrival time.Time // when the read holding its end returned
}

// latencyListener reads one stream in real time and classifies its frames.
type latencyListener struct {
	mu        sync.Mutex
	firstByte time.Time
	watch     *changeWatch
	state     bool // silent, of the last classified frame
	run       int  // consecutive frames in state
	frames    int64
	silent    int64
	unknown   int64
	losses    int64
	readNow   time.Time // time of the read being walked; reader goroutine only
	err       error
}

func (l *latencyListener) onFrame(h render.FrameHeader, frame []byte, pos float64) {
	silent, ok := frameSilent(h, frame)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.frames++
	if !ok {
		l.unknown++
		return
	}
	if silent {
		l.silent++
	}
	if silent == l.state {
		l.run++
	} else {
		l.state, l.run = silent, 1
	}
	if w := l.watch; w != nil && silent == w.silent && l.readNow.After(w.after) {
		w.seen <- changeSeen{pos: pos, arrival: l.readNow}
		l.watch = nil
	}
}

// settled reports whether the last settledFrames frames were all silent
// (or all sound).
func (l *latencyListener) settled(silent bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.state == silent && l.run >= settledFrames
}

// listen connects to ep and walks its audio until ctx ends. ready is closed
// after the response head.
func (l *latencyListener) listen(ctx context.Context, ep endpoint, ready chan<- error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", ep.addr)
	if err != nil {
		ready <- err
		return
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := io.WriteString(c, "GET "+ep.path+" HTTP/1.1\r\nHost: "+ep.host+
		"\r\nUser-Agent: synthcast-bench\r\nIcy-MetaData: 0\r\n\r\n"); err != nil {
		ready <- err
		return
	}
	br := bufio.NewReaderSize(c, readBufSize)
	var head []byte
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			ready <- fmt.Errorf("reading the response head: %w", err)
			return
		}
		head = append(head, line...)
		if len(head) > maxRespHead {
			ready <- errors.New("response head too large")
			return
		}
		if len(strings.TrimRight(string(line), "\r\n")) == 0 {
			break
		}
	}
	if code := statusCode(head); code != 200 {
		ready <- fmt.Errorf("stream answered %.100q", head)
		return
	}
	close(ready)
	w := frameWalker{hook: l.onFrame}
	buf := make([]byte, readBufSize)
	for {
		n, err := br.Read(buf)
		if n > 0 {
			now := time.Now()
			l.mu.Lock()
			if l.firstByte.IsZero() {
				l.firstByte = now
			}
			l.mu.Unlock()
			l.readNow = now
			w.Write(buf[:n])
			l.mu.Lock()
			l.losses = w.syncLosses
			l.mu.Unlock()
		}
		if err != nil {
			l.mu.Lock()
			l.err = err
			if w := l.watch; w != nil {
				close(w.seen)
				l.watch = nil
			}
			l.mu.Unlock()
			return
		}
	}
}

// expect registers a watch for the first frame of state silent arriving
// after now, and returns it.
func (l *latencyListener) expect(silent bool, after time.Time) *changeWatch {
	w := &changeWatch{after: after, silent: silent, seen: make(chan changeSeen, 1)}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		close(w.seen)
		return w
	}
	l.watch = w
	return w
}

func (l *latencyListener) cancelWatch() {
	l.mu.Lock()
	l.watch = nil
	l.mu.Unlock()
}

// switcher changes the target's output.
type switcher struct {
	silenceCmd, soundCmd string
	silenceURL, soundURL string
}

// set switches to silence or sound, within timeout.
func (s *switcher) set(ctx context.Context, silent bool, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd, u := s.soundCmd, s.soundURL
	if silent {
		cmd, u = s.silenceCmd, s.silenceURL
	}
	if u != "" {
		_, err := getOK(ctx, u)
		return err
	}
	out, err := exec.CommandContext(ctx, "sh", "-c", cmd).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%q: %w: %.200s", cmd, err, out)
	}
	return nil
}

func runLatency(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseLatency(args, stderr)
	if err != nil {
		return err
	}
	deadline := latencyStartup + time.Duration(cfg.n)*(cfg.timeout+2*cfg.settle) + 30*time.Second
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()

	sw := switcher{silenceCmd: cfg.silenceCmd, soundCmd: cfg.soundCmd, silenceURL: cfg.silenceURL, soundURL: cfg.soundURL}
	streamURL := cfg.streamURL
	if cfg.url != "" {
		base, err := baseURL(cfg.url)
		if err != nil {
			return err
		}
		params := "gain=0.5&freq=440"
		if cfg.params != "" {
			params += "&" + cfg.params
		}
		ids, err := createStreams(ctx, base, params, 1)
		if err != nil {
			return fmt.Errorf("creating a stream: %w", err)
		}
		id := url.QueryEscape(ids[0])
		streamURL = base + "/stream?id=" + id
		sw.silenceURL = base + "/set_param?id=" + id + "&gain=0"
		sw.soundURL = base + "/set_param?id=" + id + "&gain=0.5"
	}
	ep, err := parseEndpoint(streamURL)
	if err != nil {
		return err
	}

	rep := latencyReport{Mode: "latency", Target: streamURL, Reps: []latencyRep{}}
	l := &latencyListener{}
	lctx, lcancel := context.WithCancel(ctx)
	defer lcancel()
	ready := make(chan error, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); l.listen(lctx, ep, ready) }()
	defer wg.Wait()
	defer lcancel()
	if err := <-ready; err != nil {
		return fmt.Errorf("listening to %s: %w", streamURL, err)
	}

	// Start from sound, seen arriving and settled.
	sctx, scancel := context.WithTimeout(ctx, latencyStartup)
	_, _, err = switchAndWait(sctx, l, &sw, false, cfg.timeout)
	scancel()
	if err != nil {
		return fmt.Errorf("switching to sound before the first repetition: %w", err)
	}

	rng := rand.New(rand.NewPCG(cfg.seed, 0x5ca1ab1e))
	var heard, arrival []float64
	for i := range cfg.n {
		silent := i%2 == 0
		if err := waitSettled(ctx, l, !silent, cfg.settle+time.Duration(rng.Int64N(int64(cfg.settle)+1)), cfg.timeout); err != nil {
			rep.Error = err.Error()
			break
		}
		r := latencyRep{To: "sound"}
		if silent {
			r.To = "silence"
		}
		seen, call, err := switchAndWait(ctx, l, &sw, silent, cfg.timeout)
		r.CallMs = round3(ms(call.end.Sub(call.start)))
		switch {
		case errors.Is(err, errNoChange):
			r.TimedOut = true
			rep.Timeouts++
		case err != nil:
			rep.Error = err.Error()
		default:
			l.mu.Lock()
			t0 := l.firstByte
			l.mu.Unlock()
			played := t0.Add(time.Duration(seen.pos * float64(time.Second)))
			if played.Before(seen.arrival) {
				played = seen.arrival // a player cannot play a frame before it arrives
			}
			r.PosS = round3(seen.pos)
			r.HeardMs = round3(ms(played.Sub(call.start)))
			r.ArrivalMs = round3(ms(seen.arrival.Sub(call.start)))
			heard = append(heard, r.HeardMs)
			arrival = append(arrival, r.ArrivalMs)
		}
		rep.Reps = append(rep.Reps, r)
		if rep.Error != "" {
			break
		}
	}
	lcancel()
	wg.Wait()
	rep.HeardMs, rep.ArrivalMs = roundSpread(spreadOf(heard)), roundSpread(spreadOf(arrival))
	l.mu.Lock()
	rep.Frames, rep.Silent, rep.Unknown, rep.SyncLosses = l.frames, l.silent, l.unknown, l.losses
	l.mu.Unlock()
	if !cfg.json {
		fmt.Fprintf(stderr, "latency: %s, %d repetitions\n", streamURL, len(rep.Reps))
		for i, r := range rep.Reps {
			if r.TimedOut {
				fmt.Fprintf(stderr, "  %2d  to %-7s  no change seen within %v\n", i+1, r.To, cfg.timeout)
				continue
			}
			fmt.Fprintf(stderr, "  %2d  to %-7s  heard %7.1f ms   arrived %7.1f ms   (call %.1f ms)\n", i+1, r.To, r.HeardMs, r.ArrivalMs, r.CallMs)
		}
		fmt.Fprintf(stderr, "  heard ms    min %.1f  p50 %.1f  max %.1f   (call -> a real-time player started at the first byte plays the first changed frame)\n", rep.HeardMs.Min, rep.HeardMs.P50, rep.HeardMs.Max)
		fmt.Fprintf(stderr, "  arrival ms  min %.1f  p50 %.1f  max %.1f   (call -> the first changed frame has arrived)\n", rep.ArrivalMs.Min, rep.ArrivalMs.P50, rep.ArrivalMs.Max)
		fmt.Fprintf(stderr, "  frames %d (silent %d, unclassified %d), sync losses %d, timeouts %d\n", rep.Frames, rep.Silent, rep.Unknown, rep.SyncLosses, rep.Timeouts)
		if rep.Error != "" {
			fmt.Fprintf(stderr, "  stopped: %s\n", rep.Error)
		}
	}
	return writeJSON(stdout, rep)
}

// errNoChange: no frame of the wanted state arrived in time.
var errNoChange = errors.New("no changed frame arrived in time")

type callTimes struct{ start, end time.Time }

// switchAndWait switches the target and waits for the first frame of the new
// state to arrive after the call started.
func switchAndWait(ctx context.Context, l *latencyListener, sw *switcher, silent bool, timeout time.Duration) (changeSeen, callTimes, error) {
	var call callTimes
	call.start = time.Now()
	w := l.expect(silent, call.start)
	defer l.cancelWatch()
	err := sw.set(ctx, silent, timeout)
	call.end = time.Now()
	if err != nil {
		return changeSeen{}, call, err
	}
	t := time.NewTimer(timeout - call.end.Sub(call.start))
	defer t.Stop()
	select {
	case seen, ok := <-w.seen:
		if !ok {
			return changeSeen{}, call, errors.New("the stream ended")
		}
		return seen, call, nil
	case <-t.C:
		return changeSeen{}, call, errNoChange
	case <-ctx.Done():
		return changeSeen{}, call, ctx.Err()
	}
}

// waitSettled pauses for pause, then until the last settledFrames frames
// were all of state silent (at most timeout more).
func waitSettled(ctx context.Context, l *latencyListener, silent bool, pause, timeout time.Duration) error {
	select {
	case <-time.After(pause):
	case <-ctx.Done():
		return ctx.Err()
	}
	limit := time.Now().Add(timeout)
	for !l.settled(silent) {
		if time.Now().After(limit) {
			return errors.New("the stream did not settle between switches")
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
