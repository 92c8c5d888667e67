package server

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// accessLog writes one line per answered request to a writer, off the
// event loops: a loop formats the line into a pooled buffer and hands it
// to a bounded queue; one goroutine writes. A full queue (a slow disk)
// drops the line and counts it, so no loop ever waits on the log.
//
// A line: time, client address, method, path, status. The query is left
// out: it carries stream tokens, which the log must not spread.
//
//	2026-11-26T21:04:05.123Z 127.0.0.1:50412 GET /set_param 200
type accessLog struct {
	w       io.Writer
	queue   chan *[]byte
	dropped atomic.Int64
	done    chan struct{}
	once    sync.Once
}

// accessLogQueue is how many lines may wait for the writer: a few seconds
// of a busy control plane.
const accessLogQueue = 8192

var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 128); return &b }}

func newAccessLog(w io.Writer) *accessLog {
	a := &accessLog{w: w, queue: make(chan *[]byte, accessLogQueue), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *accessLog) run() {
	defer close(a.done)
	for b := range a.queue {
		_, _ = a.w.Write(*b)
		*b = (*b)[:0]
		linePool.Put(b)
	}
}

// log queues one line. Any goroutine; never blocks.
func (a *accessLog) log(now time.Time, remote net.Addr, method, path []byte, status int) {
	b := linePool.Get().(*[]byte)
	l := now.UTC().AppendFormat((*b)[:0], "2006-01-02T15:04:05.000Z07:00")
	l = append(l, ' ')
	if remote != nil {
		l = append(l, remote.String()...)
	} else {
		l = append(l, '-')
	}
	l = append(l, ' ')
	l = append(l, method...)
	l = append(l, ' ')
	l = append(l, path...)
	l = append(l, ' ', byte('0'+status/100), byte('0'+status/10%10), byte('0'+status%10), '\n')
	*b = l
	select {
	case a.queue <- b:
	default:
		a.dropped.Add(1)
		*b = (*b)[:0]
		linePool.Put(b)
	}
}

// close writes what is queued and stops the writer.
func (a *accessLog) close() {
	a.once.Do(func() { close(a.queue) })
	<-a.done
}
