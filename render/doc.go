// Package render turns a stream's settings into MP3 audio.
//
// It has three parts:
//
//   - Params, the table of rendering settings: every key's kind, range or
//     choices, default, unit and doc (Keys), their parsing and validation from
//     query-string text (Params.With), their JSON form (Params.AppendJSON),
//     and Live, the immutable snapshot a running stream swaps atomically when
//     its settings change.
//   - the synthesiser, which renders PCM from a Params snapshot: phase
//     continuous, click-free across parameter changes, deterministic for a
//     given seed.
//   - the MP3 encoder wrapper, which encodes one frame at a time.
//
// # Invariants
//
// The package knows nothing of sockets, HTTP or goroutine scheduling: it is
// called with bytes and returns bytes. Audio and output buffers are owned by
// the caller and passed in; the package keeps no reference to a caller's
// buffer after a call returns. A published Params is never modified.
// Every error about user input is a *ParamError that wraps ErrUnknownKey,
// ErrInvalidValue or ErrCreateOnly and never repeats the value it rejected.
//
// # Non-goals
//
// No decoding, resampling or mixing of external audio; no variable bitrate,
// ID3 or ICY metadata; no audio output device; no scheduling, pacing or
// fan-out of frames (the server does that); no HTTP status codes (the server
// maps the sentinel errors to them).
package render
