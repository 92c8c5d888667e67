package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Restart-mode limits.
const (
	// maxRestartStreams bounds -streams: ten times the goal's 100,000, a few
	// hundred MB of data file at worst.
	maxRestartStreams = 1_000_000
	maxRestarts       = 20
	maxRestartConns   = 1000
	maxRestartTimeout = time.Hour

	// startWait bounds one start: exec to the first 200 from /healthz.
	startWait = time.Minute
)

// The goals for a restart, stated for 100,000 streams.
const (
	goalServingMs      = 1000 // exec to serving, under one second
	goalBytesPerStream = 512  // data file over streams
)

// restartDataFile is the bolt store's file in its data directory
// (store.DataFile, not imported: this command does not link the store).
const restartDataFile = "synthcast.db"

// restartTTL is the -stream-ttl the server runs with: the streams have no
// listener here, and none may expire during the run.
const restartTTL = "24h"

type restartConfig struct {
	bin        string
	streams    int
	restarts   int
	conns      int
	pipeline   int
	dataDir    string
	serverArgs []string
	timeout    time.Duration
	json       bool
}

func parseRestart(args []string, stderr io.Writer) (restartConfig, error) {
	var c restartConfig
	var extra string
	fs := newFlagSet("restart", stderr)
	fs.StringVar(&c.bin, "bin", "bin/synthcast", "the server `binary` to run")
	fs.IntVar(&c.streams, "streams", 10000, "streams to create before the restarts")
	fs.IntVar(&c.restarts, "restarts", 3, "restarts measured")
	fs.IntVar(&c.conns, "c", 32, "keep-alive connections creating the streams")
	fs.IntVar(&c.pipeline, "pipeline", 16, "create requests written at once per connection")
	fs.StringVar(&c.dataDir, "data-dir", "", "the server's data `directory`, absent or empty, kept afterwards (default: a temporary one, removed)")
	fs.StringVar(&extra, "server-args", "", "more server `flags`, space-separated (not -listen, -store or -data-dir)")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "bound of the whole run (at most 1h)")
	fs.BoolVar(&c.json, "json", false, "print only the final JSON line")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	c.serverArgs = strings.Fields(extra)
	for _, a := range c.serverArgs {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && (name == "listen" || name == "store" || name == "data-dir") {
			return c, fmt.Errorf("%w: -server-args: %s is set by this command", errUsage, a)
		}
	}
	switch {
	case c.bin == "":
		return c, fmt.Errorf("%w: -bin is required", errUsage)
	case c.streams < 1 || c.streams > maxRestartStreams:
		return c, fmt.Errorf("%w: -streams %d: want 1 to %d", errUsage, c.streams, maxRestartStreams)
	case c.restarts < 1 || c.restarts > maxRestarts:
		return c, fmt.Errorf("%w: -restarts %d: want 1 to %d", errUsage, c.restarts, maxRestarts)
	case c.conns < 1 || c.conns > maxRestartConns:
		return c, fmt.Errorf("%w: -c %d: want 1 to %d", errUsage, c.conns, maxRestartConns)
	case c.pipeline < 1 || c.pipeline > maxControlPipeline:
		return c, fmt.Errorf("%w: -pipeline %d: want 1 to %d", errUsage, c.pipeline, maxControlPipeline)
	case c.timeout <= 0 || c.timeout > maxRestartTimeout:
		return c, fmt.Errorf("%w: -timeout %v: want more than 0, at most %v", errUsage, c.timeout, maxRestartTimeout)
	}
	return c, nil
}

// restartReport is the restart mode's JSON line.
type restartReport struct {
	Mode           string       `json:"mode"`
	Streams        int          `json:"streams"`
	Server         string       `json:"server"` // the server's command line, the data directory as DATA
	Create         createFigs   `json:"create"`
	DataFileBytes  int64        `json:"data_file_bytes"`
	DataAllocBytes int64        `json:"data_alloc_bytes"`
	BytesPerStream float64      `json:"bytes_per_stream"`
	Restarts       []restartRun `json:"restarts"`
	ServingMs      spread       `json:"serving_ms"`
	ListeningMs    spread       `json:"listening_ms"`
	LoadMs         spread       `json:"load_ms"`
	StopMs         spread       `json:"stop_ms"`
	RSSKiB         spread       `json:"rss_kib"`
	Goal           restartGoal  `json:"goal"`
}

// createFigs is how the streams were made.
type createFigs struct {
	Created  int64   `json:"created"`
	Conns    int     `json:"conns"`
	Pipeline int     `json:"pipeline"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	Non2xx   int64   `json:"non_2xx"`
	StopMs   float64 `json:"stop_ms"`
}

// restartRun is one start of the server over the prepared data directory.
type restartRun struct {
	ServingMs   float64 `json:"serving_ms"`
	ListeningMs float64 `json:"listening_ms"`
	LoadMs      float64 `json:"load_ms"`
	Loaded      int     `json:"loaded"`
	Expired     int     `json:"expired"`
	Served      int     `json:"served"`
	RSSKiB      int64   `json:"rss_kib"`
	StopMs      float64 `json:"stop_ms"`
}

// restartGoal is the goal and whether this run met it.
type restartGoal struct {
	ServingMs      int  `json:"serving_ms"`
	BytesPerStream int  `json:"bytes_per_stream"`
	ServingMet     bool `json:"serving_met"` // every restart served in less than ServingMs
	DiskMet        bool `json:"disk_met"`    // BytesPerStream at most the goal's
}

func runRestart(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseRestart(args, stderr)
	if err != nil {
		return err
	}
	// An interrupt ends the run through ctx, and the server with it.
	ctx, stopSignals := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	say := func(format string, a ...any) {
		if !cfg.json {
			fmt.Fprintf(stderr, format+"\n", a...)
		}
	}

	dir := cfg.dataDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "synthcast-restart-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	} else if err := emptyDir(dir); err != nil {
		return err
	}
	// No admin listener: its default is a fixed port another server may hold.
	srvArgs := append([]string{"-listen", "127.0.0.1:0", "-admin-listen=", "-store", "bolt", "-data-dir", dir,
		"-max-streams", strconv.Itoa(cfg.streams), "-stream-ttl", restartTTL}, cfg.serverArgs...)
	shown := strings.Join(append([]string{cfg.bin}, srvArgs...), " ")
	rep := restartReport{Mode: "restart", Streams: cfg.streams, Server: strings.Replace(shown, " "+dir+" ", " DATA ", 1),
		Goal: restartGoal{ServingMs: goalServingMs, BytesPerStream: goalBytesPerStream}}

	// Prepare: a fresh server, N streams over HTTP, SIGTERM.
	say("restart: creating %d streams (%d connections, pipeline %d) in %s", cfg.streams, cfg.conns, cfg.pipeline, dir)
	if rep.Create, err = prepareStreams(ctx, cfg, srvArgs); err != nil {
		return err
	}
	say("  created %d in %.1f s (%.0f/s), stopped in %.0f ms", rep.Create.Created, rep.Create.Seconds, rep.Create.RPS, rep.Create.StopMs)
	fi, err := os.Stat(filepath.Join(dir, restartDataFile))
	if err != nil {
		return fmt.Errorf("the data file: %w", err)
	}
	rep.DataFileBytes = fi.Size()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		rep.DataAllocBytes = st.Blocks * 512
	}
	rep.BytesPerStream = round3(float64(rep.DataFileBytes) / float64(cfg.streams))
	say("  data file %d bytes (%d allocated) = %.1f bytes per stream", rep.DataFileBytes, rep.DataAllocBytes, rep.BytesPerStream)

	var serv, listen, load, stop, rss []float64
	for i := range cfg.restarts {
		run, err := restartOnce(ctx, cfg, srvArgs)
		if err != nil {
			return fmt.Errorf("restart %d: %w", i+1, err)
		}
		say("  restart %d: serving after %.1f ms (listening %.1f ms, load took %.0f ms: %d streams, %d expired), RSS %d KiB, stopped in %.0f ms",
			i+1, run.ServingMs, run.ListeningMs, run.LoadMs, run.Loaded, run.Expired, run.RSSKiB, run.StopMs)
		rep.Restarts = append(rep.Restarts, run)
		serv, listen, load = append(serv, run.ServingMs), append(listen, run.ListeningMs), append(load, run.LoadMs)
		stop, rss = append(stop, run.StopMs), append(rss, float64(run.RSSKiB))
	}
	rep.ServingMs, rep.ListeningMs, rep.LoadMs = spreadOf(serv), spreadOf(listen), spreadOf(load)
	rep.StopMs, rep.RSSKiB = spreadOf(stop), spreadOf(rss)
	rep.Goal.ServingMet = rep.ServingMs.Max < goalServingMs
	rep.Goal.DiskMet = rep.BytesPerStream <= goalBytesPerStream
	say("  serving ms min %.1f  p50 %.1f  max %.1f  (goal < %d at 100000 streams: met %v; disk ≤ %d bytes per stream: met %v)",
		rep.ServingMs.Min, rep.ServingMs.P50, rep.ServingMs.Max, goalServingMs, rep.Goal.ServingMet, goalBytesPerStream, rep.Goal.DiskMet)
	return writeJSON(stdout, rep)
}

// emptyDir creates dir if it is absent and fails unless it is empty: this
// command never runs the server over data it did not make.
func emptyDir(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%w: -data-dir %s is not empty", errUsage, dir)
	}
	return nil
}

// prepareStreams starts the server over an empty data directory, creates
// cfg.streams streams and stops it with SIGTERM.
func prepareStreams(ctx context.Context, cfg restartConfig, srvArgs []string) (createFigs, error) {
	figs := createFigs{Conns: cfg.conns, Pipeline: cfg.pipeline}
	r, err := spawnServer(cfg.bin, srvArgs)
	if err != nil {
		return figs, err
	}
	defer r.stop()
	sctx, cancel := context.WithTimeout(ctx, startWait)
	s, err := r.waitServing(sctx)
	cancel()
	if err != nil {
		return figs, err
	}
	t0 := time.Now()
	figs.Created, figs.Non2xx, err = createMany(ctx, s.addr, cfg.streams, cfg.conns, cfg.pipeline)
	el := time.Since(t0).Seconds()
	figs.Seconds, figs.RPS = round3(el), round3(float64(figs.Created)/el)
	if err != nil {
		return figs, fmt.Errorf("creating streams (%d of %d made): %w", figs.Created, cfg.streams, err)
	}
	body, err := getOK(ctx, "http://"+s.addr+"/healthz")
	setupClient.CloseIdleConnections()
	if err != nil {
		return figs, err
	}
	if n, err := healthStreams(body); err != nil || n != cfg.streams {
		return figs, fmt.Errorf("the server holds %d streams (%v); want %d", n, err, cfg.streams)
	}
	took, err := r.stop()
	figs.StopMs = round3(ms(took))
	return figs, err
}

// restartOnce starts the server over the prepared data directory, waits
// until it serves, checks that every stream came back, and stops it.
func restartOnce(ctx context.Context, cfg restartConfig, srvArgs []string) (restartRun, error) {
	var run restartRun
	r, err := spawnServer(cfg.bin, srvArgs)
	if err != nil {
		return run, err
	}
	defer r.stop()
	sctx, cancel := context.WithTimeout(ctx, startWait)
	s, err := r.waitServing(sctx)
	cancel()
	if err != nil {
		return run, err
	}
	run = restartRun{ServingMs: round3(ms(s.ready)), ListeningMs: round3(ms(s.listening)),
		LoadMs: round3(ms(s.load.took)), Loaded: s.load.streams, Expired: s.load.expired,
		Served: s.streams, RSSKiB: s.rssKiB}
	took, err := r.stop()
	run.StopMs = round3(ms(took))
	switch {
	case err != nil:
		return run, err
	case !s.load.seen:
		return run, errors.New(`the server logged no "streams loaded" line`)
	case s.streams != cfg.streams || s.load.streams != cfg.streams:
		return run, fmt.Errorf("%d streams loaded (%d expired), %d served; want %d", s.load.streams, s.load.expired, s.streams, cfg.streams)
	}
	return run, nil
}

// healthStreams reads "streams" from a /healthz answer.
func healthStreams(body []byte) (int, error) {
	var h struct {
		Streams *int `json:"streams"`
	}
	if err := json.Unmarshal(body, &h); err != nil || h.Streams == nil {
		return 0, fmt.Errorf("/healthz: no streams count in %.200q", body)
	}
	return *h.Streams, nil
}

// createMany creates n streams on the server at addr (127.0.0.0/8) over
// conns keep-alive connections, each writing up to pipeline requests at once
// and then reading their answers, until n have been answered 2xx. A non-2xx
// answer (a 503: the store refused) is counted and its stream asked again;
// more of them than n in all ends the run, as does ctx.
func createMany(ctx context.Context, addr string, n, conns, pipeline int) (created, non2xx int64, err error) {
	if _, err := parseEndpoint("http://" + addr); err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var left, ok, bad atomic.Int64
	left.Store(int64(n))
	// claim takes up to k of the streams left to ask for.
	claim := func(k int) int {
		for {
			l := left.Load()
			if l <= 0 {
				return 0
			}
			t := min(l, int64(k))
			if left.CompareAndSwap(l, l-t) {
				return int(t)
			}
		}
	}
	var wg sync.WaitGroup
	for w := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := createOnConn(ctx, addr, w, pipeline, claim, &left, &ok, &bad, int64(n)); err != nil {
				cancel(err)
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return ok.Load(), bad.Load(), err
	}
	return ok.Load(), bad.Load(), nil
}

// createOnConn is one connection of createMany.
func createOnConn(ctx context.Context, addr string, w, pipeline int, claim func(int) int,
	left, ok, bad *atomic.Int64, n int64) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	br := bufio.NewReaderSize(c, 32<<10)
	var buf []byte
	for i := w; ; {
		k := claim(pipeline)
		if k == 0 {
			return nil
		}
		buf = buf[:0]
		for range k {
			i++
			buf = append(buf, "GET /create_stream?freq="...)
			buf = strconv.AppendInt(buf, int64(100+i*37%1901), 10)
			buf = append(buf, " HTTP/1.1\r\nHost: "...)
			buf = append(buf, addr...)
			buf = append(buf, "\r\n\r\n"...)
		}
		if _, err := c.Write(buf); err != nil {
			return ctxOr(ctx, err)
		}
		for range k {
			status, closeAfter, err := readResponse(br)
			if err != nil {
				return ctxOr(ctx, err)
			}
			if status >= 200 && status <= 299 {
				ok.Add(1)
			} else {
				left.Add(1)
				if bad.Add(1) > n {
					return fmt.Errorf("more than %d answers were not 2xx (the last: %d): the server does not create", n, status)
				}
			}
			if closeAfter {
				return errors.New("the server closed a keep-alive connection")
			}
		}
	}
}

// ctxOr returns ctx's error if it has one (a read failing because the run
// was stopped), else err.
func ctxOr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}
