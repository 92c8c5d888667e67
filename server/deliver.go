package server

import (
	"context"
	"unsafe"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// Fan-out: a published batch reaches each event loop that holds listeners of
// its stream as one task (deliverTask), which writes it to every listener
// there, checking each one's queue against its bound first.
//
// What a listener costs here, per tick: one send(2) of the batch, straight
// to the socket while gnet holds none of its bytes (write(2) through gnet
// goes through the VFS layer: ~9% more CPU per call on loopback, measured),
// and no other syscall unless its queue may be near its bound; one
// atomic add per task, not per listener, for the total of queued bytes.

// deliverTask writes one batch to a stream's listeners on one event loop.
// It runs on that loop (gnet's EventLoop.Execute).
type deliverTask struct {
	h   *hub
	set *loopSet
	b   *batch
}

func (t deliverTask) Run(context.Context) error {
	h, set, b := t.h, t.set, t.b
	defer b.release()
	data := b.buf.B
	sent := 0
	var title *icyBlock // loaded once a metadata listener needs it
	if set.icy > 0 {
		title = set.st.title.Load()
	}
	bound := h.listenerBound()
	var moved int64 // change of hub.queuedTotal, added once at the end
	// Writing may close a connection (and detach it) synchronously, so walk
	// a copy of the list.
	set.scratch = append(set.scratch[:0], set.list...)
	for _, l := range set.scratch {
		if l.closed || b.seq < l.from {
			continue
		}
		queued := h.queued(l, len(data))
		moved += int64(queued - l.queued)
		l.queued = queued
		if queued+len(data) > bound {
			reason := dropQueue
			if queued+len(data) <= h.cfg.QueueBytes {
				reason = dropMemory
			}
			h.drop(l, reason, queued, bound)
			continue
		}
		if l.icy.on {
			set.views = l.icy.appendViews(set.views[:0], data, title)
			_, _ = l.gc.Writev(set.views)
			clear(set.views)
			l.drained = false // gnet may have kept some: ask before the next
		} else {
			l.write(data)
		}
		sent++
	}
	if moved != 0 {
		h.queuedTotal.Add(moved)
	}
	h.m.sentBytes.Add(sent * len(data))
	h.m.sentFrames.Add(sent * len(b.ends))
	clear(set.scratch)
	set.scratch = set.scratch[:0]
	return nil
}

// write sends p to l: with one send(2) on its socket while gnet holds none
// of l's bytes, else through gnet (Conn.Write), which queues it behind them.
// What the kernel does not take goes to gnet, as does a send that fails, so
// gnet meets the error and closes the connection as it does for its own
// writes (synchronously: OnClose detaches l). Loop goroutine of l only: gnet
// closes the socket on this goroutine too, after OnClose has marked l closed,
// so the descriptor written to is l's.
func (l *listener) write(p []byte) {
	if l.drained {
		n, err := send(l.gc.Fd(), p)
		if n == len(p) {
			return
		}
		if err == nil || err == unix.EAGAIN {
			p = p[n:]
		}
	}
	_, _ = l.gc.Write(p)
	l.drained = false
}

// send is send(2) of p on the non-blocking socket fd, without SIGPIPE: the
// bytes the kernel took, or the error. Unlike unix.Sendto it reports a
// partial send. It allocates nothing.
func send(fd int, p []byte) (int, error) {
	if fd < 0 {
		return 0, unix.EBADF
	}
	if len(p) == 0 {
		return 0, nil
	}
	for {
		n, _, errno := unix.Syscall6(unix.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(unsafe.SliceData(p))), uintptr(len(p)),
			unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, 0, 0)
		switch errno {
		case 0:
			return int(n), nil
		case unix.EINTR:
			continue
		}
		return 0, errno
	}
}

// listenerBound is the queued bytes a listener may have now: QueueBytes
// while all listeners' queues together are within MaxQueuedBytes, less in
// proportion past it (never under minListenerBound), so the listeners
// furthest behind pass it, and are dropped, first. Any goroutine.
func (h *hub) listenerBound() int {
	total := h.queuedTotal.Load()
	if total <= h.cfg.MaxQueuedBytes {
		return h.cfg.QueueBytes
	}
	return max(int(int64(h.cfg.QueueBytes)*h.cfg.MaxQueuedBytes/total), minListenerBound)
}

// minListenerBound is the least a listener may queue when memory is short:
// a quarter second of 320 kbit/s, so one tick's delivery always fits.
const minListenerBound = 16 << 10

// drop disconnects a listener that fell too far behind: with a reset
// (SO_LINGER 0), so the kernel discards its queue at once instead of
// draining stale audio to it, and its memory is freed now. Its loop only.
func (h *hub) drop(l *listener, reason, queued, bound int) {
	l.closed = true
	h.m.dropped[reason].Inc()
	h.log.Info("dropping a slow listener", "id", l.st.id, "reason", dropNames[reason], "queued", queued, "bound", bound)
	_ = l.gc.SetLinger(0)
	_ = l.gc.Close()
}

// queued is how many bytes l holds unsent, as far as the bound on queued
// bytes needs to know before n more are written: gnet's buffer plus the
// kernel's send queue. gnet's buffer is asked about only while it may hold
// some (not l.drained). While it is empty the kernel's queue is within its
// SO_SNDBUF (the kernel allows twice the value set), and when that cannot
// reach the bound the ioctl is skipped: one syscall fewer per listener and
// tick (38,000 a second at 19,000 listeners). Loop goroutine of l only.
func (h *hub) queued(l *listener, n int) int {
	ob := 0
	if !l.drained {
		ob = l.gc.OutboundBuffered()
		l.drained = ob == 0
	}
	if ob == 0 && 2*h.sndbuf+n <= h.cfg.QueueBytes {
		return 0
	}
	return ob + kernelQueued(l.gc)
}

// kernelQueued is the number of bytes in gc's kernel send queue not yet
// acknowledged by the peer (SIOCOUTQ), or 0 if it cannot be read.
func kernelQueued(gc gnet.Conn) int {
	n, err := unix.IoctlGetInt(gc.Fd(), unix.SIOCOUTQ)
	if err != nil {
		return 0
	}
	return n
}
