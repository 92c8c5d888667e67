// Command synthcast serves endless, generated MP3 streams over HTTP.
//
// Every setting is a flag, and every flag may also come from the environment
// as SYNTHCAST_<NAME> (upper case, dashes as underscores): -max-streams is
// SYNTHCAST_MAX_STREAMS. A flag on the command line wins over the environment.
//
// Signals: SIGINT or SIGTERM stops gracefully within -shutdown-timeout (a
// second one exits at once); SIGHUP reopens the log files.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/synthcast/synthcast/server"
	"github.com/synthcast/synthcast/store"
)

// version is the release, set at build time with
// -ldflags "-X main.version=v1.2.3"; "devel" otherwise.
var version = "devel"

func main() {
	if err := run(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "synthcast:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// Defaults of the flags main owns (the server's are in package server).
const (
	defaultAdminListen     = "127.0.0.1:8001"
	defaultShutdownTimeout = 5 * time.Second
)

// options is everything the command line and environment say.
type options struct {
	cfg             server.Config
	level           slog.Level
	logFormat       string // text or json
	logFile         string // "" is stderr
	accessLog       string // "" is off, "-" is stderr
	cpuprofile      string
	store           storeConfig
	adminListen     string // "" is off
	shutdownTimeout time.Duration
	version         bool
}

// run parses args and the environment and serves until SIGINT or SIGTERM.
func run(args []string, getenv func(string) string) error {
	o, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	if o.version {
		fmt.Println(versionLine())
		return nil
	}
	if getenv("GOMAXPROCS") == "" {
		o.cfg.Loops, o.cfg.Workers = setProcs(o.cfg.Loops, o.cfg.Workers)
	}
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	logOut, err := openLog(o.logFile, os.Stderr)
	if err != nil {
		return err
	}
	defer logOut.Close()
	log := newLogger(logOut, o.logFormat, o.level)
	cfg := o.cfg
	cfg.Logger = log
	cfg.Version = version
	cfg.Metrics = server.NewMetrics()
	var access *reopener
	if o.accessLog != "" {
		if access, err = openLog(o.accessLog, os.Stdout); err != nil {
			return err
		}
		defer access.Close()
		cfg.AccessLog = access
	}

	st, err := o.store.open(cfg.Metrics.ObserveCommit)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("closing the store", "err", err)
		}
	}()
	cfg.Store = st
	switch o.store.kind {
	case "bolt":
		log.Info("streams are kept on disk", "data-dir", o.store.dir)
	case "redis":
		log.Info("streams are kept in Redis, shared with the cluster's other nodes", "url", redactURL(o.store.url))
	}
	srv, err := server.New(cfg)
	if err != nil {
		if errors.Is(err, server.ErrConfig) {
			return fmt.Errorf("%w: %w", errUsage, err)
		}
		return err
	}

	// Signals are caught before the listener opens: a SIGTERM sent as soon
	// as the address is logged stops the server cleanly, not by default action.
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)

	var admin *http.Server
	if o.adminListen != "" {
		ln, err := net.Listen("tcp", o.adminListen)
		if err != nil {
			return fmt.Errorf("admin listener: %w", err)
		}
		admin = &http.Server{Handler: srv.AdminHandler(), ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = admin.Serve(ln) }()
		log.Info("admin listening", "addr", ln.Addr().String())
	}
	if err := srv.Start(); err != nil {
		return err
	}
	// The store is open and both listeners accept: tell systemd, and ping its
	// watchdog while the timing wheel advances.
	notify := systemdNotifier(log)
	notify.Ready("serving on " + srv.Addr().String() + "; " + statusLine(srv.Stats()))
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	go notify.run(watchCtx, srv)

	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				reopen(log, logOut, access)
				continue
			}
			notify.Stopping()
			stopWatch()
			log.Info("shutting down", "signal", sig.String(), "timeout", o.shutdownTimeout.String())
			return shutdown(log, srv, admin, sigs, o.shutdownTimeout)
		case <-srv.Done():
			return errors.New("server stopped unexpectedly")
		}
	}
}

// shutdown stops srv (and the admin listener) within timeout; a second
// SIGINT or SIGTERM meanwhile exits at once.
func shutdown(log *slog.Logger, srv *server.Server, admin *http.Server, sigs <-chan os.Signal, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	go func() {
		for sig := range sigs {
			if sig != syscall.SIGHUP {
				log.Warn("second signal: exiting at once", "signal", sig.String())
				os.Exit(1)
			}
		}
	}()
	if admin != nil {
		_ = admin.Shutdown(ctx)
	}
	if err := srv.Stop(ctx); err != nil {
		return fmt.Errorf("stopping within %v: %w", timeout, err)
	}
	return nil
}

// reopen reopens the log files (after logrotate moved them).
func reopen(log *slog.Logger, files ...*reopener) {
	for _, f := range files {
		if f == nil {
			continue
		}
		if err := f.Reopen(); err != nil {
			log.Error("reopening a log file", "err", err)
		}
	}
	log.Info("log files reopened")
}

// versionLine is what -version prints: the release and the build.
func versionLine() string {
	line := "synthcast " + version
	if bi, ok := debug.ReadBuildInfo(); ok {
		line += " " + bi.GoVersion
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision", "vcs.time", "vcs.modified", "GOARCH", "GOOS":
				line += " " + s.Key + "=" + s.Value
			}
		}
	}
	return line
}

// newLogger makes the server's logger: text or JSON lines on w.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// storeConfig says where streams are kept.
type storeConfig struct {
	kind string // "bolt", "memory" or "redis"
	dir  string // the data directory, for bolt
	url  string // redis://HOST:PORT/DB, for redis
}

// open opens the store c describes; onCommit observes each commit.
func (c storeConfig) open(onCommit func(time.Duration, int, error)) (store.Store, error) {
	switch c.kind {
	case "memory":
		return store.NewMemory(), nil
	case "redis":
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		st, err := store.OpenRedis(ctx, c.url, store.RedisOptions{OnCommit: onCommit})
		if err != nil {
			return nil, fmt.Errorf("opening the Redis store: %w", err)
		}
		return st, nil
	}
	st, err := store.OpenBolt(c.dir, store.BoltOptions{OnCommit: onCommit})
	if err != nil {
		return nil, fmt.Errorf("opening the data directory: %w", err)
	}
	return st, nil
}

// defaultDataDir is where streams are kept unless -data-dir says otherwise:
// the state directory systemd gives a service (StateDirectory=, the first
// of a colon-separated list), else ./data.
func defaultDataDir(getenv func(string) string) string {
	if d, _, _ := strings.Cut(getenv("STATE_DIRECTORY"), ":"); d != "" {
		return d
	}
	return "data"
}

// startProcs is the runtime's own processor count at start (its count of
// usable CPUs, CPU quota included), before setProcs raises it; read-only,
// so a second run in one process (the tests) counts from the same base.
var startProcs = runtime.GOMAXPROCS(0)

// setProcs resolves the event loops and render workers (0: one per CPU
// each, as the runtime counts CPUs) and gives the runtime a processor for
// each of them: the workers are CPU-bound, and with only one processor per
// CPU an event loop back from epoll_wait, or gnet's acceptor with a new
// connection, waits for a processor until the runtime preempts a worker
// (10 ms). With one each, the kernel schedules their threads and runs the
// one that woke. Measured on 2 vCPUs (2 loops, 2 workers, 10 streams):
// first audio byte p99 during a 5,000-listener ramp 16–21 ms → 8–11 ms, and
// at 1,000 listeners 9–11 ms → 2–3 ms with 10% less server CPU (fewer
// hand-offs of a processor between threads). A GOMAXPROCS in the
// environment is left alone (run does not call this).
func setProcs(loops, workers int) (int, int) {
	n := startProcs
	loops, workers = cmp.Or(loops, n), cmp.Or(workers, n)
	runtime.GOMAXPROCS(loops + workers)
	return loops, workers
}

// parseConfig fills the options from args, falling back to SYNTHCAST_*
// variables read through getenv, then to the defaults.
func parseConfig(args []string, getenv func(string) string) (o options, err error) {
	cfg := &o.cfg
	fs := flag.NewFlagSet("synthcast", flag.ContinueOnError)
	fs.StringVar(&cfg.Listen, "listen", server.DefaultListen, "TCP `address` to listen on (host:port; port 0 picks one)")
	fs.StringVar(&o.adminListen, "admin-listen", defaultAdminListen, "`address` of the admin listener (/metrics, /status, /debug/pprof/); empty turns it off; never the public port")
	fs.StringVar(&o.store.kind, "store", "bolt", "where streams are kept: `bolt` (durable, in -data-dir), memory (lost at exit), or redis://HOST:PORT/DB (shared by a cluster's nodes)")
	fs.StringVar(&cfg.NodeName, "node-name", "", "this node's `name` in a cluster (reported by /healthz and /params, and in a Synthcast-Node header on /stream); empty: the listen address")
	fs.StringVar(&o.store.dir, "data-dir", defaultDataDir(getenv), "`directory` of the bolt store (created if missing; default $STATE_DIRECTORY under systemd, else ./data)")
	fs.IntVar(&cfg.Loops, "loops", 0, "event loops (0: one per CPU)")
	fs.IntVar(&cfg.MaxStreams, "max-streams", server.DefaultMaxStreams, "most streams stored at once; /create_stream answers 503 past it")
	fs.DurationVar(&cfg.HeaderTimeout, "header-timeout", server.DefaultHeaderTimeout, "time allowed to receive a request head")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", server.DefaultIdleTimeout, "keep-alive connection idle time before it is closed")
	fs.DurationVar(&cfg.Tick, "tick", server.DefaultTick, "render period of a stream")
	fs.DurationVar(&cfg.Prebuffer, "prebuffer", server.DefaultPrebuffer, "audio sent at once to a new listener, and kept ahead of real time")
	fs.IntVar(&cfg.QueueBytes, "queue-bytes", server.DefaultQueueBytes, "unsent bytes a listener may queue (kernel included) before it is dropped")
	fs.Int64Var(&cfg.MaxQueuedBytes, "max-queued-bytes", 0, "bytes all listeners may have queued together; past it those furthest behind are dropped first (0: a quarter of the machine's memory)")
	fs.IntVar(&cfg.MaxListeners, "max-listeners", server.DefaultMaxListeners, "most stream listeners at once; /stream answers 503 past it")
	fs.DurationVar(&cfg.StreamTTL, "stream-ttl", server.DefaultStreamTTL, "a stream with no listener for this long is removed")
	fs.IntVar(&cfg.Workers, "workers", 0, "render workers (0: one per CPU)")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", defaultShutdownTimeout, "time a graceful stop may take before the process exits anyway")
	fs.TextVar(&o.level, "log-level", slog.LevelInfo, "log `level`: debug, info, warn, error")
	fs.StringVar(&o.logFormat, "log-format", "text", "log `format`: text or json")
	fs.StringVar(&o.logFile, "log-file", "", "write the log to `file` (reopened on SIGHUP); empty is stderr")
	fs.StringVar(&o.accessLog, "access-log", "", "write one line per request to `file` (reopened on SIGHUP; - is stdout); empty turns it off")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile to `file` until shutdown (for performance work)")
	fs.BoolVar(&o.version, "version", false, "print the version and build, then exit")

	// The environment is applied first, as if it were given on the command
	// line ahead of args, so that real arguments override it.
	var fromEnv []string
	fs.VisitAll(func(f *flag.Flag) {
		name := "SYNTHCAST_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(name); v != "" {
			fromEnv = append(fromEnv, "-"+f.Name+"="+v)
		}
	})
	if err := fs.Parse(fromEnv); err != nil {
		return o, fmt.Errorf("%w: environment: %w", errUsage, err)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		return o, fmt.Errorf("%w: %w", errUsage, err)
	}
	if strings.HasPrefix(o.store.kind, "redis://") {
		o.store.kind, o.store.url = "redis", o.store.kind
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case o.store.kind != "bolt" && o.store.kind != "memory" && o.store.kind != "redis":
		return o, fmt.Errorf("%w: -store must be bolt, memory or redis://HOST:PORT/DB, got %q", errUsage, o.store.kind)
	case o.store.kind == "bolt" && o.store.dir == "":
		return o, fmt.Errorf("%w: -data-dir must not be empty", errUsage)
	case o.logFormat != "text" && o.logFormat != "json":
		return o, fmt.Errorf("%w: -log-format must be text or json, got %q", errUsage, o.logFormat)
	case o.shutdownTimeout <= 0:
		return o, fmt.Errorf("%w: -shutdown-timeout must be positive, got %v", errUsage, o.shutdownTimeout)
	}
	if o.adminListen != "" {
		if err := checkAdminAddr(o.adminListen, cfg.Listen); err != nil {
			return o, fmt.Errorf("%w: %w", errUsage, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		return o, fmt.Errorf("%w: %w", errUsage, err)
	}
	return o, nil
}

// checkAdminAddr refuses an admin address that is the public one: tokens
// and internals stay off the public side.
func checkAdminAddr(admin, public string) error {
	ah, ap, err := net.SplitHostPort(admin)
	if err != nil {
		return fmt.Errorf("-admin-listen %q: %w", admin, err)
	}
	ph, pp, _ := net.SplitHostPort(public)
	if ap == pp && ap != "0" && (ah == ph || ah == "" || ph == "" || ah == "0.0.0.0" || ph == "0.0.0.0") {
		return fmt.Errorf("-admin-listen %q is the public address %q: the admin listener must be separate", admin, public)
	}
	return nil
}

// redactURL hides a Redis URL's password for the log.
func redactURL(u string) string {
	if p, err := url.Parse(u); err == nil {
		return p.Redacted()
	}
	return "(unparsable URL)"
}
