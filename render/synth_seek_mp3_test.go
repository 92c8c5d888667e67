package render

import (
	"slices"
	"testing"
)

// pitchMIDI returns the MIDI note in [lo, hi] whose frequency is strongest
// in x: the pitch of one note's window, to the nearest semitone.
func pitchMIDI(x []int16, rate, lo, hi int) int {
	best, bestMag := lo, -1.0
	for m := lo; m <= hi; m++ {
		if mag := goertzel(x, midiHz(m), rate); mag > bestMag {
			best, bestMag = m, mag
		}
	}
	return best
}

// TestResumedMelodyDecodes checks what a listener hears: a melody resumed
// mid-note and mid-MP3-frame (NewSynthAt) and the same melody run from the
// epoch, each encoded with Encoder and decoded with ffmpeg, have the same
// pitch, the note's, in every full note of the resumed stream.
func TestResumedMelodyDecodes(t *testing.T) {
	needTool(t, "ffmpeg")
	p := testParams()
	p.Mode, p.Gain, p.Seed, p.Tempo = ModeMelody, 0.8, 5, 140
	const rate, ch = 44100, 2
	f := int64(1152*200 + 517) // 5.2 s on
	secs := int64(8)
	if encodeUnderRace {
		secs = 3
	}
	n := secs * rate / 1152 * 1152

	cont, contNotes := run(p, 0, 0, f+n, nil, nil)
	res, resNotes := run(p, f, f, f+n, nil, nil)
	decode := func(pcm []int16) ([]int16, int) {
		out := channel(decodeMP3(t, encodeAll(t, mustEncoder(t, rate, ch, 128), pcm)), ch, 0)
		_, _, delay := compareDecoded(channel(pcm, ch, 0), out, 0)
		return out, delay
	}
	contOut, contDelay := decode(cont)
	resOut, resDelay := decode(res)

	lo, hi := p.Root-24, p.Root+36
	checked := 0
	for _, note := range resNotes {
		if note.frame <= f { // the note entered at f is not a full note
			continue
		}
		if !slices.Contains(contNotes, note) {
			t.Errorf("resumed note %+v is not in the stream run from frame 0", note)
		}
		from := note.frame + rate/30               // after the attack
		to := note.frame + int64(note.frames)*6/10 // before the release
		if to-from < rate/20 || to-f+int64(resDelay) > int64(len(resOut)) || to+int64(contDelay) > int64(len(contOut)) {
			continue
		}
		got := pitchMIDI(resOut[from-f+int64(resDelay):to-f+int64(resDelay)], rate, lo, hi)
		want := pitchMIDI(contOut[from+int64(contDelay):to+int64(contDelay)], rate, lo, hi)
		if got != want || got != note.midi {
			t.Errorf("note at frame %d (MIDI %d): decoded pitch MIDI %d resumed, %d run from frame 0", note.frame, note.midi, got, want)
		}
		checked++
	}
	if checked < int(secs)*2 {
		t.Errorf("checked %d notes in %d s; want more", checked, secs)
	}
	t.Logf("%d notes checked; codec delay %d (run from 0) and %d (resumed) samples", checked, contDelay, resDelay)
}
