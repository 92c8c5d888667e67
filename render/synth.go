package render

import "math"

// Timing of the synthesiser. Every duration is converted to frames (or control
// periods) once, in NewSynthAt, at the stream's sample rate.
const (
	// controlFrames is the control period. Render reads the caller's Params,
	// advances every parameter ramp and recomputes the filter coefficients
	// once per controlFrames frames, at timeline frames that are multiples
	// of controlFrames (and at the Synth's first frame), so the output
	// depends only on which Params was current at each period boundary,
	// never on how the caller splits its calls. 32 frames is
	// 0.73 ms at 44.1 kHz: a change is heard at once, and the per-period
	// work (an exp2, a tan or a sincos while a value glides) costs little
	// next to the per-frame loops.
	controlFrames = 32

	// rampSeconds is how long freq, gain, pan, cutoff and the melody's drone
	// glide to a new value. 8 ms is below what the ear hears as a glide but
	// spreads a full-scale gain jump over ~350 frames at 44.1 kHz, under
	// 100 LSB per frame: no click.
	rampSeconds = 0.008

	// crossfadeSeconds is the length of the crossfade between two waves.
	crossfadeSeconds = 0.008

	// fadeSeconds is the fade-in at the stream's start and each half (out,
	// then in) of a mode switch, whose two sources have nothing in common to
	// crossfade.
	fadeSeconds = 0.005

	// maxFreqRatio bounds oscillator frequencies and the filter cutoff to
	// 0.45 × the sample rate (19845 Hz at 44.1 kHz): PolyBLEP needs less than
	// half a cycle per frame, and the filter's tan(π·fc/rate) stays finite.
	maxFreqRatio = 0.45

	minFreq   = 1.0 // Hz; PolyBLEP divides by the phase increment
	minCutoff = 10.0
	minTempo  = 10.0 // bpm
	maxTempo  = 600.0

	// Synth's own format limits; outside them NewSynthAt falls back to the
	// design default of 44100 Hz.
	minSynthRate     = 8000
	maxSynthRate     = 192000
	defaultSynthRate = 44100
)

// svfDamping is 1/Q of the low-pass filter: Q = 1/√2 is a Butterworth
// response, flat in the pass band with no resonant peak.
const svfDamping = math.Sqrt2

// Synth is the built-in Renderer: a band-limited oscillator (ModeTone) or a
// generative melody over a drone (ModeMelody), through a 2-pole low-pass
// filter, scaled by gain and panned.
//
// A Synth plays a stream's timeline, frames counted from the stream's epoch:
// NewSynthAt starts it at any frame (NewSynth at frame 0) and each Render
// continues where the last stopped. The oscillator's phase is an
// accumulator kept in [0,1) that runs on across calls, so audio is
// continuous however the caller splits it. Changes of freq, gain, pan and
// cutoff glide over 8 ms, a change of wave crossfades over 8 ms and a change
// of mode fades out and in over 5 ms each, so no change clicks. A Synth
// starts with a 5 ms fade-in. Output is a pure function of the first frame,
// the initial Params and the Params current at each control period boundary
// (every 32 timeline frames): the same sequence gives the same samples, and
// seed alone decides every random choice.
//
// What plays at a frame depends on the Params and the frame, not on what was
// rendered before, so NewSynthAt(p, f) plays what NewSynth(p) plays from
// frame f on, with p unchanged:
//
//   - Melody: step k's note is a function of seed, scale and k (each phrase
//     of 16 steps replays from its start, so a seek costs at most 16
//     choices), and starts at the frame p.Anchor and p.Tempo give step k
//     (see Params.StepAt). Every note starts from silence with its
//     oscillator at phase 0, so from the first onset after f the two Synths
//     agree, but for rounding in the drone's phase and what the filter still
//     holds of the frames before: a few LSB at most. At f the Synth enters
//     the note sounding there with its attack, or stays silent in a rest or
//     a note's release.
//   - Tone: the phase at f is frac(f·freq/rate), where a run at constant
//     freq from frame 0 has it (to within rounding accumulated on the way).
//   - Noise is counter-based: the value at frame t is a hash of seed and t.
//
// A Synth that lived through a change of freq or root and one started after
// it differ by a constant phase of the tone or drone: the same sound, not
// the same samples. A change of Anchor or tempo (Params.Retimed) moves the
// pending note onsets to the new timeline at the next period boundary, with
// no note skipped or repeated.
//
// Pan follows the equal-power law: at pan 0 each channel carries gain/√2
// (−3 dB); at ±1 one channel carries gain. Gain is the peak of a sine tone
// relative to full scale; shapes that overshoot (a filtered square or saw
// at gain near 1) saturate at full scale rather than wrap.
//
// A Synth holds about 1 KiB and allocates nothing after NewSynthAt. It is
// not safe for concurrent use.
type Synth struct {
	rate     float64 // Hz
	channels int

	pos      int64 // timeline frame of the next frame to render
	blockPos int   // frames rendered into the current control period
	started  bool  // the first control period has begun

	want synthTargets // sound settings latched at the last period boundary
	mode Mode         // the mode playing now (differs from want.mode mid-switch)

	// Oscillator.
	phase    float64 // in [0,1)
	dt       float64 // phase increment per frame, (0, maxFreqRatio]
	wave     Wave
	prevWave Wave // the wave being faded out while xfLeft > 0
	xfLeft   int  // frames of crossfade still to play
	xfLen    int  // frames in a crossfade

	freq   ramp // tone frequency, log2 Hz
	gain   ramp
	pan    ramp
	level  ramp // master fade: stream start and mode switches, 0..1
	cutoff ramp // log2 Hz

	// Values derived from the ramps at the last period, recomputed only
	// when a ramp moves (log2, exp2 and sincos are the per-period cost).
	freqAt, droneAt, panAt float64 // ramp values they were computed from
	toneDt                 float64 // phase increment of freq
	panSin, panCos         float64

	rampPeriods int // control periods in a ramp
	fadePeriods int // control periods in a fade

	// Output gain per channel, ×32767, interpolated across each period.
	gainL, gainR     float64 // current
	stepL, stepR     float64 // per frame within this period
	targetL, targetR float64 // at the end of this period

	// Low-pass filter: topology-preserving state-variable filter
	// (Zavalishin, Simper), stable under modulation and for any cutoff below
	// Nyquist.
	fc           float64 // log2 of the cutoff the coefficients are for
	a1, a2, a3   float64
	ic1eq, ic2eq float64

	mel melody

	buf, buf2 [controlFrames]float64

	// onNote, if set (by tests only), is called at each melody note-on
	// with its timeline frame, MIDI note and frames until the next step.
	onNote func(frame int64, midi int, frames int)
}

// synthTargets are a Params' sound settings, clamped to what Synth can
// render.
type synthTargets struct {
	mode   Mode
	wave   Wave
	scale  Scale
	root   int
	seed   uint64
	freq   float64 // Hz
	gain   float64
	pan    float64
	cutoff float64  // Hz
	tl     timeline // the melody's steps in frames, from Anchor and Tempo
}

// NewSynth returns a Synth for a new stream: NewSynthAt(p, 0).
func NewSynth(p *Params) *Synth { return NewSynthAt(p, 0) }

// NewSynthAt returns a Synth whose first rendered frame is timeline frame
// frame (clamped to 0..MaxAnchorFrame), for a stream whose settings are *p
// from there on: it plays what a Synth started at frame 0 with *p plays from
// frame on (see the type's doc), after a 5 ms fade-in. The output format is
// fixed here for the Synth's life: p.SampleRate (8000 to 192000 Hz; anything
// else falls back to 44100 Hz) and p.Channels (1 for mono, anything else
// stereo). Sound settings out of range are clamped, as in Render. p must not
// be nil; NewSynthAt keeps no reference to it. Its cost does not depend on
// frame.
func NewSynthAt(p *Params, frame int64) *Synth {
	s := &Synth{rate: synthRate(p.SampleRate), channels: 2}
	if p.Channels == 1 {
		s.channels = 1
	}
	s.rampPeriods = s.periods(rampSeconds)
	s.fadePeriods = s.periods(fadeSeconds)
	s.xfLen = max(1, int(crossfadeSeconds*s.rate+0.5))
	s.mel.init(s.rate)
	s.pos = min(max(frame, 0), MaxAnchorFrame)
	s.blockPos = int(s.pos % controlFrames)

	s.want = s.targets(p)
	w := &s.want
	s.mode = w.mode
	s.wave, s.prevWave = w.wave, w.wave
	s.freq.reset(math.Log2(w.freq))
	s.gain.reset(w.gain)
	s.pan.reset(w.pan)
	s.cutoff.reset(math.Log2(w.cutoff))
	// Derived values are computed at the first period.
	s.fc, s.freqAt, s.droneAt, s.panAt = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	s.level.reset(0)
	s.level.to(1, s.fadePeriods)
	s.mel.drone.reset(math.Log2(midiHz(w.root - 12)))
	// The oscillators where a run from frame 0 at these settings has them,
	// computed as control computes their increments.
	s.phase = phaseAt(s.pos, math.Exp2(s.freq.cur)/s.rate)
	s.mel.dronePh = phaseAt(s.pos, droneIncrement(math.Exp2(s.mel.drone.cur)/s.rate)/2)
	if s.mode == ModeMelody {
		s.melodySeek()
	}
	return s
}

// periods converts seconds to whole control periods, at least one.
func (s *Synth) periods(seconds float64) int {
	return max(1, int(seconds*s.rate/controlFrames+0.5))
}

// SampleRate returns the output sample rate in Hz, fixed at NewSynthAt.
func (s *Synth) SampleRate() int { return int(s.rate) }

// Channels returns the output channel count (1 or 2), fixed at NewSynthAt.
func (s *Synth) Channels() int { return s.channels }

// Render implements Renderer: it fills dst with the next len(dst)/Channels()
// frames of the timeline and returns len(dst) rounded down to a whole number
// of frames. Settings from p take effect at the next control period
// boundary, at most 32 frames on (the first call's at once), then glide as
// the type's doc describes. p's format fields are ignored. A nil p keeps the
// last settings. Render allocates nothing.
func (s *Synth) Render(dst []int16, p *Params) int {
	ch := s.channels
	n := len(dst) - len(dst)%ch
	out := dst[:n]
	for len(out) > 0 {
		if s.blockPos == 0 || !s.started {
			s.control(p)
		}
		frames := min(controlFrames-s.blockPos, len(out)/ch)
		if s.mode == ModeMelody {
			// Cut the segment at the next note event, so events fall on
			// exact frames whatever the call sizes.
			if s.pos >= s.mel.nextEvent() {
				s.melodyEvent()
			}
			if d := s.mel.nextEvent() - s.pos; d < int64(frames) {
				frames = int(d)
			}
		}
		buf := s.buf[:frames]
		s.oscillate(buf)
		if s.mode == ModeMelody {
			s.mel.shape(buf)
		}
		s.filterOut(out[:frames*ch], buf)
		out = out[frames*ch:]
		s.pos += int64(frames)
		s.blockPos += frames
		if s.blockPos == controlFrames {
			s.blockPos = 0
		}
	}
	return n
}

// targets clamps p's sound settings to what the Synth renders.
func (s *Synth) targets(p *Params) synthTargets {
	t := synthTargets{
		mode:   p.Mode,
		wave:   p.Wave,
		scale:  p.Scale,
		root:   p.Root,
		seed:   p.Seed,
		freq:   clampFloat(p.Freq, minFreq, maxFreqRatio*s.rate),
		gain:   clampFloat(p.Gain, 0, 1),
		pan:    clampFloat(p.Pan, -1, 1),
		cutoff: clampFloat(p.Cutoff, minCutoff, maxFreqRatio*s.rate),
		tl:     p.timeline(s.rate),
	}
	if t.mode > ModeMelody {
		t.mode = ModeTone
	}
	if t.wave > WaveNoise {
		t.wave = WaveSine
	}
	if int(t.scale) >= len(scaleSteps) {
		t.scale = ScaleMajor
	}
	t.root = min(max(t.root, 0), 127)
	return t
}

// clampFloat returns x limited to [lo, hi]; NaN gives lo.
func clampFloat(x, lo, hi float64) float64 {
	if !(x >= lo) {
		return lo
	}
	if x > hi {
		return hi
	}
	return x
}

// control runs at each control period boundary: it latches p, starts and
// advances ramps, fades and crossfades, and prepares this period's filter
// coefficients and output gains.
func (s *Synth) control(p *Params) {
	old := s.want
	if p != nil {
		s.want = s.targets(p)
	}
	w := &s.want
	s.started = true

	// A mode switch fades out, swaps the source while silent, fades in.
	// The new source starts where the timeline has it.
	switch {
	case w.mode == s.mode:
		s.level.to(1, s.fadePeriods)
		if s.mode == ModeMelody && w.tl != s.mel.tl {
			s.melodyRetime()
		}
	case s.level.target != 0:
		s.level.to(0, s.fadePeriods)
	case s.level.left == 0:
		s.mode = w.mode
		if s.mode == ModeMelody {
			s.mel.dronePh = phaseAt(s.pos, s.mel.droneDt/2)
			s.melodySeek()
		} else {
			s.phase = phaseAt(s.pos, s.toneDt)
		}
		s.level.to(1, s.fadePeriods)
	}
	// A wave switch crossfades; a further switch waits for it to finish.
	if w.wave != s.wave && s.xfLeft == 0 {
		s.prevWave, s.wave, s.xfLeft = s.wave, w.wave, s.xfLen
	}

	// Start glides to changed targets (in log2 Hz for frequencies).
	if w.freq != old.freq {
		s.freq.to(math.Log2(w.freq), s.rampPeriods)
	}
	if w.root != old.root {
		s.mel.drone.to(math.Log2(midiHz(w.root-12)), s.rampPeriods)
	}
	if w.cutoff != old.cutoff {
		s.cutoff.to(math.Log2(w.cutoff), s.rampPeriods)
	}
	s.gain.to(w.gain, s.rampPeriods)
	s.pan.to(w.pan, s.rampPeriods)

	// Advance them, recomputing what depends on a value that moved.
	if v := s.freq.advance(); v != s.freqAt {
		s.freqAt, s.toneDt = v, math.Exp2(v)/s.rate
	}
	if s.mode == ModeTone {
		s.dt = s.toneDt
	}
	if v := s.mel.drone.advance(); v != s.droneAt {
		s.droneAt = v
		s.mel.droneDt = droneIncrement(math.Exp2(v) / s.rate)
	}
	if c := s.cutoff.advance(); c != s.fc {
		s.fc = c
		g := math.Tan(math.Pi * math.Exp2(c) / s.rate)
		s.a1 = 1 / (1 + g*(g+svfDamping))
		s.a2 = g * s.a1
		s.a3 = g * s.a2
	}
	if v := s.pan.advance(); v != s.panAt {
		s.panAt = v
		s.panSin, s.panCos = math.Sincos((v + 1) * (math.Pi / 4))
	}
	// Flush denormals from a filter ringing down to silence (they are slow).
	// Done here, at a period boundary, so it does not depend on call sizes.
	if math.Abs(s.ic1eq) < 1e-30 {
		s.ic1eq = 0
	}
	if math.Abs(s.ic2eq) < 1e-30 {
		s.ic2eq = 0
	}

	// A Synth started mid-period stays silent until the first boundary, so
	// its fade-in is as long as any.
	level := s.level.cur
	if s.blockPos == 0 {
		level = s.level.advance()
	}
	g := s.gain.advance() * level * 32767
	s.gainL, s.gainR = s.targetL, s.targetR
	if s.channels == 1 {
		s.targetL = g
	} else {
		s.targetL, s.targetR = g*s.panCos, g*s.panSin
	}
	left := float64(controlFrames - s.blockPos) // less than a period only at the start
	s.stepL = (s.targetL - s.gainL) / left
	s.stepR = (s.targetR - s.gainR) / left
}

// oscillate renders the current wave into buf, crossfading from prevWave
// while a crossfade runs, and advances the phase.
func (s *Synth) oscillate(buf []float64) {
	start := s.phase
	noise := s.want.seed + uint64(s.pos)*splitmixGamma // the noise counter at this frame
	s.phase = oscWave(s.wave, buf, start, s.dt, noise)
	if s.xfLeft == 0 {
		return
	}
	n := min(len(buf), s.xfLeft)
	old := s.buf2[:n]
	oscWave(s.prevWave, old, start, s.dt, noise)
	inv := 1 / float64(s.xfLen)
	for i, o := range old {
		m := float64(s.xfLeft-i) * inv // weight of the old wave, 1 → 0
		buf[i] += (o - buf[i]) * m
	}
	s.xfLeft -= n
}

// filterOut low-passes buf, applies the output gains and writes the
// samples, interleaved, to dst. One loop rather than three: the filter's
// recursion is a chain of dependent operations, and the gain and
// conversion work fills the time the processor would wait on it.
func (s *Synth) filterOut(dst []int16, buf []float64) {
	a1, a2, a3 := s.a1, s.a2, s.a3
	ic1, ic2 := s.ic1eq, s.ic2eq
	if s.channels == 1 {
		g, step := s.gainL, s.stepL
		dst = dst[:len(buf)]
		for i, v0 := range buf {
			v3 := v0 - ic2
			v1 := a1*ic1 + a2*v3
			v2 := ic2 + a2*ic1 + a3*v3
			ic1 = 2*v1 - ic1
			ic2 = 2*v2 - ic2
			g += step
			dst[i] = toInt16(v2 * g)
		}
		s.gainL = g
	} else {
		gl, gr, sl, sr := s.gainL, s.gainR, s.stepL, s.stepR
		dst = dst[:2*len(buf)]
		for i, v0 := range buf {
			v3 := v0 - ic2
			v1 := a1*ic1 + a2*v3
			v2 := ic2 + a2*ic1 + a3*v3
			ic1 = 2*v1 - ic1
			ic2 = 2*v2 - ic2
			gl += sl
			gr += sr
			dst[2*i] = toInt16(v2 * gl)
			dst[2*i+1] = toInt16(v2 * gr)
		}
		s.gainL, s.gainR = gl, gr
	}
	s.ic1eq, s.ic2eq = ic1, ic2
}

// toInt16 rounds x to the nearest int16 (halves up), saturating at full
// scale; NaN gives 0.
func toInt16(x float64) int16 {
	if x >= 32767 {
		return 32767
	}
	if x > -32768 {
		// x+32768.5 is in (0.5, 65535.5): truncation rounds.
		return int16(int32(x+32768.5) - 32768)
	}
	if x != x {
		return 0
	}
	return -32768
}

// ramp is a value gliding linearly to a target, one step per control period.
type ramp struct {
	cur, target, step float64
	left              int // periods until cur reaches target
}

func (r *ramp) reset(v float64) { *r = ramp{cur: v, target: v} }

// to starts a glide from the current value to target over periods periods,
// unless target is already the goal.
func (r *ramp) to(target float64, periods int) {
	if target == r.target {
		return
	}
	r.target = target
	r.step = (target - r.cur) / float64(periods)
	r.left = periods
}

// advance moves one period on and returns the new value.
func (r *ramp) advance() float64 {
	if r.left > 0 {
		r.left--
		r.cur += r.step
		if r.left == 0 {
			r.cur = r.target
		}
	}
	return r.cur
}
