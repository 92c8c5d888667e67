package render

import (
	"math"
	"slices"
	"testing"
)

type testNote struct {
	frame  int64
	midi   int
	frames int
}

// melodyNotes renders secs seconds of p (ModeMelody) and returns the samples
// and the notes the synth reported playing.
func melodyNotes(p Params, secs float64) ([]int16, []testNote) {
	p.Mode = ModeMelody
	s := NewSynth(&p)
	var notes []testNote
	s.onNote = func(frame int64, midi, frames int) { notes = append(notes, testNote{frame, midi, frames}) }
	return renderN(s, &p, int(secs*float64(p.SampleRate))), notes
}

// TestMelodyNotes: every note is in the scale, starts on the step grid and
// lasts a whole number of steps; over 30 s the melody has rests, several
// note lengths and a spread of pitches, stays within its range, and every
// phrase ends on the root.
func TestMelodyNotes(t *testing.T) {
	for sc := range Scale(len(scaleSteps)) {
		for _, seed := range []uint64{0, 1, 0xdeadbeef} {
			p := testParams()
			p.Scale, p.Seed, p.Root, p.Tempo, p.Channels = sc, seed, 62, 150, 1
			_, notes := melodyNotes(p, 30)
			step := int64(math.Round(float64(p.SampleRate) * 30 / p.Tempo))
			inScale := map[int]bool{}
			for _, st := range scaleSteps[sc] {
				inScale[st] = true
			}
			lengths, pitches := map[int]bool{}, map[int]bool{}
			rests := 0
			for i, n := range notes {
				if !inScale[floorMod(n.midi-p.Root, 12)] {
					t.Fatalf("%v seed %d: note %d (MIDI %d) is not in the scale on %d", sc, seed, i, n.midi, p.Root)
				}
				if n.frame%step != 0 || int64(n.frames)%step != 0 || n.frames == 0 {
					t.Fatalf("%v seed %d: note %d at frame %d lasting %d frames is off the %d-frame step grid", sc, seed, i, n.frame, n.frames, step)
				}
				if n.midi < p.Root-12 || n.midi > p.Root+24 {
					t.Errorf("%v seed %d: note %d (MIDI %d) far from the root %d", sc, seed, i, n.midi, p.Root)
				}
				if s := n.frame / step; (s+int64(n.frames)/step)%phraseSteps == 0 && floorMod(n.midi-p.Root, 12) != 0 {
					t.Errorf("%v seed %d: note %d ends a phrase on MIDI %d, not the root", sc, seed, i, n.midi)
				}
				if i > 0 && notes[i-1].frame+int64(notes[i-1].frames) < n.frame {
					rests++
				}
				lengths[n.frames], pitches[n.midi] = true, true
			}
			if len(notes) < 50 || rests < 3 || len(lengths) < 3 || len(pitches) < min(5, len(scaleSteps[sc])) {
				t.Errorf("%v seed %d: %d notes, %d rests, %d lengths, %d pitches in 30 s; want a livelier melody",
					sc, seed, len(notes), rests, len(lengths), len(pitches))
			}
		}
	}
}

// TestMelodyPitch checks the audio, not just the hook: in each note's
// sustained part the note's frequency is stronger than a semitone either
// side.
func TestMelodyPitch(t *testing.T) {
	p := testParams()
	p.Root, p.Tempo, p.Channels, p.Gain = 69, 100, 1, 1 // A4; 0.3 s steps
	x, notes := melodyNotes(p, 20)
	checked := 0
	for _, n := range notes {
		from := int(n.frame) + p.SampleRate/50 // after the attack
		to := int(n.frame) + n.frames*6/10     // before the release
		if to-from < p.SampleRate/6 || to > len(x) {
			continue
		}
		f := midiHz(n.midi)
		w := x[from:to]
		at, lo, hi := goertzel(w, f, p.SampleRate), goertzel(w, f*math.Exp2(-1.0/12), p.SampleRate), goertzel(w, f*math.Exp2(1.0/12), p.SampleRate)
		if at < 3*lo || at < 3*hi {
			t.Errorf("note at frame %d, MIDI %d (%.1f Hz): magnitude %.3g vs %.3g a semitone down, %.3g up", n.frame, n.midi, f, at, lo, hi)
		}
		checked++
	}
	if checked < 20 {
		t.Errorf("only %d notes long enough to check", checked)
	}
}

// TestMelodySeeds: the note sequence is a function of the seed.
func TestMelodySeeds(t *testing.T) {
	p := testParams()
	p.Channels = 1
	_, a := melodyNotes(p, 10)
	_, b := melodyNotes(p, 10)
	if !slices.Equal(a, b) {
		t.Error("same seed, different melodies")
	}
	p.Seed = 2
	if _, c := melodyNotes(p, 10); slices.Equal(a, c) {
		t.Error("seeds 1 and 2 give the same melody")
	}
}

// TestMelodyHeadroom: at gain 1 the melody and drone together stay clear of
// full scale on every wave.
func TestMelodyHeadroom(t *testing.T) {
	for _, w := range []Wave{WaveSine, WaveSquare, WaveSaw, WaveTriangle, WaveNoise} {
		p := testParams()
		p.Wave, p.Gain, p.Channels, p.Root = w, 1, 1, 40
		x, _ := melodyNotes(p, 10)
		if got := peak(x); got > 30000 || got < 10000 {
			t.Errorf("%v: melody peaks at %d; want between 10000 and 30000", w, got)
		}
	}
}

// TestMelodyNotesStartSilent: every note on the step grid starts from
// silence with its oscillator at phase 0, so its samples depend on nothing
// played before it, at any tempo and sample rate.
func TestMelodyNotesStartSilent(t *testing.T) {
	for _, c := range []struct {
		rate  int
		tempo float64
	}{{44100, 120}, {44100, 300}, {44100, 20}, {16000, 299.9}, {48000, 77.7}} {
		p := testParams()
		p.Mode, p.SampleRate, p.Tempo, p.Channels, p.Seed = ModeMelody, c.rate, c.tempo, 1, 77
		s := NewSynth(&p)
		notes := 0
		s.onNote = func(frame int64, midi, frames int) {
			if s.mel.env != 0 || s.phase != 0 {
				t.Errorf("%d Hz %v bpm: note at frame %d starts at level %v, phase %v; want silence, phase 0", c.rate, c.tempo, frame, s.mel.env, s.phase)
			}
			notes++
		}
		renderN(s, &p, 60*c.rate)
		if notes < 10 {
			t.Errorf("%d Hz %v bpm: %d notes in 60 s", c.rate, c.tempo, notes)
		}
	}
}
