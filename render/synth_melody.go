package render

import "math"

// scaleSteps[s] lists the semitones of scale s above its root, one octave.
var scaleSteps = [...][]int{
	ScaleMajor:      {0, 2, 4, 5, 7, 9, 11},
	ScaleMinor:      {0, 2, 3, 5, 7, 8, 10}, // natural minor
	ScalePentatonic: {0, 2, 4, 7, 9},        // major pentatonic
	ScaleBlues:      {0, 3, 5, 6, 7, 10},
	ScaleDorian:     {0, 2, 3, 5, 7, 9, 10},
	ScaleChromatic:  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11},
}

// The melody's shape. A step is an eighth note at the stream's tempo; notes
// come in phrases of two 4/4 bars that start near the root and end on it or
// its octave.
const (
	// phraseSteps is the length of a phrase, and the most choices a seek
	// replays: a phrase's notes depend on the seed and the phrase alone.
	phraseSteps = 16

	voiceLevel      = 0.5  // peak of a full-velocity note
	droneRootLevel  = 0.12 // sine an octave below the root
	droneFifthLevel = 0.07 // sine a pure fifth above that

	attackSeconds  = 0.006 // linear rise: soft enough not to click
	decaySeconds   = 0.3   // time constant of the fall to sustainLevel
	sustainLevel   = 0.55
	releaseSeconds = 0.04 // time constant of the release
	// releaseLeadSeconds: a note is released this long (at most 35% of its
	// length) before the next step. The release is an exponential fall
	// tapered linearly to silence at the next step, so every note starts
	// from silence with its oscillator at phase 0: a note's samples then
	// depend on nothing that came before it.
	releaseLeadSeconds = 0.08
)

// noteSteps are the note lengths in steps a note draws from: mostly eighths
// and quarters, some dotted quarters and halves.
var noteSteps = [...]int64{1, 1, 1, 2, 2, 2, 2, 3, 4}

// walkMoves are the scale-degree moves between notes a walk draws from:
// mostly steps, some skips, the odd leap.
var walkMoves = [...]int{-3, -2, -2, -1, -1, -1, -1, 0, 1, 1, 1, 1, 2, 2, 3, 4}

const never = math.MaxInt64

type envStage uint8

const (
	envIdle envStage = iota
	envAttack
	envDecay
	envRelease
)

// melody is ModeMelody's state: notes chosen by seed and step (noteAt),
// timed in frames from the stream's timeline (timeline) so note onsets are
// exact, through an attack-decay-release envelope, over a drone on the root.
type melody struct {
	tl       timeline // the timeline the pending events were placed on
	steps    int64    // length in steps of the note or rest playing
	nextK    int64    // step at which the next note or rest starts
	nextStep int64    // frame of the next note-on or rest: onset(nextK), or now if that has passed
	gateOff  int64    // frame at which the sounding note is released, or never

	env, amp float64 // envelope level and the note's amplitude
	stage    envStage
	relLeft  int64   // frames of release left (envRelease)
	relInv   float64 // 1 / the release's length in frames

	attackInc, decayCoef, releaseCoef float64 // per frame
	releaseLead                       int64   // frames

	drone   ramp    // log2 Hz of the drone's root, an octave below Root
	droneDt float64 // its phase increment
	dronePh float64 // phase in droneWave (two root periods), in [0,1)
}

func (m *melody) init(rate float64) {
	m.attackInc = 1 / (attackSeconds * rate)
	m.decayCoef = math.Exp(-1 / (decaySeconds * rate))
	m.releaseCoef = math.Exp(-1 / (releaseSeconds * rate))
	m.releaseLead = int64(releaseLeadSeconds * rate)
	m.gateOff, m.nextStep = never, never
}

func (m *melody) nextEvent() int64 { return min(m.nextStep, m.gateOff) }

// release starts the release, to end at silence in frames frames (at least
// one, so the note's last sample is never cut off).
func (m *melody) release(frames int64) {
	if m.stage == envIdle {
		return
	}
	if m.stage == envRelease {
		m.env *= float64(m.relLeft) * m.relInv // restretch from the level reached
	}
	m.stage = envRelease
	m.relLeft = max(frames, 1)
	m.relInv = 1 / float64(m.relLeft)
}

// gateFrame returns the frame at which a note of steps steps ending at step
// end is released under timeline tl.
func (m *melody) gateFrame(tl timeline, steps, end int64) int64 {
	return tl.onset(end) - min(steps*tl.frames*35/100, m.releaseLead)
}

// droneIncrement returns the drone root's phase increment for dt (the
// root's frequency over the sample rate), dropped by octaves until its fifth
// is below maxFreqRatio.
func droneIncrement(dt float64) float64 {
	for dt*1.5 > maxFreqRatio {
		dt /= 2
	}
	return dt
}

// melodySeek puts the melody at the current frame as the timeline has it:
// the next event, now, enters the note or rest sounding here.
func (s *Synth) melodySeek() {
	m := &s.mel
	m.tl = s.want.tl
	m.nextK = m.tl.stepIndex(s.pos)
	m.nextStep, m.gateOff, m.steps = s.pos, never, 0
	m.env, m.stage = 0, envIdle
}

// melodyRetime moves the pending events to the want's timeline, after its
// anchor or step length changed: the next note keeps its step and starts
// where the new timeline puts that step (now if that has passed), so no
// note is skipped or repeated, and the sounding note's release is moved to
// match, or starts now if its new time has passed.
func (s *Synth) melodyRetime() {
	m := &s.mel
	if m.steps == 0 { // nothing played since the seek: seek again
		s.melodySeek()
		return
	}
	tl := s.want.tl
	m.tl = tl
	m.nextStep = max(tl.onset(m.nextK), s.pos)
	switch {
	case m.gateOff != never:
		m.gateOff = max(m.gateFrame(tl, m.steps, m.nextK), s.pos)
	case m.stage == envRelease && s.pos+m.relLeft > m.nextStep:
		m.release(m.nextStep - s.pos) // end by the next note
	}
}

// melodyEvent handles the melody event due at the current frame: a release,
// a note-on or a rest, or both a release and the next step.
//
// The note-on enters the note sounding at this frame on the timeline. At its
// onset that is the note starting here; after a seek, a mode switch or a
// retime it may have started earlier, and then it sounds from here with its
// attack (silent if it is a rest or already released).
func (s *Synth) melodyEvent() {
	m := &s.mel
	if s.pos >= m.gateOff {
		m.gateOff = never
		m.release(min(m.nextStep-s.pos, m.releaseLead))
	}
	if s.pos < m.nextStep {
		return
	}
	w := &s.want
	tl := w.tl
	scale := scaleSteps[w.scale]
	nt := noteAt(w.seed, len(scale), max(m.nextK, tl.stepIndex(s.pos)))
	m.steps, m.nextK = nt.steps, nt.start+nt.steps
	m.nextStep = max(tl.onset(m.nextK), s.pos+1)
	gate := m.gateFrame(tl, nt.steps, m.nextK)
	if nt.rest || s.pos >= gate {
		if m.stage != envRelease {
			m.release(min(m.nextStep-s.pos, m.releaseLead))
		}
		return
	}
	midi := degreeMIDI(w.root, scale, nt.degree)
	dt := midiHz(midi) / s.rate
	for dt > maxFreqRatio {
		dt /= 2
	}
	amp := voiceLevel * nt.vel
	if m.stage == envIdle {
		// From silence: the oscillator is where it would be had the note
		// sounded from its onset (phase 0 there).
		s.phase = phaseAt(max(s.pos-tl.onset(nt.start), 0), dt)
		m.env = 0
	} else {
		// Still sounding (only after a retime cut a release short): keep the
		// phase and the level, and rise from there.
		if m.stage == envRelease {
			m.env *= float64(m.relLeft) * m.relInv
		}
		m.env *= m.amp / amp
	}
	s.dt = dt
	m.amp = amp
	m.stage = envAttack
	if m.env >= 1 {
		m.stage = envDecay
	}
	m.gateOff = gate
	if s.onNote != nil {
		s.onNote(s.pos, midi, int(m.nextStep-s.pos))
	}
}

// degreeMIDI returns the MIDI note of scale degree d of scale (semitones
// above the root, one octave) on root, within 0..127.
func degreeMIDI(root int, scale []int, d int) int {
	return min(max(root+12*floorDiv(d, len(scale))+scale[floorMod(d, len(scale))], 0), 127)
}

// melodyNote is one note or rest of the melody.
type melodyNote struct {
	start, steps int64   // the step it starts at, and its length in steps
	rest         bool    // a rest: silence for its steps
	degree       int     // scale degree, 0 the root; a rest keeps the walk's
	vel          float64 // velocity in (0,1], a note only
}

// noteAt returns the note or rest sounding at step k of seed's melody over a
// scale of n notes. It replays k's phrase from its first step: at most
// phraseSteps calls of choose, whatever k.
func noteAt(seed uint64, n int, k int64) melodyNote {
	j := k - floorMod(k, phraseSteps)
	degree := 0
	for {
		nt := choose(seed, n, j, degree)
		if k < j+nt.steps {
			return nt
		}
		degree = nt.degree
		j += nt.steps
	}
}

// choose makes the random choices of the note or rest starting at step k,
// after a note of scale degree degree (ignored at a phrase's first step):
// its length in steps (cut at the phrase's end), whether it is a rest (never
// first or last in a phrase), and for a note its degree and velocity. The
// choices come from a generator seeded by seed and k, so the notes of a
// phrase depend on the seed and the phrase alone.
//
// A phrase starts on the root, or for one in four its octave, for half the
// phrases and a walk move away from it for the others; then walks, mostly by
// step, within two degrees below the root and half an octave above the
// octave; and ends on the root or the octave, whichever is nearer. Each
// beat's downbeat is accented.
func choose(seed uint64, n int, k int64, degree int) melodyNote {
	r := seed ^ splitmixMix(uint64(k)+1)
	i := floorMod(k, phraseSteps)
	nt := melodyNote{start: k, degree: degree}
	nt.steps = min(noteSteps[splitmixNext(&r)%uint64(len(noteSteps))], phraseSteps-i)
	last := i+nt.steps == phraseSteps
	if i != 0 && !last && splitmixNext(&r)%100 < 15 {
		nt.rest = true
		return nt
	}
	switch {
	case i == 0:
		base := 0
		if splitmixNext(&r)%4 == 0 {
			base = n
		}
		nt.degree = base
		if splitmixNext(&r)%2 == 0 {
			nt.degree = walk(base, n, &r)
		}
	case last:
		nt.degree = 0
		if 2*degree > n {
			nt.degree = n
		}
	default:
		nt.degree = walk(degree, n, &r)
	}
	nt.vel = 0.75 + 0.15*float64(splitmixNext(&r)>>11)*0x1p-53
	if i%4 == 0 {
		nt.vel += 0.1 // accent each beat's downbeat
	}
	return nt
}

// walk returns degree d moved by a random walkMove drawn from *r, reflected
// into the melody's range over a scale of n notes: two degrees below the
// root to half an octave above the octave.
func walk(d, n int, r *uint64) int {
	lo, hi := -2, n+n/2
	d += walkMoves[splitmixNext(r)%uint64(len(walkMoves))]
	if d < lo {
		d = 2*lo - d
	}
	if d > hi {
		d = 2*hi - d
	}
	return min(max(d, lo), hi)
}

// shape applies the note envelope to the oscillator output in buf and adds
// the drone. The envelope runs a loop per stage, not a switch per frame.
func (m *melody) shape(buf []float64) {
	env, amp, stage := m.env, m.amp, m.stage
	for i := 0; i < len(buf); {
		switch stage {
		case envAttack:
			for ; i < len(buf) && stage == envAttack; i++ {
				if env += m.attackInc; env >= 1 {
					env, stage = 1, envDecay
				}
				buf[i] *= env * amp
			}
		case envDecay:
			for ; i < len(buf); i++ {
				env = sustainLevel + (env-sustainLevel)*m.decayCoef
				buf[i] *= env * amp
			}
		case envRelease:
			// An exponential fall, tapered linearly to silence at relLeft 0.
			left, inv := m.relLeft, m.relInv
			for ; i < len(buf) && stage == envRelease; i++ {
				env *= m.releaseCoef
				buf[i] *= env * float64(left) * inv * amp
				if left--; left == 0 {
					env, stage = 0, envIdle
				}
			}
			m.relLeft = left
		default: // envIdle
			clear(buf[i:])
			i = len(buf)
		}
	}
	m.env, m.stage = env, stage

	y, dy := m.dronePh, m.droneDt/2
	for i := range buf {
		f := y * droneTableSize
		k := int(f) & (droneTableSize - 1)
		buf[i] += droneWave[k] + (droneWave[k+1]-droneWave[k])*(f-float64(k))
		if y += dy; y >= 1 {
			y--
		}
	}
	m.dronePh = y
}

// droneTableSize is the number of points in droneWave: linear
// interpolation between them is within 2e-7 of the exact drone.
const droneTableSize = 2048

// droneWave is two periods of the drone's root and three of its fifth,
// mixed, tabulated over [0,1] (the last point repeats the first for
// interpolation). One lookup replaces two sines per frame.
var droneWave = func() (t [droneTableSize + 1]float64) {
	for i := range t {
		y := float64(i) / droneTableSize
		t[i] = droneRootLevel*math.Sin(4*math.Pi*y) + droneFifthLevel*math.Sin(6*math.Pi*y)
	}
	return t
}()

// floorDiv and floorMod divide rounding toward −∞, so degree −1 is the
// scale's top note an octave down, and step −1 the last of phrase −1.
func floorDiv[T int | int64](a, b T) T {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func floorMod[T int | int64](a, b T) T {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}

// phaseAt returns the phase, in [0,1), of an oscillator that started at
// phase 0 n frames ago with increment dt: frac(n·dt).
func phaseAt(n int64, dt float64) float64 {
	x := float64(n) * dt
	return x - math.Floor(x)
}
