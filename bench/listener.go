package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// bufPool holds read buffers of readBufSize.
var bufPool = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// listenRun is the state shared by a listen run's listeners.
type listenRun struct {
	steadyStart, steadyEnd time.Time
	icy                    bool // listeners ask for ICY metadata and strip it

	active  atomic.Int64 // listeners receiving their body now
	failed  atomic.Int64
	early   atomic.Int64
	stalled atomic.Int64 // listeners that have stalled at least once
	bytes   atomic.Int64
}

// listener phases.
const (
	phaseHead = iota
	phaseBody
	phaseDone
)

// outcomes.
const (
	outcomeNone = iota
	outcomeOK
	outcomeFailed
	outcomeEarly
)

// listener is one simulated player. Its fields are written by its own
// goroutine only, and read by the reporter after the run.
type listener struct {
	run  *listenRun
	req  []byte // the request, shared by the listeners of one target
	addr string
	src  net.Addr // source address, nil for the system's choice

	phase   int
	outcome int
	why     string // failure reason

	dialAt, connAt, headAt, firstByte, end time.Time
	head                                   []byte // response head being read; nil after it

	icy         icyStripper // with -icy, takes the metadata out before w
	w           frameWalker
	bytes       int64
	lastAudioAt time.Time // last read that completed audio
	burst       float64
	burstDone   bool
	leadMin     float64
	leadMax     float64
	leadN       int
	inStall     bool
	stallEvents int
}

func (l *listener) fail(why string, now time.Time) {
	l.phase, l.outcome, l.why, l.end = phaseDone, outcomeFailed, why, now
	l.run.failed.Add(1)
}

// connect runs the listener until its connection ends or the steady window
// does. ctx bounds dialing.
func (l *listener) connect(ctx context.Context) {
	d := net.Dialer{Timeout: dialTimeout, KeepAlive: -1, LocalAddr: l.src}
	l.dialAt = time.Now()
	c, err := d.DialContext(ctx, "tcp", l.addr)
	if err != nil {
		l.fail("dial", time.Now())
		return
	}
	defer c.Close()
	tc := c.(*net.TCPConn)
	l.connAt = time.Now()
	_ = tc.SetDeadline(minTime(l.run.steadyEnd, l.connAt.Add(headTimeout)))
	if _, err := tc.Write(l.req); err != nil {
		l.fail("write", time.Now())
		return
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		l.fail("conn", time.Now())
		return
	}
	read := l.onReadable
	for l.phase != phaseDone {
		wasHead := l.phase == phaseHead
		if err := rc.Read(read); err != nil {
			l.finish(time.Now(), err)
			return
		}
		if wasHead && l.phase == phaseBody {
			_ = tc.SetDeadline(l.run.steadyEnd)
		}
	}
}

// onReadable reads once into a pooled buffer and handles the bytes. It is
// the RawConn read callback: false means "nothing to read, wait".
func (l *listener) onReadable(fd uintptr) bool {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	var n int
	var err error
	for {
		n, err = syscall.Read(int(fd), *bp)
		if err != syscall.EINTR {
			break
		}
	}
	if err == syscall.EAGAIN {
		return false
	}
	now := time.Now()
	switch {
	case err != nil:
		l.finish(now, err)
	case n == 0:
		l.finish(now, io.EOF)
	case l.phase == phaseHead:
		l.onHead((*bp)[:n], now)
	default:
		l.onBody((*bp)[:n], now)
	}
	return true
}

// onHead collects the response head and checks its status: 200, from
// "HTTP/1.1 200", "HTTP/1.0 200" (Icecast) or "ICY 200"; with -icy, also
// "icy-metaint: 16000".
func (l *listener) onHead(p []byte, now time.Time) {
	if l.head == nil {
		l.head = make([]byte, 0, 1024)
	}
	l.head = append(l.head, p...)
	end := headEnd(l.head)
	if end < 0 {
		if len(l.head) > maxRespHead {
			l.fail("head too large", now)
		}
		return
	}
	l.headAt = now
	if code := statusCode(l.head); code != 200 {
		l.fail("status "+strconv.Itoa(code), now)
		return
	}
	if l.run.icy {
		if headMetaInt(l.head[:end]) != icyMetaInt {
			l.fail("no icy-metaint: 16000", now)
			return
		}
		l.icy.reset(icyMetaInt)
	}
	l.phase = phaseBody
	l.run.active.Add(1)
	body := l.head[end:]
	l.head = nil
	if len(body) > 0 {
		l.onBody(body, now)
	}
}

// headEnd returns the offset just past the blank line ending a response
// head (CRLF or bare LF line ends), or -1.
func headEnd(b []byte) int {
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		return i + 4
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		return i + 2
	}
	return -1
}

// statusCode returns the status code of a response head's first line, or 0.
func statusCode(head []byte) int {
	line, _, _ := bytes.Cut(head, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 2 || !(bytes.HasPrefix(f[0], []byte("HTTP/1.")) || string(f[0]) == "ICY") {
		return 0
	}
	code, err := strconv.Atoi(string(f[1]))
	if err != nil || code < 100 || code > 999 {
		return 0
	}
	return code
}

// onBody walks one read's audio, with -icy once the metadata is taken out,
// and updates the listener's figures.
func (l *listener) onBody(p []byte, now time.Time) {
	if l.firstByte.IsZero() {
		l.firstByte = now
	}
	l.bytes += int64(len(p))
	l.run.bytes.Add(int64(len(p)))
	el := now.Sub(l.firstByte).Seconds()
	before := l.w.audio
	l.sampleLead(before-el, now, true)
	if l.icy.interval == 0 {
		l.w.Write(p)
	} else {
		for len(p) > 0 {
			var audio []byte
			audio, p = l.icy.next(p)
			l.w.Write(audio)
		}
	}
	if got := l.w.audio - before; got > 0 {
		if !l.burstDone && !l.lastAudioAt.IsZero() && got <= burstRate*now.Sub(l.lastAudioAt).Seconds() {
			l.burst, l.burstDone = before, true
		}
		l.lastAudioAt = now
		l.sampleLead(l.w.audio-el, now, false)
	}
}

// sampleLead records a lead (seconds of audio held minus seconds played,
// for a player started at the first byte) observed at now: before a read's
// audio (low, the buffer just before a refill) or after it (high). Leads
// count from stallGrace after the first byte; min and max only inside the
// steady window, stalls at any time.
func (l *listener) sampleLead(lead float64, now time.Time, low bool) {
	if now.Sub(l.firstByte) < stallGrace {
		return
	}
	if low && lead < 0 && !l.inStall {
		l.inStall = true
		if l.stallEvents == 0 {
			l.run.stalled.Add(1)
		}
		l.stallEvents++
	} else if !low && lead >= 0 {
		l.inStall = false
	}
	if now.Before(l.run.steadyStart) || now.After(l.run.steadyEnd) {
		return
	}
	if l.leadN == 0 {
		l.leadMin, l.leadMax = lead, lead
	}
	l.leadN++
	if low {
		l.leadMin = min(l.leadMin, lead)
	} else {
		l.leadMax = max(l.leadMax, lead)
	}
}

// finish ends the listener on a read error, end of file or deadline.
func (l *listener) finish(now time.Time, err error) {
	if l.phase == phaseDone {
		return
	}
	if l.phase == phaseHead {
		why := "head: " + errWord(err)
		l.fail(why, now)
		return
	}
	l.run.active.Add(-1)
	l.phase, l.end = phaseDone, now
	// The last sample: what a player would hold at the end.
	if !l.firstByte.IsZero() {
		at := minTime(now, l.run.steadyEnd)
		l.sampleLead(l.w.audio-at.Sub(l.firstByte).Seconds(), at, true)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) && !now.Before(l.run.steadyEnd) {
		l.outcome = outcomeOK
		return
	}
	l.outcome, l.why = outcomeEarly, errWord(err)
	l.run.early.Add(1)
}

// errWord names an error class for failure counts.
func errWord(err error) string {
	switch {
	case errors.Is(err, io.EOF):
		return "closed"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, syscall.ECONNRESET):
		return "reset"
	}
	return "error"
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
