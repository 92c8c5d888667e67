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

// Server is a synthcast server: a multicore gnet engine serving the HTTP
// routes, a stream registry, and the housekeeping goroutine that advances the
// timing wheel. Create it with New, then Start; Stop ends it.
type Server struct {
	gnet.BuiltinEventEngine

	cfg Config
	log *slog.Logger
	reg Registry

	eng  gnet.Engine
	addr net.Addr

	// date holds the current Date header bytes; the housekeeping goroutine
	// refreshes it, request handlers only load it.
	date atomic.Pointer[[]byte]
	// now is the coarse clock (unix nanoseconds) the loops use for deadlines,
	// refreshed with date. Reading it costs an atomic load, not a clock read.
	now         atomic.Int64
	lastDateSec atomic.Int64 // the second date was made for

	// wheelMu guards wheel. Connections schedule one timer at open and cancel
	// it at close; deadlines in between are stored atomically in the conn and
	// checked lazily when the timer fires, so a request costs no lock.
	wheelMu sync.Mutex
	wheel   *loop.Wheel

	// dueStreams collects the streams whose timers fired during one Advance,
	// to be handled after wheelMu is released (see Stream's lock order).
	dueStreams []dueStream

	pool   *loop.Pool
	sndbuf int // SO_SNDBUF of listener sockets

	loopsMu sync.Mutex
	loops   []gnet.EventLoop // dense loop indexes, see loopIndex

	conns     atomic.Int64 // open connections
	listeners atomic.Int64 // attached /stream listeners
	sessions  atomic.Int64 // streams rendering now (with at least one listener)
	dropped   atomic.Int64 // listeners dropped for exceeding the queue bound
	late      atomic.Int64 // render jobs skipped or behind (pool full, overload)

	started  chan struct{} // closed once the engine has booted (or failed to)
	done     chan struct{} // closed when gnet.Run has returned
	runErr   error
	stopOnce sync.Once
}

// New returns a server for cfg, not yet listening.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		reg:     newMemRegistry(cfg.MaxStreams),
		wheel:   loop.NewWheel(time.Now(), wheelResolution, wheelSlots),
		pool:    loop.NewPool(cfg.Workers, poolQueue),
		sndbuf:  min(max(cfg.QueueBytes/4, 16<<10), 256<<10),
		started: make(chan struct{}),
		done:    make(chan struct{}),
	}
	s.pool.SetPanicFunc(func(_ loop.Job, v any, stack []byte) {
		s.log.Error("a render job panicked; its stream goes on at the next tick", "panic", fmt.Sprint(v), "stack", string(stack))
	})
	s.refreshClock(time.Now())
	return s, nil
}

// wheelResolution and wheelSlots shape the server's timing wheel: 10 ms slots
// are fine enough to spread stream renders over a 500 ms tick, and 1024 of
// them cover ten seconds per revolution.
const (
	wheelResolution = 10 * time.Millisecond
	wheelSlots      = 1024

	// poolQueue bounds the render jobs waiting for a worker: each stream has at
	// most one queued, so this is the number of streams that can be due at
	// once before ticks are skipped (and caught up by the next).
	poolQueue = 4096
)

// Start binds the listener and starts the event loops; it returns once the
// server accepts connections, or with the error that stopped it from doing so.
func (s *Server) Start() error {
	go func() {
		defer close(s.done)
		err := gnet.Run(s, "tcp://"+s.cfg.Listen,
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
	if s.addr == nil {
		<-s.done
		if s.runErr == nil {
			return ErrServerClosed
		}
		return fmt.Errorf("server: listen %s: %w", s.cfg.Listen, s.runErr)
	}
	return nil
}

// Addr is the address the server listens on (valid after Start returned nil).
func (s *Server) Addr() net.Addr { return s.addr }

// Stop closes the listener and every connection and waits for the event
// loops to end, or for ctx.
func (s *Server) Stop(ctx context.Context) error {
	var err error
	s.stopOnce.Do(func() {
		if s.addr == nil {
			return
		}
		err = s.eng.Stop(ctx)
	})
	if err != nil {
		return fmt.Errorf("server: stop: %w", err)
	}
	select {
	case <-s.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	s.pool.Close()
	return nil
}

// Done is closed when the server has stopped.
func (s *Server) Done() <-chan struct{} { return s.done }

// OnBoot records the engine and reads back the bound address. gnet calls it once.
func (s *Server) OnBoot(eng gnet.Engine) gnet.Action {
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
	s.log.Info("listening", "addr", s.addr.String(), "loops", s.cfg.Loops)
	close(s.started)
	return gnet.None
}

// OnTick runs the housekeeping: the clock and Date bytes, then due timers.
// gnet runs it on a goroutine of its own, never on a connection's loop, so it
// may take the wheel's lock but touches connections only through their
// concurrency-safe methods.
func (s *Server) OnTick() (time.Duration, gnet.Action) {
	now := time.Now()
	s.refreshClock(now)
	s.wheelMu.Lock()
	s.wheel.Advance(now, s.fire)
	due := s.dueStreams
	s.dueStreams = s.dueStreams[:0]
	s.wheelMu.Unlock()
	for i, d := range due {
		if d.tick {
			if se := d.st.sess.Load(); se != nil {
				s.submit(se)
			}
		} else {
			d.st.expire()
		}
		due[i] = dueStream{}
	}
	return wheelResolution, gnet.None
}

// dueStream is a stream timer that fired: its tick or its time-to-live.
type dueStream struct {
	st   *Stream
	tick bool
}

// refreshClock stores the coarse clock and the Date header bytes for now.
func (s *Server) refreshClock(now time.Time) {
	s.now.Store(now.UnixNano())
	if old := s.date.Load(); old != nil && now.Unix() == s.lastDateSec.Load() {
		return
	}
	s.lastDateSec.Store(now.Unix())
	b := appendHTTPDate(make([]byte, 0, 29), now)
	s.date.Store(&b)
}

// fire handles one due timer. Called with wheelMu held, from OnTick.
func (s *Server) fire(t *loop.Timer) {
	switch v := t.Value.(type) {
	case *conn:
		s.fireConn(v, t)
	case *Stream:
		tick := t == &v.tickTimer
		if tick {
			// Periodic: the next tick keeps the stream's phase in the period,
			// so streams stay spread over the slots they started in.
			s.wheel.Schedule(t, loop.NextPeriod(t.Deadline(), time.Unix(0, s.now.Load()), s.cfg.Tick))
		}
		s.dueStreams = append(s.dueStreams, dueStream{st: v, tick: tick})
	}
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
	Dropped   int64 `json:"dropped"`         // listeners dropped at the queue bound
	Late      int64 `json:"late"`            // render jobs skipped or behind
}

// Stats returns the current counts. Safe from any goroutine.
func (s *Server) Stats() Stats {
	ps := s.pool.Stats()
	return Stats{
		Conns:     s.conns.Load(),
		Streams:   s.reg.Len(),
		Listeners: s.listeners.Load(),
		Sessions:  s.sessions.Load(),
		Jobs:      int64(ps.Queued + ps.Running),
		Dropped:   s.dropped.Load(),
		Late:      s.late.Load(),
	}
}

// appendStats appends st as a JSON object.
func appendStats(dst []byte, st Stats) []byte {
	dst = append(dst, `{"status":"ok","conns":`...)
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
