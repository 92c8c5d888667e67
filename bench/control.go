package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Control-mode limits.
const (
	maxControlConns    = 10000
	maxControlPipeline = 1024
	maxControlDuration = time.Hour

	// controlGrace is how long after the load window in-flight responses may
	// still arrive; the run then stops whatever happens.
	controlGrace = 5 * time.Second

	// requestVariants is how many distinct preformatted requests a run
	// rotates through (distinct freq values, so every set_param changes
	// something).
	requestVariants = 64

	// maxRespLine bounds a response's status or header line.
	maxRespLine = 8 << 10
)

type controlConfig struct {
	url      string
	route    string
	params   string
	ids      []string
	conns    int
	pipeline int
	duration time.Duration
	pids     []int
	json     bool
}

func parseControl(args []string, stderr io.Writer) (controlConfig, error) {
	var c controlConfig
	var ids, pids string
	var pid int
	fs := newFlagSet("control", stderr)
	fs.StringVar(&c.url, "url", "", "synthcast base `URL` (http://127.0.0.1:PORT)")
	fs.StringVar(&c.route, "route", "set_param", "`route` to load: create (/create_stream) or set_param")
	fs.StringVar(&c.params, "params", "", "extra `query` for every request (and for the stream set_param creates), e.g. gain=0.3")
	fs.StringVar(&ids, "ids", "", "comma-separated stream `tokens` for set_param (default: create one)")
	fs.IntVar(&c.conns, "c", 100, "keep-alive connections")
	fs.IntVar(&c.pipeline, "pipeline", 1, "requests written at once per connection before reading the answers")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "load duration (at most 1h)")
	fs.IntVar(&pid, "pid", 0, "server `PID` to sample (CPU time per request)")
	fs.StringVar(&pids, "pids", "", "comma-separated `PIDs` sampled and summed")
	fs.BoolVar(&c.json, "json", false, "print only the final JSON line")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	c.ids = splitList(ids)
	var err error
	if c.pids, err = parsePids(pid, pids); err != nil {
		return c, err
	}
	switch {
	case c.url == "":
		return c, fmt.Errorf("%w: -url is required", errUsage)
	case c.route != "create" && c.route != "set_param":
		return c, fmt.Errorf("%w: -route %q: want create or set_param", errUsage, c.route)
	case c.conns < 1 || c.conns > maxControlConns:
		return c, fmt.Errorf("%w: -c %d: want 1 to %d", errUsage, c.conns, maxControlConns)
	case c.pipeline < 1 || c.pipeline > maxControlPipeline:
		return c, fmt.Errorf("%w: -pipeline %d: want 1 to %d", errUsage, c.pipeline, maxControlPipeline)
	case c.duration <= 0 || c.duration > maxControlDuration:
		return c, fmt.Errorf("%w: -duration %v: want more than 0, at most %v", errUsage, c.duration, maxControlDuration)
	}
	return c, nil
}

// controlReport is the control mode's JSON line.
type controlReport struct {
	Mode      string      `json:"mode"`
	Route     string      `json:"route"`
	Conns     int         `json:"conns"`
	Pipeline  int         `json:"pipeline"`
	DurationS float64     `json:"duration_s"`
	Requests  int64       `json:"requests"`
	RPS       float64     `json:"rps"`
	LatencyMs summary     `json:"latency_ms"`
	Non2xx    int64       `json:"non_2xx"`
	Errors    int64       `json:"errors"`
	Reconnect int64       `json:"reconnects"`
	Server    *controlUse `json:"server,omitempty"`
	Client    controlUse  `json:"client"`
}

// controlUse is a process's (or processes') use over a control run.
type controlUse struct {
	Pids          []int   `json:"pids,omitempty"`
	CPUS          float64 `json:"cpu_s"`
	CPUPerRequest float64 `json:"cpu_per_request_us"`
	RSSKiB        int64   `json:"rss_kib,omitempty"`
	Error         string  `json:"error,omitempty"`
}

// controlWorker is one keep-alive connection's load loop. Its fields are its
// own until the run ends.
type controlWorker struct {
	addr     string
	batches  [][]byte // preformatted pipelines, rotated
	next     int      // index in batches of the next one to send
	pipeline int      // requests per batch
	end      time.Time
	total    *atomic.Int64 // responses of every worker, for the progress line

	hist      histogram
	requests  int64
	non2xx    int64
	errors    int64
	reconnect int64
	last      time.Time // last response
}

func runControl(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseControl(args, stderr)
	if err != nil {
		return err
	}
	base, err := baseURL(cfg.url)
	if err != nil {
		return err
	}
	ep, err := parseEndpoint(base)
	if err != nil {
		return err
	}
	var paths []string
	switch cfg.route {
	case "set_param":
		ids := cfg.ids
		if len(ids) == 0 {
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			ids, err = createStreams(cctx, base, cfg.params, 1)
			cancel()
			if err != nil {
				return fmt.Errorf("creating a stream: %w", err)
			}
		}
		for i := range requestVariants {
			p := "/set_param?id=" + ids[i%len(ids)] + "&freq=" + strconv.Itoa(100+i*1900/(requestVariants-1))
			if cfg.params != "" {
				p += "&" + cfg.params
			}
			paths = append(paths, p)
		}
	case "create":
		for i := range requestVariants {
			p := "/create_stream?freq=" + strconv.Itoa(100+i*1900/(requestVariants-1))
			if cfg.params != "" {
				p += "&" + cfg.params
			}
			paths = append(paths, p)
		}
	}
	// Preformatted pipelines: batch j holds requests j, j+1, … (mod the
	// variants), so consecutive batches rotate through all of them.
	var batches [][]byte
	for j := range requestVariants {
		var b []byte
		for k := range cfg.pipeline {
			b = append(b, "GET "+paths[(j+k)%len(paths)]+" HTTP/1.1\r\nHost: "+ep.host+"\r\n\r\n"...)
		}
		batches = append(batches, b)
	}
	if _, err := raiseNoFile(); err != nil {
		return err
	}

	var sampler *procSampler
	if len(cfg.pids) > 0 {
		sampler = newProcSampler(cfg.pids)
	}
	start := time.Now()
	end := start.Add(cfg.duration)
	ctx, cancel := context.WithDeadline(ctx, end.Add(controlGrace))
	defer cancel()
	var s0 procSample
	var sampleErr error
	if sampler != nil {
		s0, sampleErr = sampler.sample()
	}
	c0 := selfSample()

	ws := make([]controlWorker, cfg.conns)
	var live, total atomic.Int64
	var wg sync.WaitGroup
	for i := range ws {
		w := &ws[i]
		// Each connection starts elsewhere in the rotation.
		*w = controlWorker{addr: ep.addr, batches: batches, next: i % len(batches),
			pipeline: cfg.pipeline, end: end, total: &total}
		wg.Add(1)
		go func() {
			defer wg.Done()
			live.Add(1)
			w.run(ctx)
			live.Add(-1)
		}()
	}
	stopProgress := func() {}
	if !cfg.json && isTerminal(stderr) {
		stopProgress = progress(stderr, func(el time.Duration, rate float64) string {
			return fmt.Sprintf("%5.0fs  %d connections  %d requests  %.0f/s", el.Seconds(), live.Load(), total.Load(), rate)
		}, &total)
	}
	wg.Wait()
	stopProgress()
	c1 := selfSample()

	rep := controlReport{Mode: "control", Route: cfg.route, Conns: cfg.conns, Pipeline: cfg.pipeline}
	var h histogram
	last := start
	for i := range ws {
		w := &ws[i]
		h.merge(&w.hist)
		rep.Requests += w.requests
		rep.Non2xx += w.non2xx
		rep.Errors += w.errors
		rep.Reconnect += w.reconnect
		if w.last.After(last) {
			last = w.last
		}
	}
	el := last.Sub(start).Seconds()
	rep.DurationS = round3(el)
	if el > 0 {
		rep.RPS = round3(float64(rep.Requests) / el)
	}
	rep.LatencyMs = roundSummary(summary{
		P50: float64(h.quantile(50)) / 1e6, P99: float64(h.quantile(99)) / 1e6, Max: float64(h.max) / 1e6,
	})
	if sampler != nil {
		rep.Server = &controlUse{Pids: cfg.pids}
		s1, err := sampler.sample()
		if err = errors.Join(sampleErr, err); err != nil {
			rep.Server.Error = err.Error()
		} else {
			rep.Server.CPUS = round3(s1.cpu - s0.cpu)
			rep.Server.RSSKiB = s1.rssKiB
			if rep.Requests > 0 {
				rep.Server.CPUPerRequest = round3((s1.cpu - s0.cpu) / float64(rep.Requests) * 1e6)
			}
		}
	}
	rep.Client.CPUS = round3(c1.cpu - c0.cpu)
	if rep.Requests > 0 {
		rep.Client.CPUPerRequest = round3((c1.cpu - c0.cpu) / float64(rep.Requests) * 1e6)
	}
	if !cfg.json {
		fmt.Fprintf(stderr, "control: %s, %d connections, pipeline %d, %.1fs\n", cfg.route, cfg.conns, cfg.pipeline, el)
		fmt.Fprintf(stderr, "  requests %d  = %.0f/s   non-2xx %d  errors %d  reconnects %d\n", rep.Requests, rep.RPS, rep.Non2xx, rep.Errors, rep.Reconnect)
		fmt.Fprintf(stderr, "  latency ms  p50 %.3f  p99 %.3f  max %.3f   (batch written -> response parsed)\n", rep.LatencyMs.P50, rep.LatencyMs.P99, rep.LatencyMs.Max)
		if s := rep.Server; s != nil && s.Error == "" {
			fmt.Fprintf(stderr, "  server %v  %.2f CPU-s = %.2f µs per request; RSS %d KiB\n", s.Pids, s.CPUS, s.CPUPerRequest, s.RSSKiB)
		}
		fmt.Fprintf(stderr, "  client      %.2f CPU-s = %.2f µs per request\n", rep.Client.CPUS, rep.Client.CPUPerRequest)
	}
	return writeJSON(stdout, rep)
}

// run sends pipelines and reads their answers until the load window ends,
// reconnecting after an error or a "Connection: close" while time remains.
func (w *controlWorker) run(ctx context.Context) {
	var d net.Dialer
	br := bufio.NewReaderSize(nil, 32<<10)
	for first := true; time.Now().Before(w.end) && ctx.Err() == nil; first = false {
		if !first {
			w.reconnect++
		}
		c, err := d.DialContext(ctx, "tcp", w.addr)
		if err != nil {
			w.errors++
			// Do not spin on a refusing server.
			select {
			case <-time.After(10 * time.Millisecond):
			case <-ctx.Done():
			}
			continue
		}
		_ = c.SetDeadline(w.end.Add(controlGrace))
		br.Reset(c)
		for time.Now().Before(w.end) {
			batch := w.batches[w.next]
			w.next = (w.next + 1) % len(w.batches)
			sent := time.Now()
			if _, err := c.Write(batch); err != nil {
				w.errors++
				break
			}
			closed := false
			got := int64(0)
			for range w.pipeline {
				status, closeAfter, err := readResponse(br)
				now := time.Now()
				if err != nil {
					w.errors++
					closed = true
					break
				}
				w.hist.record(int64(now.Sub(sent)))
				w.requests++
				got++
				w.last = now
				if status < 200 || status > 299 {
					w.non2xx++
				}
				if closeAfter {
					closed = true
					break
				}
			}
			w.total.Add(got)
			if closed {
				break
			}
		}
		c.Close()
	}
}

// readResponse reads one response (status line, headers, Content-Length
// body) from br without allocating, and reports its status and whether the
// server will close the connection after it.
func readResponse(br *bufio.Reader) (status int, closeAfter bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, false, errors.New("malformed status line")
	}
	status = atoiBytes(line[9:12])
	if status < 100 {
		return 0, false, errors.New("malformed status code")
	}
	closeAfter = line[7] == '0' // HTTP/1.0 without keep-alive, unless told otherwise below
	length := -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return status, false, err
		}
		if len(line) > maxRespLine {
			return status, false, errors.New("header line too long")
		}
		h := bytes.TrimRight(line, "\r\n")
		if len(h) == 0 {
			break
		}
		name, value, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			length = atoiBytes(value)
			if length < 0 {
				return status, false, errors.New("bad Content-Length")
			}
		case bytes.EqualFold(name, []byte("Connection")):
			switch {
			case bytes.EqualFold(value, []byte("close")):
				closeAfter = true
			case bytes.EqualFold(value, []byte("keep-alive")):
				closeAfter = false
			}
		}
	}
	if length < 0 {
		return status, false, errors.New("response without Content-Length")
	}
	if _, err := br.Discard(length); err != nil {
		return status, false, err
	}
	return status, closeAfter, nil
}

// atoiBytes parses a non-negative decimal of at most 9 digits, or returns -1.
func atoiBytes(b []byte) int {
	if len(b) == 0 || len(b) > 9 {
		return -1
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}
