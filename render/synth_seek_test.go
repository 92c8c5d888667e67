package render

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// settleFrames is how long after a Synth's first frame it may differ from
// one that ran from the epoch: the 5 ms fade-in and a few ms for the filter
// and the entered note. 10 ms at 44.1 kHz.
const settleFrames = 441

// seekTolerance bounds |difference| of two Synths' samples once settled,
// in LSB: rounding in the phases (frac(f·dt) against one accumulated frame
// by frame) and what the filter still holds of the frames before (2 at
// most in these tests, just after an onset through an 800 Hz low-pass).
const seekTolerance = 3

// paramsAt is a change of settings: Params p from timeline frame at on.
type paramsAt struct {
	at int64
	p  Params
}

// run renders a Synth started at frame from with p, switching to each
// change's Params at its frame, until frame to, in calls of random sizes if
// rng is not nil. It returns the samples of frames [keep, to) and the notes
// the Synth reported from 10 s before keep on.
func run(p Params, from, keep, to int64, changes []paramsAt, rng *rand.Rand) ([]int16, []testNote) {
	s := NewSynthAt(&p, from)
	var notes []testNote
	s.onNote = func(frame int64, midi, frames int) {
		if frame >= keep-10*int64(s.SampleRate()) {
			notes = append(notes, testNote{frame, midi, frames})
		}
	}
	ch := int64(s.Channels())
	buf := make([]int16, 44100*ch)
	out := make([]int16, 0, (to-keep)*ch)
	cur := &p
	for pos := from; pos < to; {
		for len(changes) > 0 && pos >= changes[0].at {
			cur, changes = &changes[0].p, changes[1:]
		}
		n := min(to-pos, 44100)
		if len(changes) > 0 {
			n = min(n, changes[0].at-pos)
		}
		if rng != nil {
			n = min(n, 1+rng.Int64N(3000))
		}
		x := buf[:n*ch]
		s.Render(x, cur)
		if pos+n > keep {
			out = append(out, x[max(keep-pos, 0)*ch:]...)
		}
		pos += n
	}
	return out, notes
}

// maxDiff returns the largest |a[i]-b[i]| and its index.
func maxDiff(a, b []int16) (int, int) {
	m, at := 0, -1
	for i := range min(len(a), len(b)) {
		if d := absInt(int(a[i]) - int(b[i])); d > m {
			m, at = d, i
		}
	}
	return m, at
}

// seekFrames returns timeline frames of interest for p's melody over its
// first minute: exactly at a note's onset, one frame before, mid-note, in a
// note's release, in a rest.
func seekFrames(p Params) map[string]int64 {
	tl := p.timeline(float64(p.SampleRate))
	scale := scaleSteps[p.Scale]
	lead := int64(releaseLeadSeconds * float64(p.SampleRate))
	at := map[string]int64{}
	for k := int64(9); k < 2000 && len(at) < 5; k++ {
		nt := noteAt(p.Seed, len(scale), k)
		if nt.start != k {
			continue
		}
		on, end := tl.onset(k), tl.onset(k+nt.steps)
		if _, ok := at["in a rest"]; nt.rest && !ok {
			at["in a rest"] = (on + end) / 2
		}
		if _, ok := at["mid-note"]; !nt.rest && nt.steps >= 2 && !ok {
			at["at an onset"] = on
			at["before an onset"] = on - 1
			at["mid-note"] = on + 3001
			at["in a release"] = end - min(nt.steps*tl.frames*35/100, lead)/2
		}
	}
	return at
}

// TestNewSynthAtMatchesRun: a Synth started at frame f plays what a Synth
// run from frame 0 with the same Params plays from f on: the same note
// onsets (the note sounding at f entered at f), and once settled, the same
// samples, in every mode, wherever f falls.
func TestNewSynthAtMatchesRun(t *testing.T) {
	far := int64(44100 * 600) // a listener ten minutes on
	if encodeUnderRace {
		far = 44100 * 60
	}
	set := func(f func(*Params)) Params { p := testParams(); f(&p); return p }
	rows := []struct {
		name string
		p    Params
	}{
		{"tone sine", set(func(p *Params) {})},
		{"tone saw mono", set(func(p *Params) { p.Wave, p.Freq, p.Cutoff, p.Channels = WaveSaw, 1234.5, 3000, 1 })},
		{"noise", set(func(p *Params) { p.Wave, p.Seed, p.Cutoff = WaveNoise, 99, 5000 })},
		{"melody", set(func(p *Params) { p.Mode = ModeMelody })},
		{"melody blues square 97.3 bpm", set(func(p *Params) {
			p.Mode, p.Scale, p.Wave, p.Tempo, p.Cutoff, p.Seed = ModeMelody, ScaleBlues, WaveSquare, 97.3, 800, 0xdeadbeef
		})},
		{"melody anchored 150 bpm", set(func(p *Params) {
			p.Mode, p.Tempo, p.Anchor = ModeMelody, 150, Anchor{Frame: 1000, Step: 2.5}
		})},
		{"melody 22050 Hz mono", set(func(p *Params) {
			p.Mode, p.SampleRate, p.Channels, p.Bitrate, p.Seed = ModeMelody, 22050, 1, 64, 7
		})},
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, r := range rows {
		frames := map[string]int64{"start": 0, "frame 1": 1, "mid-period": 12345, "a minute on": 44100 * 60}
		if r.name == "tone sine" || r.name == "melody" {
			frames["far"] = far
		}
		if r.p.Mode == ModeMelody {
			for k, f := range seekFrames(r.p) {
				frames[k] = f
			}
		}
		for what, f := range frames {
			name := fmt.Sprintf("%s, %s (frame %d)", r.name, what, f)
			if r.p.Mode != ModeMelody && what != "start" && what != "mid-period" && what != "far" {
				continue
			}
			n := int64(3 * r.p.SampleRate)
			want, wantNotes := run(r.p, 0, f, f+n, nil, nil)
			got, gotNotes := run(r.p, f, f, f+n, nil, rng)
			if whole, _ := run(r.p, f, f, f+n, nil, nil); !slices.Equal(got, whole) {
				t.Errorf("%s: rendering in calls of random sizes differs from one call", name)
			}
			ch := int64(r.p.Channels)
			from := f + settleFrames
			if r.p.Mode == ModeMelody {
				checkEntry(t, name, r.p, f, wantNotes, gotNotes)
				// From the first onset once settled.
				i := slices.IndexFunc(wantNotes, func(n testNote) bool { return n.frame >= f+settleFrames })
				if i < 0 {
					t.Fatalf("%s: no note onset in 3 s", name)
				}
				from = wantNotes[i].frame
			}
			if d, i := maxDiff(got[(from-f)*ch:], want[(from-f)*ch:]); d > seekTolerance {
				t.Errorf("%s: from frame %d on, sample %d differs by %d from the run from frame 0; want at most %d",
					name, from, int64(i)/ch+from, d, seekTolerance)
			}
			if f > 0 && peak(got[:2*ch]) > 200 {
				t.Errorf("%s: first frames %v; want the fade-in to start near silence", name, got[:2*ch])
			}
		}
	}
}

// checkEntry checks the notes of a Synth started at frame f (got) against
// those of one run from the epoch (want): the same onsets after f, and at f
// the note sounding there, unless f falls in its release.
func checkEntry(t *testing.T, name string, p Params, f int64, want, got []testNote) {
	t.Helper()
	after := func(ns []testNote) []testNote {
		return slices.DeleteFunc(slices.Clone(ns), func(n testNote) bool { return n.frame <= f })
	}
	if a, b := after(got), after(want); !slices.Equal(a, b) {
		t.Errorf("%s: onsets after frame %d differ:\n got %v\nwant %v", name, f, a, b)
	}
	var sounding *testNote
	for i := range want {
		if n := want[i]; n.frame <= f && f < n.frame+int64(n.frames) {
			sounding = &want[i]
		}
	}
	var entered *testNote
	if len(got) > 0 && got[0].frame == f {
		entered = &got[0]
	}
	switch {
	case entered == nil && sounding != nil:
		end := sounding.frame + int64(sounding.frames)
		if gate := end - min(int64(sounding.frames)*35/100, int64(releaseLeadSeconds*float64(p.SampleRate))); f < gate {
			t.Errorf("%s: at frame %d nothing entered; want the note %+v sounding there", name, f, *sounding)
		}
	case entered != nil && sounding == nil:
		t.Errorf("%s: at frame %d entered %+v; nothing sounds there", name, f, *entered)
	case entered != nil:
		if entered.midi != sounding.midi || f+int64(entered.frames) != sounding.frame+int64(sounding.frames) {
			t.Errorf("%s: at frame %d entered %+v; want the note %+v sounding there", name, f, *entered, *sounding)
		}
	}
}

// tempoModel returns the notes a melody plays from frame after on when its
// Params change from p to q (Retimed) and the Synth latches q at frame
// latch, until frame end: each step starts where p's timeline puts it
// before latch and q's from there (at latch, if q's time has passed), and
// reports its length as the timeline in force at its onset has it.
func tempoModel(p, q Params, latch, after, end int64) []testNote {
	rate := float64(p.SampleRate)
	ptl, qtl := p.timeline(rate), q.timeline(rate)
	scale := scaleSteps[p.Scale]
	var notes []testNote
	for j := noteAt(p.Seed, len(scale), ptl.stepIndex(after)).start; ; {
		nt := noteAt(p.Seed, len(scale), j)
		tl, on := ptl, ptl.onset(j)
		if on >= latch {
			tl, on = qtl, max(qtl.onset(j), latch)
		}
		if on >= end {
			return notes
		}
		if !nt.rest && on > after {
			notes = append(notes, testNote{on, degreeMIDI(p.Root, scale, nt.degree), int(max(tl.onset(j+nt.steps), on+1) - on)})
		}
		j += nt.steps
	}
}

// TestTempoChange: a tempo change through Retimed keeps the melody's step
// position continuous at the change, skips and repeats no note, and spaces
// the onsets after it at the new tempo; a Synth started after the change
// with the new Params plays the same onsets, and once settled the same
// samples, as the one that lived through it.
func TestTempoChange(t *testing.T) {
	const rate = 44100
	type row struct {
		name     string
		from, to float64
		anchor   Anchor
		change   func(p Params) int64 // the frame the change is first rendered
		late     bool                 // the new time of the next note passes before the Synth latches it
	}
	at := func(f int64) func(Params) int64 { return func(Params) int64 { return f } }
	rows := []row{
		{name: "120 to 180 bpm", from: 120, to: 180, change: at(100000 / 32 * 32)},
		{name: "120 to 45.5 bpm", from: 120, to: 45.5, change: at(200000 / 32 * 32)},
		{name: "300 to 20 bpm", from: 300, to: 20, change: at(123456 / 32 * 32)},
		{name: "20 to 300 bpm", from: 20, to: 300, change: at(300000 / 32 * 32)},
		{name: "97 to 211.7 bpm, off the period grid", from: 97, to: 211.7, change: at(150001)},
		{name: "60 to 240 bpm, anchored, 40 frames before a note", from: 60, to: 240, anchor: Anchor{Frame: 11},
			late: true, change: func(p Params) int64 {
				// A note whose onset O ≡ 13 (mod 32): the change at O−40
				// (≡ 5) is latched at O−13, after its new time O−30.
				tl := p.timeline(rate)
				for k := int64(1); ; k += 16 {
					if nt := noteAt(p.Seed, len(scaleSteps[p.Scale]), k); nt.start == k && !nt.rest && tl.onset(k)%32 == 13 {
						return tl.onset(k) - 40
					}
				}
			}},
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, r := range rows {
		p := testParams()
		p.Mode, p.Tempo, p.Anchor, p.Seed = ModeMelody, r.from, r.anchor, 3
		f := r.change(p)
		q := p
		q.Tempo = r.to
		q = q.Retimed(&p, f)
		if q.Anchor == p.Anchor {
			t.Fatalf("%s: Retimed kept the anchor", r.name)
		}
		if q.StepAt(f) != p.StepAt(f) {
			t.Errorf("%s: step position %v before the change, %v after", r.name, p.StepAt(f), q.StepAt(f))
		}
		latch := (f + controlFrames - 1) / controlFrames * controlFrames
		end := latch + 10*rate
		after := max(f-5*rate, 0)
		x, lived := run(p, 0, 0, end, []paramsAt{{f, q}}, rng)
		// Click-free: no step around the change beyond the largest
		// anywhere else in these 10 s of melody.
		lo, hi := 2*(latch-rate/100), 2*(latch+rate/20)
		if around, bound := maxStep(x[lo:hi], 2, 0), max(maxStep(x[:lo], 2, 0), maxStep(x[hi:], 2, 0)); around > bound {
			t.Errorf("%s: steps by %d around the change; at most %d elsewhere", r.name, around, bound)
		}
		lived = slices.DeleteFunc(lived, func(n testNote) bool { return n.frame <= after })
		want := tempoModel(p, q, latch, after, end)
		if !slices.Equal(lived, want) {
			t.Errorf("%s (change at %d, latched at %d): notes\n got %v\nwant %v", r.name, f, latch, lived, want)
		}
		// Onsets after the change at the new tempo's spacing.
		qf := int64(q.timeline(rate).frames)
		newSpaced := 0
		for i := 1; i < len(lived); i++ {
			if a, b := lived[i-1], lived[i]; a.frame > latch { // one at latch may have come late
				if d := b.frame - a.frame; d%qf > 1 && qf-d%qf > 1 {
					t.Errorf("%s: onsets %d then %d, %d frames apart; want a multiple of %d (±1)", r.name, a.frame, b.frame, d, qf)
				}
				newSpaced++
			}
		}
		if newSpaced < 3 {
			t.Errorf("%s: %d onsets after the change; want more", r.name, newSpaced)
		}
		if r.late && !slices.ContainsFunc(lived, func(n testNote) bool { return n.frame == latch }) {
			t.Errorf("%s: no note at the latch frame %d; the case does not test a passed onset", r.name, latch)
		}

		// A Synth resumed after the change, with the new Params.
		g := latch + int64(2.3*float64(qf)) + 17
		want2, wantNotes := run(p, 0, g, end, []paramsAt{{f, q}}, nil)
		got, gotNotes := run(q, g, g, end, nil, rng)
		checkEntry(t, r.name+", resumed", q, g, wantNotes, gotNotes)
		i := slices.IndexFunc(wantNotes, func(n testNote) bool { return n.frame >= g+settleFrames })
		if i < 0 {
			t.Fatalf("%s: no onset after the resume", r.name)
		}
		from := (wantNotes[i].frame - g) * 2
		if d, j := maxDiff(got[from:], want2[from:]); d > seekTolerance {
			t.Errorf("%s: resumed at %d, sample %d differs by %d from the Synth that lived through the change; want at most %d",
				r.name, g, int64(j)/2+g, d, seekTolerance)
		}
	}
}

// BenchmarkNewSynthAt: starting a Synth costs the same at the epoch as a
// year on (a seek replays at most one phrase), and renders its first MP3
// frame's worth.
func BenchmarkNewSynthAt(b *testing.B) {
	for _, c := range []struct {
		name  string
		frame int64
	}{{"epoch", 0}, {"year", 44100 * 86400 * 365}} {
		b.Run(c.name, func(b *testing.B) {
			p := testParams()
			p.Mode = ModeMelody
			dst := make([]int16, 1152*2)
			b.ReportAllocs()
			for b.Loop() {
				NewSynthAt(&p, c.frame).Render(dst, &p)
			}
		})
	}
}
