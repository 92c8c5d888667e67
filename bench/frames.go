package main

import (
	"bytes"

	"github.com/synthcast/synthcast/render"
)

// Frame walker limits.
const (
	// maxFrameLen is the longest Layer III frame ParseFrameHeader admits:
	// MPEG-1 at 320 kbit/s and 32 kHz, padded (144·320000/32000 + 1).
	maxFrameLen = 1441

	// maxPending bounds the bytes a walker keeps between writes: a candidate
	// frame and the next header, which a resync needs to confirm it.
	maxPending = maxFrameLen + render.FrameHeaderLen

	// carryCap is the capacity of the carry-over buffer: the pending bytes
	// plus as much of the next write again, so each pass over it frees room.
	carryCap = 2 * maxPending
)

// frameHook is called for each frame once all of it has arrived, before its
// audio counts. pos is the audio position of the frame's first sample, in
// seconds since the first frame. frame (header included) is valid only
// during the call.
type frameHook func(h render.FrameHeader, frame []byte, pos float64)

// frameWalker follows MPEG Layer III frames through a byte stream delivered
// in arbitrary pieces. Between pieces it keeps only the bytes it cannot
// judge yet, at most maxPending: a partial header, a candidate frame during
// a search, or with a hook a partial frame. It never keeps audio it has
// walked.
//
// It starts searching for a frame: bytes before the first confirmed frame
// are skipped, not a sync loss (a relay such as Icecast may start a listener
// mid-frame). Once in sync, it expects a header where each frame ends; a
// byte there that does not start a valid header is one sync loss, after
// which it searches again. A search accepts a candidate header only if
// another header with the same version and sample rate follows it where the
// candidate frame ends, so a stray 0xFF in audio data does not fake sync.
//
// A frame's audio counts once its last byte has arrived. The zero value is
// ready to use; a frameWalker is not safe for concurrent use.
type frameWalker struct {
	hook frameHook // optional; with a hook, frames are carried over whole

	buf    []byte  // carry-over at a frame boundary or during a search; cap carryCap
	skip   int     // bytes of the current frame still to come
	cur    float64 // seconds of audio in the current frame
	inSync bool    // the next byte at a boundary must start a header

	frames     int64
	syncLosses int64
	skipped    int64   // bytes discarded while searching for a frame
	audio      float64 // seconds of audio in complete frames
}

// Write feeds p to the walker. It never fails and does not retain p.
func (w *frameWalker) Write(p []byte) {
	// Slow path: finish what the last write left over with a prefix of p.
	for len(w.buf) > 0 && len(p) > 0 {
		old := len(w.buf)
		k := min(len(p), cap(w.buf)-old)
		w.buf = append(w.buf, p[:k]...)
		n := w.consume(w.buf)
		if n >= old {
			// The carried bytes are used up: go on from p itself, at its
			// first byte consume did not take.
			p = p[n-old:]
			w.buf = w.buf[:0]
			break
		}
		// Still inside the carried bytes (a search): keep the rest.
		p = p[k:]
		w.buf = w.buf[:copy(w.buf, w.buf[n:])]
	}
	if len(p) == 0 {
		return
	}
	n := w.consume(p)
	if n < len(p) {
		if w.buf == nil {
			w.buf = make([]byte, 0, carryCap)
		}
		w.buf = append(w.buf, p[n:]...)
	}
}

// consume runs the walker over d as far as d allows and returns how many
// bytes it used; the rest (at most maxPending bytes) must be offered again,
// followed by more.
func (w *frameWalker) consume(d []byte) int {
	off := 0
	for off < len(d) {
		if w.skip > 0 {
			n := min(w.skip, len(d)-off)
			w.skip -= n
			off += n
			if w.skip == 0 {
				w.frames++
				w.audio += w.cur
			}
			continue
		}
		rest := d[off:]
		if !w.inSync {
			i, need := w.search(rest)
			w.skipped += int64(i)
			off += i
			if need {
				return off
			}
			w.inSync = true
			continue
		}
		h, err := render.ParseFrameHeader(rest)
		if err == nil {
			if w.hook != nil {
				// The hook needs the whole frame: wait for it (at most
				// maxFrameLen bytes carried over).
				if len(rest) < h.Length {
					return off
				}
				w.hook(h, rest[:h.Length], w.audio)
			}
			w.cur = float64(h.Samples) / float64(h.SampleRate)
			w.skip = h.Length
			continue
		}
		if len(rest) < render.FrameHeaderLen {
			return off
		}
		w.syncLosses++
		w.inSync = false
	}
	return off
}

// search looks in d for a frame header confirmed by the next one. It returns
// the offset of the header (need false), or the number of bytes that cannot
// start one and may be dropped (need true: the rest needs more bytes).
func (w *frameWalker) search(d []byte) (int, bool) {
	from := 0
	for {
		i := bytes.IndexByte(d[from:], 0xff)
		if i < 0 {
			return len(d), true
		}
		i += from
		h, err := render.ParseFrameHeader(d[i:])
		if err != nil {
			if len(d)-i < render.FrameHeaderLen {
				return i, true
			}
			from = i + 1
			continue
		}
		if len(d)-i < h.Length+render.FrameHeaderLen {
			return i, true
		}
		if n, err := render.ParseFrameHeader(d[i+h.Length:]); err == nil &&
			n.Version == h.Version && n.SampleRate == h.SampleRate {
			return i, false
		}
		from = i + 1
	}
}
