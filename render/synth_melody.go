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
// come in phrases of two 4/4 bars that end on the root (half of them start
// on it too).
const (
	phraseSteps = 16

	voiceLevel      = 0.5  // peak of a full-velocity note
	droneRootLevel  = 0.12 // sine an octave below the root
	droneFifthLevel = 0.07 // sine a pure fifth above that

	attackSeconds  = 0.006 // linear rise: soft enough not to click
	decaySeconds   = 0.3   // time constant of the fall to sustainLevel
	sustainLevel   = 0.55
	releaseSeconds = 0.04 // time constant of the release
	// releaseLeadSeconds: a note is released this long (at most 35% of its
	// length) before the next step, so it has faded to ~13% when the next
	// note's attack starts from wherever it got to.
	releaseLeadSeconds = 0.08
	envFloor           = 1e-4 // a release below this is silence
)

// noteSteps are the note lengths in steps a note draws from: mostly eighths
// and quarters, some dotted quarters and halves.
var noteSteps = [...]uint64{1, 1, 1, 2, 2, 2, 2, 3, 4}

// walkMoves are the scale-degree moves between notes a walk draws from:
// mostly steps, some skips, the odd leap.
var walkMoves = [...]int{-3, -2, -2, -1, -1, -1, -1, 0, 1, 1, 1, 1, 2, 2, 3, 4}

const never = math.MaxUint64

type envStage uint8

const (
	envIdle envStage = iota
	envAttack
	envDecay
	envRelease
)

// melody is ModeMelody's state: a seeded random walk over scale degrees,
// timed in frames from the stream's sample counter so note onsets are exact,
// through an attack-decay-release envelope, over a drone on the root.
type melody struct {
	step     uint64 // steps played since the melody started
	nextStep uint64 // frame of the next note-on or rest
	gateOff  uint64 // frame at which the sounding note is released, or never
	degree   int    // scale degree of the last note; 0 is the root

	env, amp float64 // envelope level and the note's amplitude
	stage    envStage

	attackInc, decayCoef, releaseCoef float64 // per frame
	releaseLead                       uint64  // frames

	drone   ramp    // log2 Hz of the drone's root, an octave below Root
	droneDt float64 // its phase increment
	dronePh float64 // phase in droneWave (two root periods), in [0,1)
}

func (m *melody) init(rate float64) {
	m.attackInc = 1 / (attackSeconds * rate)
	m.decayCoef = math.Exp(-1 / (decaySeconds * rate))
	m.releaseCoef = math.Exp(-1 / (releaseSeconds * rate))
	m.releaseLead = uint64(releaseLeadSeconds * rate)
	m.gateOff, m.nextStep = never, never
}

// start restarts the melody at frame pos, silent, on the root.
func (m *melody) start(pos uint64) {
	m.step, m.nextStep, m.gateOff, m.degree = 0, pos, never, 0
	m.env, m.stage = 0, envIdle
}

func (m *melody) nextEvent() uint64 { return min(m.nextStep, m.gateOff) }

// setDrone sets the drone root's phase increment, dropping it by octaves
// until its fifth is below maxFreqRatio.
func (m *melody) setDrone(dt float64) {
	for dt*1.5 > maxFreqRatio {
		dt /= 2
	}
	m.droneDt = dt
}

// melodyEvent handles the melody event due at the current frame: a release,
// a note-on or a rest, or both a release and the next step.
func (s *Synth) melodyEvent() {
	m := &s.mel
	if s.pos >= m.gateOff {
		m.gateOff = never
		m.stage = envRelease
	}
	if s.pos < m.nextStep {
		return
	}
	w := &s.want
	scale := scaleSteps[w.scale]
	stepFrames := uint64(s.rate*30/w.tempo + 0.5) // an eighth note
	steps, rest, vel := m.choose(w.seed, len(scale))
	noteFrames := steps * stepFrames
	m.nextStep = s.pos + noteFrames
	m.step += steps
	if rest {
		return
	}
	midi := min(max(w.root+12*floorDiv(m.degree, len(scale))+scale[floorMod(m.degree, len(scale))], 0), 127)
	dt := midiHz(midi) / s.rate
	for dt > maxFreqRatio {
		dt /= 2
	}
	s.dt = dt
	m.amp = voiceLevel * vel
	m.stage = envAttack
	m.gateOff = s.pos + noteFrames - min(noteFrames*35/100, m.releaseLead)
	if s.onNote != nil {
		s.onNote(s.pos, midi, int(noteFrames))
	}
}

// choose makes the random choices of the step about to start: its length in
// steps, whether it is a rest, and for a note its velocity and (in m.degree)
// its scale degree. The choices come from a generator seeded by seed and the
// step number, so they depend on nothing else.
func (m *melody) choose(seed uint64, n int) (steps uint64, rest bool, vel float64) {
	r := seed ^ splitmixMix(m.step+1)
	k := m.step % phraseSteps
	steps = min(noteSteps[splitmixNext(&r)%uint64(len(noteSteps))], phraseSteps-k)
	last := k+steps == phraseSteps
	if k != 0 && !last && splitmixNext(&r)%100 < 15 {
		return steps, true, 0
	}
	lo, hi := -2, n+n/2
	switch {
	case k == 0 && splitmixNext(&r)%2 == 0, last:
		// Start half the phrases, and end every one, on the root or its
		// octave, whichever is nearer.
		if 2*m.degree > n {
			m.degree = n
		} else {
			m.degree = 0
		}
	default:
		d := m.degree + walkMoves[splitmixNext(&r)%uint64(len(walkMoves))]
		if d < lo {
			d = 2*lo - d
		}
		if d > hi {
			d = 2*hi - d
		}
		m.degree = min(max(d, lo), hi)
	}
	vel = 0.75 + 0.15*float64(splitmixNext(&r)>>11)*0x1p-53
	if k%4 == 0 {
		vel += 0.1 // accent each beat's downbeat
	}
	return steps, false, vel
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
			for ; i < len(buf) && stage == envRelease; i++ {
				if env *= m.releaseCoef; env < envFloor {
					env, stage = 0, envIdle
				}
				buf[i] *= env * amp
			}
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
// scale's top note an octave down.
func floorDiv(a, b int) int {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func floorMod(a, b int) int {
	r := a % b
	if r < 0 {
		r += b
	}
	return r
}
