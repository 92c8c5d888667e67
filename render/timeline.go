package render

import "math"

// Anchor pins the melody to a stream's timeline: at timeline frame Frame the
// melody was at step Step, and it moves on at the Params' Tempo from there.
//
// Timeline frames are counted at the stream's sample rate from its epoch,
// the stream's creation; steps are the melody's eighth notes, counted from
// the epoch, and fractional between onsets. The zero Anchor is step 0 at
// frame 0: a stream whose tempo never changed keeps it.
//
// An Anchor is not a key: the parameter table, With, Validate, AppendJSON
// and Live.Apply ignore it, and With and Apply carry it over unchanged.
// Retimed, and Live.ApplyAt through it, set it; AppendBinary stores it.
type Anchor struct {
	Frame int64   // a timeline frame, in [-MaxAnchorFrame, MaxAnchorFrame]
	Step  float64 // the melody's step position at Frame, finite, in [-MaxAnchorStep, MaxAnchorStep]
}

// Bounds of a usable Anchor; ParseBinary rejects one outside them, and the
// synthesiser treats one outside them as the zero Anchor.
const (
	// MaxAnchorFrame is 2^52 frames, 3,200 years at 44.1 kHz: frame
	// differences stay exact in a float64.
	MaxAnchorFrame = 1 << 52

	// MaxAnchorStep is 2^36 steps, 218 years at 300 bpm: a float64 that
	// large still resolves 2^-16 of a step, 0.17 frames at 120 bpm and
	// 44.1 kHz and 4.4 at worst (20 bpm, 192 kHz), so onsets stay where the
	// tempo puts them.
	MaxAnchorStep = 1 << 36
)

// valid reports whether a is within the bounds above and finite.
func (a Anchor) valid() bool {
	return a.Frame >= -MaxAnchorFrame && a.Frame <= MaxAnchorFrame &&
		a.Step >= -MaxAnchorStep && a.Step <= MaxAnchorStep // false for NaN
}

// StepAt returns the melody's step position at timeline frame frame:
// Anchor.Step + (frame − Anchor.Frame)/F, where F = round(SampleRate·30/Tempo)
// is the whole number of frames in one step. Step k starts at the first frame
// where StepAt reaches k (to within rounding in the last bit: the synthesiser
// uses the exact integer frame Anchor.Frame + ⌈(k − Anchor.Step)·F⌉).
//
// Out-of-range values are read as the synthesiser reads them: a sample rate
// outside 8000..192000 Hz as 44100, a tempo clamped to 10..600 bpm, an
// invalid Anchor as the zero Anchor.
func (p *Params) StepAt(frame int64) float64 {
	return p.timeline(synthRate(p.SampleRate)).stepAt(frame)
}

// Retimed returns a copy of p, the snapshot that replaces prev from timeline
// frame frame on (the first frame rendered with it), whose Anchor keeps the
// melody's position continuous at frame: if p's step length differs from
// prev's (a tempo change), Anchor{frame, prev.StepAt(frame)}; otherwise
// prev's Anchor. So no step is skipped or played twice, and after frame the
// steps follow at p's tempo. prev and p are snapshots of one stream (the
// same sample rate); Live.ApplyAt calls Retimed as it publishes.
//
// The result's Anchor is valid if prev's is: should the new one fall
// outside MaxAnchorFrame or MaxAnchorStep (centuries from the epoch), prev's
// is kept, and the tempo change moves the melody's position.
func (p *Params) Retimed(prev *Params, frame int64) Params {
	q := *p
	q.Anchor = prev.Anchor
	old := prev.timeline(synthRate(prev.SampleRate))
	if old.frames != p.timeline(synthRate(p.SampleRate)).frames {
		if a := (Anchor{Frame: frame, Step: old.stepAt(frame)}); a.valid() {
			q.Anchor = a
		}
	}
	return q
}

// timeline maps the melody's steps to timeline frames: step k starts at
// frame + ⌈(k − step)·frames⌉, integer and strictly increasing in k.
type timeline struct {
	frame  int64   // the anchor's frame
	step   float64 // the anchor's step
	frames int64   // frames in one step, at least 1
}

// timeline returns p's step timeline at rate Hz, the way Synth plays it.
func (p *Params) timeline(rate float64) timeline {
	return newTimeline(p.Anchor, rate, p.Tempo)
}

// newTimeline returns the timeline of anchor a at tempo bpm (clamped to
// minTempo..maxTempo) and rate Hz. An invalid a counts as the zero Anchor.
func newTimeline(a Anchor, rate, tempo float64) timeline {
	if !a.valid() {
		a = Anchor{}
	}
	tempo = clampFloat(tempo, minTempo, maxTempo)
	return timeline{frame: a.Frame, step: a.Step, frames: max(1, int64(rate*30/tempo+0.5))}
}

// synthRate returns the sample rate Synth renders for a Params' SampleRate.
func synthRate(sampleRate int) float64 {
	if sampleRate < minSynthRate || sampleRate > maxSynthRate {
		return defaultSynthRate
	}
	return float64(sampleRate)
}

// stepAt returns the fractional step position at frame f.
func (t timeline) stepAt(f int64) float64 {
	return t.step + float64(f-t.frame)/float64(t.frames)
}

// onset returns the frame at which step k starts.
func (t timeline) onset(k int64) int64 {
	return t.frame + int64(math.Ceil((float64(k)-t.step)*float64(t.frames)))
}

// stepIndex returns the step sounding at frame f: the last k with
// onset(k) <= f. The float estimate is corrected against onset, so the two
// always agree; the correction moves at most a step or two.
func (t timeline) stepIndex(f int64) int64 {
	k := int64(math.Floor(t.stepAt(f)))
	for range 4 {
		if t.onset(k+1) > f {
			break
		}
		k++
	}
	for range 4 {
		if t.onset(k) <= f {
			break
		}
		k--
	}
	return k
}
