//go:build !race

package render

import "testing"

// TestSynthAllocs: Render allocates nothing, in either mode, through wave
// crossfades, mode switches and setting changes.
func TestSynthAllocs(t *testing.T) {
	p := testParams()
	q := p
	q.Mode, q.Wave, q.Freq, q.Gain, q.Pan, q.Cutoff, q.Seed = ModeMelody, WaveSaw, 880, 0.9, 0.5, 2000, 9
	s := NewSynth(&p)
	dst := make([]int16, 2*1152)
	k := 0
	if n := testing.AllocsPerRun(200, func() {
		cur := &p
		if k/20%2 == 1 {
			cur = &q
		}
		k++
		s.Render(dst, cur)
	}); n != 0 {
		t.Errorf("Render allocates %v times per call; want 0", n)
	}
}
