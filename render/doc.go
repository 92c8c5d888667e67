// Package render turns a stream's settings into MP3 audio.
//
// It has three parts:
//
//   - Params, the table of rendering settings: every key's kind, range or
//     choices, default, unit and doc (Keys), their parsing and validation from
//     query-string text (Params.With), their JSON form (Params.AppendJSON),
//     their binary form for durable storage (Params.AppendBinary,
//     ParseBinary), the Anchor that pins the melody to the stream's timeline
//     (Params.StepAt, Params.Retimed), and Live, the immutable snapshot a
//     running stream swaps atomically when its settings change (Live.ApplyAt
//     retimes as it swaps).
//   - the synthesiser, which renders PCM from a Params snapshot: phase
//     continuous, click-free across parameter changes, and a function of the
//     Params (seed included) and the timeline frame, so NewSynthAt resumes a
//     stream at any frame, after a restart or on another machine.
//   - the MP3 encoder wrapper, which encodes one frame at a time.
//
// # Invariants
//
// The package knows nothing of sockets, HTTP or goroutine scheduling: it is
// called with bytes and returns bytes. Audio and output buffers are owned by
// the caller and passed in; the package keeps no reference to a caller's
// buffer after a call returns. A published Params is never modified.
// Every error about user input is a *ParamError that wraps ErrUnknownKey,
// ErrInvalidValue or ErrCreateOnly and never repeats the value it rejected;
// every error about stored bytes wraps ErrBadEncoding.
//
// A stream's timeline counts frames at its sample rate from its epoch, its
// creation. What a Synth plays at timeline frame f depends on the Params in
// force and f, not on what was rendered before: the melody's notes come from
// the seed and the step number, and Params.Anchor maps steps to frames. The
// caller (the server) keeps the timeline: it knows each stream's epoch,
// starts a Synth with NewSynthAt at the frame it resumes, and publishes each
// change with Live.ApplyAt at the frame it will first be rendered.
//
// # Non-goals
//
// No decoding, resampling or mixing of external audio; no variable bitrate,
// ID3 or ICY metadata; no audio output device; no scheduling, pacing or
// fan-out of frames (the server does that); no HTTP status codes (the server
// maps the sentinel errors to them).
package render
