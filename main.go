// Command synthcast serves endless, generated MP3 streams over HTTP.
//
// Every setting is a flag, and every flag may also come from the environment
// as SYNTHCAST_<NAME> (upper case, dashes as underscores): -max-streams is
// SYNTHCAST_MAX_STREAMS. A flag on the command line wins over the environment.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/synthcast/synthcast/server"
	"github.com/synthcast/synthcast/store"
)

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

// run parses args and the environment into a server.Config and serves until
// SIGINT or SIGTERM.
func run(args []string, getenv func(string) string) error {
	cfg, level, prof, sto, err := parseConfig(args, getenv)
	if err != nil {
		return err
	}
	if prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	st, err := sto.open()
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			cfg.Logger.Error("closing the store", "err", err)
		}
	}()
	cfg.Store = st
	if sto.kind == "bolt" {
		cfg.Logger.Info("streams are kept on disk", "data-dir", sto.dir)
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
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := srv.Start(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-srv.Done():
		return errors.New("server stopped unexpectedly")
	}
	cfg.Logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Stop(sctx)
}

// storeConfig says where streams are kept.
type storeConfig struct {
	kind string // "bolt" or "memory"
	dir  string // the data directory, for bolt
}

// open opens the store c describes.
func (c storeConfig) open() (store.Store, error) {
	if c.kind == "memory" {
		return store.NewMemory(), nil
	}
	st, err := store.OpenBolt(c.dir, store.BoltOptions{})
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

// parseConfig fills a server.Config from args, falling back to SYNTHCAST_*
// variables read through getenv, then to the server's defaults.
func parseConfig(args []string, getenv func(string) string) (cfg server.Config, level slog.Level, cpuprofile string, sto storeConfig, err error) {
	fs := flag.NewFlagSet("synthcast", flag.ContinueOnError)
	fs.StringVar(&sto.kind, "store", "bolt", "where streams are kept: `bolt` (durable, in -data-dir) or memory (lost at exit)")
	fs.StringVar(&sto.dir, "data-dir", defaultDataDir(getenv), "`directory` of the bolt store (created if missing; default $STATE_DIRECTORY under systemd, else ./data)")
	fs.StringVar(&cfg.Listen, "listen", server.DefaultListen, "TCP `address` to listen on (host:port; port 0 picks one)")
	fs.IntVar(&cfg.Loops, "loops", 0, "event loops (0: one per CPU)")
	fs.IntVar(&cfg.MaxStreams, "max-streams", server.DefaultMaxStreams, "most streams held at once; /create_stream answers 503 past it")
	fs.DurationVar(&cfg.HeaderTimeout, "header-timeout", server.DefaultHeaderTimeout, "time allowed to receive a request head")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", server.DefaultIdleTimeout, "keep-alive connection idle time before it is closed")
	fs.DurationVar(&cfg.Tick, "tick", server.DefaultTick, "render period of a stream")
	fs.DurationVar(&cfg.Prebuffer, "prebuffer", server.DefaultPrebuffer, "audio sent at once to a new listener, and kept ahead of real time")
	fs.IntVar(&cfg.QueueBytes, "queue-bytes", server.DefaultQueueBytes, "unsent bytes a listener may queue (kernel included) before it is dropped")
	fs.IntVar(&cfg.MaxListeners, "max-listeners", server.DefaultMaxListeners, "most stream listeners at once; /stream answers 503 past it")
	fs.DurationVar(&cfg.StreamTTL, "stream-ttl", server.DefaultStreamTTL, "a stream with no listener for this long is removed")
	fs.IntVar(&cfg.Workers, "workers", 0, "render workers (0: one per CPU)")
	fs.TextVar(&level, "log-level", slog.LevelInfo, "log `level`: debug, info, warn, error")
	fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile to `file` until shutdown (for performance work)")

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
		return cfg, level, "", sto, fmt.Errorf("%w: environment: %w", errUsage, err)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		return cfg, level, "", sto, fmt.Errorf("%w: %w", errUsage, err)
	}
	if fs.NArg() > 0 {
		return cfg, level, "", sto, fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if sto.kind != "bolt" && sto.kind != "memory" {
		return cfg, level, "", sto, fmt.Errorf("%w: -store must be bolt or memory, got %q", errUsage, sto.kind)
	}
	if sto.kind == "bolt" && sto.dir == "" {
		return cfg, level, "", sto, fmt.Errorf("%w: -data-dir must not be empty", errUsage)
	}
	if err := cfg.Validate(); err != nil {
		return cfg, level, "", sto, fmt.Errorf("%w: %w", errUsage, err)
	}
	return cfg, level, cpuprofile, sto, nil
}
