package render

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// TestTimelineOnsets: onsets are whole frames, strictly increasing, on the
// plain k·F grid for the zero anchor, and stepIndex inverts onset exactly
// whatever the anchor.
func TestTimelineOnsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	anchors := []Anchor{{}, {Frame: 1000, Step: 0.5}, {Frame: 123457, Step: 3.999999999}, {Frame: 0, Step: -7.25},
		{Frame: 26460000, Step: 2400.3333333333335}, {Frame: MaxAnchorFrame, Step: MaxAnchorStep}}
	for range 20 {
		anchors = append(anchors, Anchor{Frame: rng.Int64N(1 << 40), Step: rng.Float64() * 1e6})
	}
	for _, a := range anchors {
		for _, tempo := range []float64{20, 97.3, 120, 300} {
			tl := newTimeline(a, 44100, tempo)
			k0 := int64(math.Floor(a.Step)) - 40
			prev := tl.onset(k0 - 1)
			for k := k0; k < k0+80; k++ {
				on := tl.onset(k)
				if on <= prev || on-prev > tl.frames+1 || on-prev < tl.frames-1 {
					t.Fatalf("anchor %+v tempo %v: onset(%d) = %d after onset(%d) = %d; want %d±1 frames on", a, tempo, k, on, k-1, prev, tl.frames)
				}
				if got := tl.stepIndex(on); got != k {
					t.Fatalf("anchor %+v tempo %v: stepIndex(onset(%d) = %d) = %d", a, tempo, k, on, got)
				}
				if got := tl.stepIndex(on - 1); got != k-1 {
					t.Fatalf("anchor %+v tempo %v: stepIndex(onset(%d)-1) = %d; want %d", a, tempo, k, got, k-1)
				}
				if a == (Anchor{}) && on != k*tl.frames {
					t.Fatalf("zero anchor, tempo %v: onset(%d) = %d; want %d", tempo, k, on, k*tl.frames)
				}
				prev = on
			}
		}
	}
}

// TestStepAt: StepAt follows the anchor at the tempo's whole step length,
// and reads out-of-range settings as the synthesiser does.
func TestStepAt(t *testing.T) {
	p := testParams() // 44100 Hz, 120 bpm: 11025 frames a step
	for _, c := range []struct {
		a     Anchor
		frame int64
		want  float64
	}{
		{Anchor{}, 0, 0},
		{Anchor{}, 11025, 1},
		{Anchor{}, 44100 * 600, 2400}, // ten minutes
		{Anchor{Frame: 1000, Step: 2.5}, 1000, 2.5},
		{Anchor{Frame: 1000, Step: 2.5}, 1000 + 11025*2, 4.5},
		{Anchor{Frame: 1000, Step: 2.5}, 0, 2.5 - 1000.0/11025},
		{Anchor{Frame: 5, Step: math.NaN()}, 11025, 1},                                          // invalid: the zero anchor
		{Anchor{Frame: MaxAnchorFrame + 1, Step: 9}, 22050, 2},                                  // invalid: the zero anchor
		{Anchor{Frame: 0, Step: 2 * MaxAnchorStep}, 22050, 2},                                   // invalid: the zero anchor
		{Anchor{Frame: 0, Step: math.Inf(-1)}, 22050, 2},                                        // invalid: the zero anchor
		{Anchor{Frame: -MaxAnchorFrame, Step: -MaxAnchorStep}, -MaxAnchorFrame, -MaxAnchorStep}, // valid
	} {
		p.Anchor = c.a
		if got := p.StepAt(c.frame); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Anchor %+v: StepAt(%d) = %v; want %v", c.a, c.frame, got, c.want)
		}
	}
	q := testParams()
	q.SampleRate, q.Tempo = 7, 1e9 // read as 44100 Hz and 600 bpm: 2205 frames a step
	if got := q.StepAt(2205 * 3); got != 3 {
		t.Errorf("SampleRate 7, Tempo 1e9: StepAt(6615) = %v; want 3", got)
	}
}

// TestRetimed: a tempo change re-anchors at the change frame, at the step
// the old tempo reached there; anything else keeps the old anchor.
func TestRetimed(t *testing.T) {
	prev := testParams()
	prev.Anchor = Anchor{Frame: 44100, Step: 4}
	for _, c := range []struct {
		name   string
		change func(*Params)
		frame  int64
		moved  bool
	}{
		{"tempo up", func(p *Params) { p.Tempo = 180 }, 100000, true},
		{"tempo down", func(p *Params) { p.Tempo = 33.3 }, 100001, true},
		{"tempo before the anchor", func(p *Params) { p.Tempo = 60 }, 10, true},
		{"freq", func(p *Params) { p.Freq = 220 }, 100000, false},
		{"seed and mode", func(p *Params) { p.Seed, p.Mode = 5, ModeMelody }, 100000, false},
		{"tempo within a frame a step", func(p *Params) { p.Tempo = 120.0001 }, 100000, false},
		{"nothing", func(p *Params) {}, 100000, false},
	} {
		p := prev
		p.Anchor = Anchor{Frame: 77, Step: 1} // Retimed takes prev's, not p's
		c.change(&p)
		q := p.Retimed(&prev, c.frame)
		want := p
		want.Anchor = prev.Anchor
		if c.moved {
			want.Anchor = Anchor{Frame: c.frame, Step: prev.StepAt(c.frame)}
		}
		if q != want {
			t.Errorf("%s: Retimed = %+v; want %+v", c.name, q.Anchor, want.Anchor)
		}
		if got, at := q.StepAt(c.frame), prev.StepAt(c.frame); got != at {
			t.Errorf("%s: StepAt(%d) = %v after the change, %v before; want continuous", c.name, c.frame, got, at)
		}
		// From the change on, the position moves at the new tempo.
		later := c.frame + 44100
		if got, want := q.StepAt(later)-q.StepAt(c.frame), 44100/float64(q.timeline(44100).frames); math.Abs(got-want) > 1e-9 {
			t.Errorf("%s: %v steps in the second after the change; want %v", c.name, got, want)
		}
	}
}

// TestRetimedOutOfRange: a re-anchoring that would leave the Anchor's
// bounds keeps prev's valid anchor rather than store one ParseBinary refuses.
func TestRetimedOutOfRange(t *testing.T) {
	prev := testParams()
	prev.Anchor = Anchor{Frame: 0, Step: MaxAnchorStep - 1}
	p := prev
	p.Tempo = 90
	for _, frame := range []int64{MaxAnchorFrame, MaxAnchorFrame + 1, math.MaxInt64} {
		if q := p.Retimed(&prev, frame); q.Anchor != prev.Anchor {
			t.Errorf("Retimed(frame %d) anchor = %+v; want prev's %+v", frame, q.Anchor, prev.Anchor)
		}
	}
}

// TestAnchorNotAKey: the Anchor is invisible in the table and the JSON,
// With and Apply carry it over unchanged, and ApplyAt retimes it.
func TestAnchorNotAKey(t *testing.T) {
	a := Anchor{Frame: 123456, Step: 78.25}
	p := Defaults()
	p.Anchor = a
	def := Defaults()
	if got, want := string(p.AppendJSON(nil)), string(def.AppendJSON(nil)); got != want {
		t.Errorf("AppendJSON with an anchor = %s; want %s, as without", got, want)
	}
	for _, k := range Keys() {
		if k.Name == "anchor" {
			t.Error(`Keys() lists "anchor"`)
		}
	}
	if _, err := p.With(pairs("anchor", "1"), true); !errors.Is(err, ErrUnknownKey) {
		t.Errorf(`With(anchor=1) error = %v; want ErrUnknownKey`, err)
	}
	if q, err := p.With(pairs("tempo", "90", "freq", "220"), false); err != nil || q.Anchor != a {
		t.Errorf("With(tempo=90&freq=220) = %+v, %v; want the anchor unchanged", q.Anchor, err)
	}

	l := NewLive(p)
	for _, q := range [][]Pair{pairs("freq", "220"), pairs("tempo", "90"), pairs("mode", "melody", "seed", "9")} {
		got, err := l.Apply(q)
		if err != nil || got.Anchor != a {
			t.Errorf("Apply(%s) = %+v, %v; want the anchor %+v unchanged", query(q), got.Anchor, err, a)
		}
	}

	// ApplyAt: a tempo change re-anchors at its frame, other changes and a
	// change that changes nothing keep the snapshot's anchor.
	old := l.Load()
	got, err := l.ApplyAt(pairs("tempo", "150"), 500000)
	if want := (Anchor{Frame: 500000, Step: old.StepAt(500000)}); err != nil || got.Anchor != want || got.Tempo != 150 {
		t.Fatalf("ApplyAt(tempo=150, 500000) = %+v, %v; want anchor %+v", got, err, want)
	}
	if got.StepAt(500000) != old.StepAt(500000) {
		t.Errorf("ApplyAt(tempo=150): StepAt(500000) = %v; was %v", got.StepAt(500000), old.StepAt(500000))
	}
	a2 := got.Anchor
	if got, err := l.ApplyAt(pairs("freq", "330", "tempo", "150"), 900000); err != nil || got.Anchor != a2 {
		t.Errorf("ApplyAt(freq=330&tempo=150) = %+v, %v; want the anchor %+v kept", got.Anchor, err, a2)
	}
	cur := l.Load()
	if got, err := l.ApplyAt(pairs("freq", "330"), 1e6); err != nil || got != cur {
		t.Errorf("ApplyAt(no change) = %p, %v; want the current snapshot %p", got, err, cur)
	}
	if got, err := l.ApplyAt(pairs("tempo", "1000"), 1e6); err == nil || got != nil || l.Load() != cur {
		t.Errorf("ApplyAt(tempo=1000) = %v, %v; want nil, an error and nothing published", got, err)
	}
}

// TestNoteAtPhrases: noteAt, which replays only k's phrase, agrees with
// the melody built note by note from the epoch; notes tile each phrase and
// never cross into the next one.
func TestNoteAtPhrases(t *testing.T) {
	for _, seed := range []uint64{0, 1, 42, math.MaxUint64} {
		for sc := range Scale(len(scaleSteps)) {
			n := len(scaleSteps[sc])
			var seq []melodyNote
			degree := 0
			for j := int64(-3 * phraseSteps); j < 40*phraseSteps; {
				nt := choose(seed, n, j, degree)
				seq = append(seq, nt)
				degree = nt.degree
				j += nt.steps
			}
			for _, nt := range seq {
				if floorDiv(nt.start, phraseSteps) != floorDiv(nt.start+nt.steps-1, phraseSteps) {
					t.Fatalf("seed %d %v: note %+v crosses a phrase boundary", seed, sc, nt)
				}
				for k := nt.start; k < nt.start+nt.steps; k++ {
					if got := noteAt(seed, n, k); got != nt {
						t.Fatalf("seed %d %v: noteAt(%d) = %+v; want %+v", seed, sc, k, got, nt)
					}
				}
			}
		}
	}
	// Far out on the timeline costs the same and gives a note in its phrase.
	for _, k := range []int64{1 << 40, -(1 << 40) - 3, math.MaxInt64 / 2} {
		nt := noteAt(7, 5, k)
		if nt.start > k || k >= nt.start+nt.steps {
			t.Errorf("noteAt(%d) = %+v; does not contain step %d", k, nt, k)
		}
	}
}

// TestPhraseStarts: a phrase's first note is the root or the octave, or a
// walk move from one, and both occur; the seed and the phrase alone decide.
func TestPhraseStarts(t *testing.T) {
	const n = 5 // pentatonic
	counts := map[int]int{}
	for q := range int64(400) {
		nt := noteAt(11, n, q*phraseSteps)
		if nt.start != q*phraseSteps || nt.rest {
			t.Fatalf("phrase %d starts with %+v; want a note at its first step", q, nt)
		}
		counts[nt.degree]++
	}
	for d := range counts {
		if d < -2 || d > n+4 {
			t.Errorf("a phrase starts on degree %d; want near the root or octave", d)
		}
	}
	if counts[0] < 100 || counts[n] < 20 {
		t.Errorf("phrase starts by degree: %v; want many on the root, some on the octave", counts)
	}
	if keys := len(counts); keys < 5 {
		t.Errorf("phrase starts on only %d degrees; want walk moves too", keys)
	}
}
