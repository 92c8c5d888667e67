package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"

	"github.com/synthcast/synthcast/loop"
)

// ErrServerClosed is returned by Start on a server that was stopped.
var ErrServerClosed = errors.New("server: closed")

// Server is a synthcast server: the hub that owns the streams and a gnet
// engine (the transport) that serves the HTTP routes over them. Create it
// with New, then Start; Stop ends it.
type Server struct {
	cfg Config
	log *slog.Logger
	hub *hub
	tr  *transport

	started0 time.Time     // when New was called, for uptime
	started  chan struct{} // closed once the engine has booted (or failed to)
	done     chan struct{} // closed when gnet.Run has returned
	runErr   error
	stopOnce sync.Once
	cancel   context.CancelFunc // ends the following of a shared store
}

// transport is the gnet event handler: connections, parsing, routing and
// responses. It reaches streams only through the hub's methods; its own
// wheel holds connection deadlines, never a stream's timer.
type transport struct {
	gnet.BuiltinEventEngine

	cfg    Config
	log    *slog.Logger
	hub    *hub
	srv    *Server
	m      *Metrics
	access *accessLog // nil: no access log
	node   string     // cfg.NodeName, checked as a header value
	assets pageAssets // the web player's files by path

	eng  gnet.Engine
	addr net.Addr

	// date holds the current Date header bytes; the housekeeping goroutine
	// refreshes it, request handlers only load it.
	date atomic.Pointer[[]byte]
	// now is the coarse clock (unix nanoseconds) the loops use for deadlines,
	// refreshed with date. Reading it costs an atomic load, not a clock read.
	now         atomic.Int64
	lastDateSec atomic.Int64 // the second date was made for

	// wheelMu guards wheel, which holds one timer per connection, scheduled
	// at open and cancelled at close; deadlines in between are stored
	// atomically in the conn and checked lazily when the timer fires, so a
	// request costs no lock.
	wheelMu sync.Mutex
	wheel   *loop.Wheel

	loopsMu sync.Mutex
	loops   []gnet.EventLoop // dense loop indexes, see loopIndex
	wakeQs  []*wakeQueue     // by loop index, see wake

	conns    atomic.Int64 // open connections
	draining atomic.Bool  // Stop has begun: new requests get 503
	waiting  atomic.Int64 // connections waiting for the store to answer their change
}

// New returns a server for cfg, not yet listening. It loads every stream
// cfg.Store holds first; a record it cannot read is an error (the server
// never starts empty over data it could not read).
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		hub:      newHub(cfg),
		started0: time.Now(),
		started:  make(chan struct{}),
		done:     make(chan struct{}),
	}
	t0 := time.Now()
	n, expired, err := s.hub.load()
	if err != nil {
		s.hub.close()
		return nil, err
	}
	if n > 0 || expired > 0 {
		s.log.Info("streams loaded", "streams", n, "expired", expired, "took", time.Since(t0).Round(time.Millisecond).String())
	}
	s.tr = &transport{
		cfg:    cfg,
		log:    cfg.Logger,
		hub:    s.hub,
		srv:    s,
		m:      cfg.Metrics,
		wheel:  loop.NewWheel(cfg.Clock(), wheelResolution, wheelSlots),
		assets: newPageAssets(),
	}
	if cfg.AccessLog != nil {
		s.tr.access = newAccessLog(cfg.AccessLog)
	}
	s.tr.refreshClock(cfg.Clock())
	cfg.Metrics.registerGauges(s)
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.hub.startShared(ctx)
	return s, nil
}

// Start binds the listener and starts the event loops; it returns once the
// server accepts connections, or with the error that stopped it from doing so.
func (s *Server) Start() error {
	go func() {
		defer close(s.done)
		err := gnet.Run(s.tr, "tcp://"+s.cfg.Listen,
			gnet.WithMulticore(true),
			gnet.WithNumEventLoop(s.cfg.Loops),
			gnet.WithLoadBalancing(gnet.LeastConnections),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithReuseAddr(true), // restart at once while old connections sit in TIME_WAIT
			gnet.WithTicker(true),
			gnet.WithLogger(gnetLogger{s.log}),
		)
		s.runErr = err
		select {
		case <-s.started:
		default:
			close(s.started) // Run failed before OnBoot
		}
	}()
	select {
	case <-s.started:
	case <-s.done:
	}
	if s.tr.addr == nil {
		<-s.done
		if s.runErr == nil {
			return ErrServerClosed
		}
		return fmt.Errorf("server: listen %s: %w", s.cfg.Listen, s.runErr)
	}
	return nil
}

// Addr is the address the server listens on (valid after Start returned nil).
func (s *Server) Addr() net.Addr { return s.tr.addr }

// Stop ends the server gracefully: requests from then on are answered 503
// (Connection: close, Retry-After), the creates and changes already handed
// to the store are answered once it has them, then the listener and every
// connection close (listeners with a FIN, after the audio already queued to
// them), and Stop waits for the event loops to end, or for ctx. The store
// stays open: the caller closes it after Stop, which flushes what is queued.
func (s *Server) Stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		if s.tr.addr == nil {
			return
		}
		s.tr.draining.Store(true)
		// The answers to changes in flight go out on their loops; wait for
		// the store to report them all (bounded by ctx).
		for (s.hub.inflight.Load() > 0 || s.tr.waiting.Load() > 0) && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		s.cfg.Metrics.dropped[dropShutdown].Add(int(s.hub.listeners.Load()))
		err = s.tr.eng.Stop(ctx)
	})
	if err != nil {
		return fmt.Errorf("server: stop: %w", err)
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.cancel()
	s.hub.close()
	if s.tr.access != nil {
		s.tr.access.close()
	}
	return nil
}

// LastAdvance is when the hub's timing wheel last finished an advance (when
// a stream timer is due, and at least every 100 ms while the server runs),
// or the zero time before the first. A supervisor's watchdog pings only
// while it moves: a wedged wheel stops every stream. Safe from any
// goroutine.
func (s *Server) LastAdvance() time.Time {
	if ns := s.hub.advanced.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// OnBoot records the engine and reads back the bound address. gnet calls it once.
func (s *transport) OnBoot(eng gnet.Engine) gnet.Action {
	s.eng = eng
	fd, err := eng.Dup()
	if err != nil {
		s.log.Error("reading the listener's address", "err", err)
		return gnet.Shutdown
	}
	sa, err := syscall.Getsockname(fd)
	_ = syscall.Close(fd)
	if err != nil {
		s.log.Error("reading the listener's address", "err", err)
		return gnet.Shutdown
	}
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		s.addr = &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *syscall.SockaddrInet6:
		s.addr = &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
	default:
		s.log.Error("unexpected listener address type")
		return gnet.Shutdown
	}
	s.node = s.cfg.NodeName
	if s.node == "" {
		s.node = s.addr.String()
	}
	s.hub.node = s.node
	s.log.Info("listening", "addr", s.addr.String(), "loops", s.cfg.Loops, "node", s.node)
	close(s.srv.started)
	return gnet.None
}

// OnTick runs the housekeeping: the clock and Date bytes, connection
// deadlines, then the hub's due stream timers. gnet runs it on a goroutine
// of its own, never on a connection's loop, so it may take locks but
// touches connections only through their concurrency-safe methods. It
// sleeps until the next stream timer is due, at most housekeepingSleep.
func (s *transport) OnTick() (time.Duration, gnet.Action) {
	now := s.cfg.Clock()
	s.refreshClock(now)
	s.wheelMu.Lock()
	s.wheel.Advance(now, s.fireConn)
	s.wheelMu.Unlock()
	s.hub.advance(now)
	return s.hub.untilDue(now, s.housekeepingSleep()), gnet.None
}

// maxHousekeepingSleep bounds the sleep between two housekeeping ticks when
// no stream timer is due sooner: the coarse clock and the Date bytes are
// refreshed, and connection deadlines (seconds long) checked, at least this
// often, and the watchdog sees the wheel move. Waking every wheel slot
// (10 ms) instead cost 8–10 ms of CPU a second on an idle server here (two
// shared vCPUs: a wake-up from idle is dear), against 2–3 ms at 100 ms.
const maxHousekeepingSleep = 100 * time.Millisecond

// housekeepingSleep is the longest sleep between two housekeeping ticks:
// maxHousekeepingSleep, or Tick if shorter. A stream timer is always
// scheduled at least Tick ahead (a session's first tick; the next tick of a
// periodic one is scheduled during an advance, before the sleep is chosen),
// so none falls due in a sleep chosen before it was scheduled.
func (s *transport) housekeepingSleep() time.Duration {
	return min(maxHousekeepingSleep, s.cfg.Tick)
}

// refreshClock stores the coarse clock and the Date header bytes for now.
func (s *transport) refreshClock(now time.Time) {
	s.now.Store(now.UnixNano())
	if old := s.date.Load(); old != nil && now.Unix() == s.lastDateSec.Load() {
		return
	}
	s.lastDateSec.Store(now.Unix())
	b := appendHTTPDate(make([]byte, 0, 29), now)
	s.date.Store(&b)
}

// gnetLogger sends gnet's own logs to slog.
type gnetLogger struct{ l *slog.Logger }

func (g gnetLogger) Debugf(format string, args ...any) {}
func (g gnetLogger) Infof(format string, args ...any)  {}
func (g gnetLogger) Warnf(format string, args ...any) {
	g.l.Warn("gnet: " + fmt.Sprintf(format, args...))
}
func (g gnetLogger) Errorf(format string, args ...any) {
	g.l.Error("gnet: " + fmt.Sprintf(format, args...))
}
func (g gnetLogger) Fatalf(format string, args ...any) {
	g.l.Error("gnet (fatal): " + fmt.Sprintf(format, args...))
}

// Stats is a point-in-time count of the server's state, for /healthz and tests.
type Stats struct {
	Conns     int64 `json:"conns"`
	Streams   int   `json:"streams"`
	Listeners int64 `json:"listeners"`
	Sessions  int64 `json:"render_sessions"` // streams rendering now
	Jobs      int64 `json:"render_jobs"`     // render jobs queued or running
	Dropped   int64 `json:"dropped"`         // listeners dropped at a queue bound (their own or all together)
	Late      int64 `json:"late"`            // render jobs skipped or behind
}

// Stats returns the current counts. Safe from any goroutine.
func (s *Server) Stats() Stats {
	h := s.hub
	ps := h.pool.Stats()
	return Stats{
		Conns:     s.tr.conns.Load(),
		Streams:   h.streamCount(),
		Listeners: h.listeners.Load(),
		Sessions:  h.sessions.Load(),
		Jobs:      int64(ps.Queued + ps.Running),
		Dropped:   int64(h.m.dropped[dropQueue].Get() + h.m.dropped[dropMemory].Get()),
		Late:      int64(h.m.ticksSkipped.Get()),
	}
}

// appendStats appends st as a JSON object, with the node's name.
func appendStats(dst []byte, node string, st Stats) []byte {
	dst = append(dst, `{"status":"ok","node":`...)
	dst = appendJSONString(dst, node)
	dst = append(dst, `,"conns":`...)
	dst = strconv.AppendInt(dst, st.Conns, 10)
	dst = append(dst, `,"streams":`...)
	dst = strconv.AppendInt(dst, int64(st.Streams), 10)
	dst = append(dst, `,"listeners":`...)
	dst = strconv.AppendInt(dst, st.Listeners, 10)
	dst = append(dst, `,"render_sessions":`...)
	dst = strconv.AppendInt(dst, st.Sessions, 10)
	dst = append(dst, `,"render_jobs":`...)
	dst = strconv.AppendInt(dst, st.Jobs, 10)
	dst = append(dst, `,"dropped":`...)
	dst = strconv.AppendInt(dst, st.Dropped, 10)
	dst = append(dst, `,"late":`...)
	dst = strconv.AppendInt(dst, st.Late, 10)
	return append(dst, '}')
}
