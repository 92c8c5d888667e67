package server

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/synthcast/synthcast/store"
)

// Defaults, in one place. Each is what a zero field of Config means.
const (
	DefaultListen        = "127.0.0.1:8000"
	DefaultMaxStreams    = 10000
	DefaultHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout   = 60 * time.Second
	DefaultTick          = 500 * time.Millisecond
	DefaultPrebuffer     = time.Second
	DefaultQueueBytes    = 512 << 10
	DefaultMaxListeners  = 19000
	DefaultStreamTTL     = 10 * time.Minute

	// DefaultMaxQueuedBytes bounds all listeners' queues together where the
	// machine's memory cannot be read: 1 GiB.
	DefaultMaxQueuedBytes = 1 << 30

	// timerResolution is how often the server's housekeeping goroutine runs: it
	// advances the timing wheel (timeouts) and refreshes the cached Date header.
	// Timeouts fire at most this late.
	timerResolution = 100 * time.Millisecond
)

// ErrConfig is returned (wrapped) by Config.Validate for an unusable setting.
var ErrConfig = errors.New("server: invalid config")

// Config is everything the server can be told. The zero value of every field
// means its default; main fills it from flags and SYNTHCAST_* environment.
type Config struct {
	// Listen is the TCP address to listen on, host:port. Default 127.0.0.1:8000;
	// port 0 picks a free port (read it back with Server.Addr).
	Listen string

	// Loops is the number of gnet event loops. Zero means GOMAXPROCS.
	Loops int

	// MaxStreams caps the streams stored (created and not yet expired, on
	// disk as well as in memory); /create_stream answers 503 past it. Zero means DefaultMaxStreams; negative is invalid.
	MaxStreams int

	// HeaderTimeout bounds the time from a request's first byte (or the
	// connection's opening) to the end of its head. Default 10 s.
	HeaderTimeout time.Duration

	// IdleTimeout closes a keep-alive connection that sends nothing for this
	// long between requests. Default 60 s.
	IdleTimeout time.Duration

	// Tick is the period at which each stream is rendered. Default 500 ms.
	Tick time.Duration

	// Prebuffer is the audio a listener receives at once on connect, and how
	// far ahead of real time the server keeps it. Default 1 s.
	Prebuffer time.Duration

	// QueueBytes bounds a listener's queued-but-unsent bytes, the kernel's
	// send queue included; a listener past it is dropped. Default 512 KiB.
	QueueBytes int

	// MaxQueuedBytes bounds the bytes queued to all listeners together
	// (gnet's buffers and the kernel's send queues, as measured at each
	// delivery). Past it the per-listener bound shrinks in proportion, so
	// the listeners furthest behind are dropped first. Zero means a quarter
	// of the machine's memory (DefaultMaxQueuedBytes without /proc/meminfo).
	MaxQueuedBytes int64

	// MaxListeners caps concurrent /stream listeners (503 past it).
	// Zero means DefaultMaxListeners.
	MaxListeners int

	// StreamTTL removes a stream that has had no listener for this long.
	// Default 10 min.
	StreamTTL time.Duration

	// Workers is the number of render workers. Zero means GOMAXPROCS.
	Workers int

	// Store keeps the streams: a create or a change is answered once the
	// store has it. The server loads what it holds at New and never closes
	// it (the caller does, after Stop). Nil means a fresh store.Memory.
	Store store.Store

	// AccessLog, if set, receives one line per answered request (none per
	// frame), written off the event loops; see accessLog. Nil means none.
	AccessLog io.Writer

	// NodeName names this server among a cluster's nodes: /healthz and
	// /params report it and /stream answers carry it (Synthcast-Node), so a
	// proxy's routing can be seen. Empty means the listen address.
	NodeName string

	// Version is the build's version, reported by /status. Empty means "devel".
	Version string

	// Metrics receives the server's counters and histograms (see Metrics).
	// Nil means a private NewMetrics(), reachable through Server.Metrics.
	Metrics *Metrics

	// Clock tells the time: stream timelines, pacing and expiry read it.
	// Nil means time.Now; tests pass a synthetic clock.
	Clock func() time.Time

	// Logger receives the server's logs. Nil means slog.Default().
	Logger *slog.Logger
}

// withDefaults returns c with every zero field replaced by its default.
func (c Config) withDefaults() Config {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Loops == 0 {
		c.Loops = runtime.GOMAXPROCS(0)
	}
	if c.MaxStreams == 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.HeaderTimeout == 0 {
		c.HeaderTimeout = DefaultHeaderTimeout
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.Tick == 0 {
		c.Tick = DefaultTick
	}
	if c.Prebuffer == 0 {
		c.Prebuffer = DefaultPrebuffer
	}
	if c.QueueBytes == 0 {
		c.QueueBytes = DefaultQueueBytes
	}
	if c.MaxListeners == 0 {
		c.MaxListeners = DefaultMaxListeners
	}
	if c.MaxQueuedBytes == 0 {
		c.MaxQueuedBytes = defaultMaxQueued()
	}
	if c.StreamTTL == 0 {
		c.StreamTTL = DefaultStreamTTL
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	if c.Store == nil {
		c.Store = store.NewMemory()
	}
	if c.Metrics == nil {
		c.Metrics = NewMetrics()
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate reports the first unusable setting of c (after defaults), wrapping ErrConfig.
func (c Config) Validate() error {
	c = c.withDefaults()
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		return fmt.Errorf("%w: listen %q: %w", ErrConfig, c.Listen, err)
	}
	switch {
	case c.Loops < 0 || c.Loops > 1024:
		return fmt.Errorf("%w: loops must be in [1, 1024], got %d", ErrConfig, c.Loops)
	case c.MaxStreams < 0:
		return fmt.Errorf("%w: max-streams must be positive, got %d", ErrConfig, c.MaxStreams)
	case c.HeaderTimeout < 0 || c.HeaderTimeout > 0 && c.HeaderTimeout < timerResolution:
		return fmt.Errorf("%w: header-timeout must be at least %v, got %v", ErrConfig, timerResolution, c.HeaderTimeout)
	case c.IdleTimeout < 0 || c.IdleTimeout > 0 && c.IdleTimeout < timerResolution:
		return fmt.Errorf("%w: idle-timeout must be at least %v, got %v", ErrConfig, timerResolution, c.IdleTimeout)
	case c.Tick < 20*time.Millisecond || c.Tick > 5*time.Second:
		return fmt.Errorf("%w: tick must be in [20ms, 5s], got %v", ErrConfig, c.Tick)
	case c.Prebuffer < 0 || c.Prebuffer > 30*time.Second:
		return fmt.Errorf("%w: prebuffer must be in [0, 30s], got %v", ErrConfig, c.Prebuffer)
	case c.QueueBytes < 16<<10:
		return fmt.Errorf("%w: queue-bytes must be at least 16384, got %d", ErrConfig, c.QueueBytes)
	case c.MaxQueuedBytes < 0 || c.MaxQueuedBytes > 0 && c.MaxQueuedBytes < int64(c.QueueBytes):
		return fmt.Errorf("%w: max-queued-bytes must be at least queue-bytes (%d), got %d", ErrConfig, c.QueueBytes, c.MaxQueuedBytes)
	case c.MaxListeners < 0:
		return fmt.Errorf("%w: max-listeners must be positive, got %d", ErrConfig, c.MaxListeners)
	case c.StreamTTL < 0:
		return fmt.Errorf("%w: stream-ttl must not be negative, got %v", ErrConfig, c.StreamTTL)
	case len(c.NodeName) > 64 || strings.ContainsFunc(c.NodeName, func(r rune) bool { return r < 0x21 || r == 0x7f }):
		return fmt.Errorf("%w: node-name must be at most 64 printable characters without spaces, got %q", ErrConfig, c.NodeName)
	case c.Workers < 0 || c.Workers > 1024:
		return fmt.Errorf("%w: workers must be in [1, 1024], got %d", ErrConfig, c.Workers)
	}
	return nil
}

// defaultMaxQueued is a quarter of the machine's memory (MemTotal in
// /proc/meminfo), or DefaultMaxQueuedBytes where that cannot be read: room
// for every listener's queue in normal play, and a bound well before a
// flood of stalled listeners could exhaust the machine.
func defaultMaxQueued() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return DefaultMaxQueuedBytes
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			f := strings.Fields(rest)
			if kb, err := strconv.ParseInt(f[0], 10, 64); err == nil && len(f) == 2 && f[1] == "kB" {
				return kb << 10 / 4
			}
		}
	}
	return DefaultMaxQueuedBytes
}
