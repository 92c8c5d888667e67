package render

// Renderer produces a stream's PCM audio. Synth is the built-in one; other
// rendering code (a sample player, a different synthesiser) plugs in by
// implementing it.
//
// A Renderer is created for one stream, at a frame of its timeline (see the
// package doc), and keeps that stream's output format (sample rate and
// channel count) for its whole life. It is not safe for concurrent use: the
// stream's render job calls it from one goroutine at a time.
//
// Render renders the next len(dst)/C frames of the stream's timeline, where
// C is the renderer's channel count, as interleaved signed 16-bit samples
// into dst, which the caller owns: for stereo, dst[2i] is frame i's left
// sample and dst[2i+1] its right one. p is the stream's current Params
// snapshot; the caller passes the latest one on every call, never nil.
// Render treats *p as read-only and keeps no reference to p or dst after it
// returns. p's SampleRate, Channels and Bitrate are ignored: the format is
// the one the renderer was created with, so a p whose format differs
// changes nothing but the sound settings.
//
// Render returns n, the number of samples (not frames) it wrote, always into
// dst[:n]. The legal patterns are:
//
//   - n == len(dst): dst is full. This is the only result the built-in Synth
//     gives when len(dst) is a multiple of C.
//   - n == len(dst) - len(dst)%C: len(dst) is not a whole number of frames;
//     the trailing partial frame is left untouched.
//   - 0 <= n < len(dst), n a multiple of C, otherwise: the renderer has no
//     more audio (a finite source reached its end). dst[n:] is untouched; the
//     caller fills it with silence so its MP3 frame is complete, and later
//     calls may return 0.
//
// n is never negative and never more than len(dst). Render does not fail and
// must not panic on any Params value: out-of-range settings are clamped.
type Renderer interface {
	Render(dst []int16, p *Params) int
}

var _ Renderer = (*Synth)(nil)
