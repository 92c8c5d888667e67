package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// listen -reconnect limits.
const (
	// reconnectMinBackoff is the wait before the first attempt after a
	// stream is lost: short, as players that reconnect do (ffmpeg's first
	// retry is immediate); a proxy in front sends it to another node.
	reconnectMinBackoff = 50 * time.Millisecond
	// reconnectMaxBackoff caps the wait, doubled after each attempt that
	// brings no audio.
	reconnectMaxBackoff = time.Second
	// maxReconnectTries is how many attempts in a row without audio a
	// listener makes before it gives up: about 15 s at the backoffs above.
	maxReconnectTries = 20
)

// reconnects is one listener's history under -reconnect. It is written by
// the listener's goroutine only and read after the run.
type reconnects struct {
	tries  int       // connections attempted after the first
	gaps   []float64 // per stream lost: ms from the loss to the next audio byte
	gaveUp bool      // maxReconnectTries in a row brought no audio
}

// connectAgain runs l as connect does and, whenever its stream is lost
// before the steady window ends (the body ended or was reset, a connection
// or its answer failed), connects again after a backoff, as a player that
// reconnects does, until the window ends or maxReconnectTries attempts in a
// row bring no audio. A stream is lost when a connection that brought
// audio ends; the gap runs from then to the next connection's first body
// byte.
//
// The listener's figures then describe the whole listen: connect, head and
// TTFB are those of the first connection that brought audio; bytes, audio,
// frames, sync losses, ICY blocks, stalls and leads add up over
// connections, and listener-seconds run from the first byte to the last
// connection's end, gaps included. Lead is a player's that starts its
// buffer afresh at each connection's first byte: stalls count while
// connected, and time without a connection is the gap. The outcome is the
// last connection's: ok if it lasted to the end of the window.
func (l *listener) connectAgain(ctx context.Context, rc *reconnects) {
	l.connect(ctx)
	var first timing // of the first connection that brought audio
	var sum tally    // the walkers' and strippers' counts of earlier connections
	var lost time.Time
	backoff := reconnectMinBackoff
	inARow := 0
	for {
		if !l.firstByte.IsZero() { // this connection brought audio
			if first.firstByte.IsZero() {
				first = l.timing()
			}
			if !lost.IsZero() {
				rc.gaps = append(rc.gaps, ms(l.firstByte.Sub(lost)))
			}
			lost, backoff, inARow = l.end, reconnectMinBackoff, 0
		}
		if l.outcome == outcomeOK || ctx.Err() != nil || !time.Now().Before(l.run.steadyEnd) {
			break
		}
		if inARow == maxReconnectTries {
			rc.gaveUp = true
			break
		}
		// Lost: the run's live counters drop this outcome, as it is not final.
		switch l.outcome {
		case outcomeEarly:
			l.run.early.Add(-1)
		case outcomeFailed:
			l.run.failed.Add(-1)
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, reconnectMaxBackoff)
		sum.add(l)
		l.phase, l.outcome, l.why, l.head = phaseHead, outcomeNone, "", nil
		l.firstByte, l.lastAudioAt, l.inStall = time.Time{}, time.Time{}, false
		l.w = frameWalker{} // the new body starts at a frame of its own
		// The stripper's counts are in sum now: a try that fails before its
		// head (which resets the stripper) must not add them again.
		l.icy = icyStripper{carry: l.icy.carry[:0]}
		rc.tries++
		inARow++
		l.connect(ctx)
	}
	sum.add(l)
	sum.restore(l)
	if !first.firstByte.IsZero() {
		l.dialAt, l.connAt, l.headAt, l.firstByte = first.dialAt, first.connAt, first.headAt, first.firstByte
	}
}

// timing is a connection's times, kept from the first one.
type timing struct{ dialAt, connAt, headAt, firstByte time.Time }

func (l *listener) timing() timing { return timing{l.dialAt, l.connAt, l.headAt, l.firstByte} }

// tally sums what a listener's frame walker and ICY stripper count, over
// the connections a reconnecting listener has made.
type tally struct {
	frames, syncLosses, skipped   int64
	audio                         float64
	blocks, titles, changes, bads int64
}

func (s *tally) add(l *listener) {
	s.frames += l.w.frames
	s.syncLosses += l.w.syncLosses
	s.skipped += l.w.skipped
	s.audio += l.w.audio
	s.blocks += l.icy.blocks
	s.titles += l.icy.titles
	s.changes += l.icy.changes
	s.bads += l.icy.bad
}

// restore puts the sums in l's walker and stripper, for the report.
func (s *tally) restore(l *listener) {
	l.w.frames, l.w.syncLosses, l.w.skipped, l.w.audio = s.frames, s.syncLosses, s.skipped, s.audio
	l.icy.blocks, l.icy.titles, l.icy.changes, l.icy.bad = s.blocks, s.titles, s.changes, s.bads
}

// reconnectReport is listen -reconnect's part of the JSON line.
type reconnectReport struct {
	Listeners int     `json:"listeners"` // listeners that lost their stream at least once
	Tries     int     `json:"tries"`     // connections attempted after each listener's first
	Gaps      int     `json:"gaps"`      // streams lost and found again
	GapMs     summary `json:"gap_ms"`    // loss to the next audio byte: p50, p99, max over gaps
	GaveUp    int     `json:"gave_up"`   // listeners that stopped after maxReconnectTries in a row
}

// summarizeReconnects reports the listeners' reconnect histories.
func summarizeReconnects(rcs []reconnects) *reconnectReport {
	rep := &reconnectReport{}
	var gaps []float64
	for _, rc := range rcs {
		if rc.tries > 0 {
			rep.Listeners++
		}
		rep.Tries += rc.tries
		gaps = append(gaps, rc.gaps...)
		if rc.gaveUp {
			rep.GaveUp++
		}
	}
	rep.Gaps = len(gaps)
	rep.GapMs = roundSummary(summarize(gaps))
	return rep
}

func printReconnects(w io.Writer, r *reconnectReport) {
	fmt.Fprintf(w, "  reconnects   %d listener(s) lost their stream: %d attempt(s), %d found again, %d gave up; gap ms p50 %.1f  p99 %.1f  max %.1f   (stream lost -> next audio byte)\n",
		r.Listeners, r.Tries, r.Gaps, r.GaveUp, r.GapMs.P50, r.GapMs.P99, r.GapMs.Max)
}
