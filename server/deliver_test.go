package server

import (
	"bytes"
	"context"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/synthcast/synthcast/store"
)

// fdConn is a listener's connection with a real socket under it (one end of
// a socketpair): what send writes straight to arrives at the other end,
// what goes through gnet (Write) is collected apart.
type fdConn struct {
	fakeConn
	fd int
}

func (c *fdConn) Fd() int { return c.fd }

// socketPair returns the two ends of a local stream socket, the first
// non-blocking with a small send buffer, both closed at the test's end.
func socketPair(t *testing.T) (local, peer int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Skipf("socketpair: %v", err)
	}
	t.Cleanup(func() { _ = unix.Close(fds[0]); _ = unix.Close(fds[1]) })
	if err := unix.SetNonblock(fds[0], true); err != nil {
		t.Fatal(err)
	}
	if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF, 16<<10); err != nil {
		t.Fatal(err)
	}
	return fds[0], fds[1]
}

// readAvail reads what fd has ready without blocking.
func readAvail(t *testing.T, fd int) []byte {
	t.Helper()
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, unix.MSG_DONTWAIT)
		if n <= 0 || err != nil {
			return out
		}
		out = append(out, buf[:n]...)
	}
}

// A drained listener is written with send(2), straight to its socket; one
// whose gnet buffer may hold bytes goes through gnet, behind them; what the
// kernel does not take goes to gnet too, and the listener is no longer
// drained until its buffer is seen empty.
func TestListenerWrite(t *testing.T) {
	p := bytes.Repeat([]byte("0123456789abcdef"), 500) // 8,000 bytes, a tick at 128 kbit/s
	t.Run("drained", func(t *testing.T) {
		local, peer := socketPair(t)
		c := &fdConn{fd: local}
		l := &listener{gc: c, drained: true}
		l.write(p)
		if got := readAvail(t, peer); !bytes.Equal(got, p) || len(c.got) != 0 || !l.drained {
			t.Errorf("drained write: peer got %d bytes, gnet %d, drained %v; want %d, 0, true", len(got), len(c.got), l.drained, len(p))
		}
	})
	t.Run("not drained", func(t *testing.T) {
		local, peer := socketPair(t)
		c := &fdConn{fd: local}
		l := &listener{gc: c}
		l.write(p)
		if got := readAvail(t, peer); len(got) != 0 || !bytes.Equal(c.got, p) || l.drained {
			t.Errorf("write behind gnet's buffer: peer got %d bytes, gnet %d, drained %v; want 0, %d, false", len(got), len(c.got), l.drained, len(p))
		}
	})
	t.Run("kernel full", func(t *testing.T) {
		local, peer := socketPair(t)
		c := &fdConn{fd: local}
		l := &listener{gc: c, drained: true}
		for range 64 { // far past the 16 KiB send buffer: the peer reads nothing
			l.drained = true
			c.got = c.got[:0]
			l.write(p)
			if len(c.got) > 0 {
				break
			}
		}
		if len(c.got) == 0 || l.drained {
			t.Fatalf("the kernel took 512 KB into a 16 KiB buffer: gnet got %d bytes, drained %v", len(c.got), l.drained)
		}
		sent := readAvail(t, peer)
		// Every byte went one way or the other, in order: the kernel's share
		// is a prefix of the last write, gnet's the rest of it.
		if tail := sent[len(sent)-(len(p)-len(c.got)):]; !bytes.Equal(append(tail, c.got...), p) {
			t.Errorf("the last write was split wrongly between the kernel and gnet")
		}
	})
	t.Run("peer gone", func(t *testing.T) {
		local, peer := socketPair(t)
		_ = unix.Close(peer)
		c := &fdConn{fd: local}
		l := &listener{gc: c, drained: true}
		l.write(p) // no SIGPIPE; gnet's own write meets the error (and closes)
		if !bytes.Equal(c.got, p) {
			t.Errorf("after a failed send gnet got %d bytes; want all %d, to fail on and close", len(c.got), len(p))
		}
	})
}

// A drained listener's queue is not asked of gnet: deliveries to listeners
// that keep up cost no call but the send.
func TestQueuedAsksGnetOnlyWhenNotDrained(t *testing.T) {
	h := testHub(t, store.NewMemory(), newClock(), time.Minute)
	c := &countingConn{}
	l := &listener{gc: c}
	if q := h.queued(l, 8000); q != 0 || c.asked != 1 || !l.drained {
		t.Fatalf("first look: queued %d, asked gnet %d times, drained %v; want 0, 1, true", q, c.asked, l.drained)
	}
	for range 3 {
		h.queued(l, 8000)
	}
	if c.asked != 1 {
		t.Errorf("asked gnet %d times in 4 looks at a drained listener; want 1", c.asked)
	}
	l.drained, c.buffered = false, 5000
	if q := h.queued(l, 8000); c.asked != 2 || l.drained || q < 5000 {
		t.Errorf("not drained: queued %d, asked %d, drained %v; want ≥ 5000, 2, false", q, c.asked, l.drained)
	}
}

// countingConn counts the questions about gnet's buffer and discards writes.
type countingConn struct {
	fakeConn
	asked    int
	buffered int
	writes   int
}

func (c *countingConn) OutboundBuffered() int           { c.asked++; return c.buffered }
func (c *countingConn) Write(b []byte) (int, error)     { c.writes++; return len(b), nil }
func (c *countingConn) Writev(bs [][]byte) (int, error) { c.writes++; return 0, nil }

// The housekeeping wakes for the next stream tick, at the end of the 10 ms
// interval it falls in, so ticks due close together fire in one advance; it
// sleeps at most its limit when none is near, and never zero.
func TestUntilDue(t *testing.T) {
	clk := newClock()
	h := testHub(t, store.NewMemory(), clk, time.Minute)
	now := clk.Now()
	limit := 100 * time.Millisecond
	if d := h.untilDue(now, limit); d != limit {
		t.Errorf("no stream ticking: untilDue = %v; want %v", d, limit)
	}
	base := now.Truncate(wheelResolution).Add(10 * wheelResolution) // an interval's start, 90–100 ms ahead
	var a, b Stream
	h.wheelMu.Lock()
	h.wheel.Schedule(&a.tickTimer, base.Add(2*time.Millisecond))
	h.wheel.Schedule(&b.tickTimer, base.Add(7*time.Millisecond))
	h.wheelMu.Unlock()
	if d, want := h.untilDue(now, time.Second), base.Add(wheelResolution).Sub(now); d != want {
		t.Errorf("two ticks in one interval: untilDue = %v; want %v (its end, for both)", d, want)
	}
	if d := h.untilDue(now, 50*time.Millisecond); d != 50*time.Millisecond {
		t.Errorf("ticks past the limit: untilDue = %v; want the limit, 50ms", d)
	}
	if d := h.untilDue(base.Add(15*time.Millisecond), time.Second); d < minSleep || d > wheelResolution {
		t.Errorf("ticks overdue: untilDue = %v; want in [%v, %v]", d, minSleep, wheelResolution)
	}
}

// A delivery reaches every listener once and counts what it sent.
func TestDeliverTask(t *testing.T) {
	h := testHub(t, store.NewMemory(), newClock(), time.Minute)
	st := mustCreate(t, h)
	set, conns := testLoopSet(st, 5)
	b := testBatch(8000)
	b.refs.Add(1)
	_ = deliverTask{h: h, set: set, b: b}.Run(context.Background())
	for i, c := range conns {
		if c.writes != 1 {
			t.Errorf("listener %d written %d times; want 1", i, c.writes)
		}
	}
	if got := h.m.sentBytes.Get(); got != 5*8000 {
		t.Errorf("sent bytes counted %d; want %d", got, 5*8000)
	}
	b.release()
}

// testLoopSet returns a loop's set of n listeners of st on counting conns.
func testLoopSet(st *Stream, n int) (*loopSet, []*countingConn) {
	set := &loopSet{st: st}
	conns := make([]*countingConn, n)
	for i := range conns {
		conns[i] = &countingConn{}
		l := &listener{gc: conns[i], st: st, set: set, idx: i}
		set.list = append(set.list, l)
		set.n++
	}
	return set, conns
}

// testBatch returns a batch of one frame of n bytes, sequence 1.
func testBatch(n int) *batch {
	b := newBatch(0, 0)
	b.buf.B = append(b.buf.B[:0], make([]byte, n)...)
	b.ends = append(b.ends, int32(n))
	b.seq = 1
	return b
}
