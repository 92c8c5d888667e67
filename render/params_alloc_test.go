//go:build !race

package render

import "testing"

// Zero allocation is a test that can fail: AppendJSON and AppendBinary into
// a pre-grown buffer, ParseBinary, and With for a typical set_param,
// allocate nothing.
func TestAllocs(t *testing.T) {
	p := Defaults()
	buf := make([]byte, 0, 512)
	if n := testing.AllocsPerRun(100, func() { buf = p.AppendJSON(buf[:0]) }); n != 0 {
		t.Errorf("AppendJSON allocs = %v; want 0", n)
	}
	q := pairs("freq", "261.63", "wave", "triangle", "root", "A#3", "seed", "18446744073709551615", "pan", "-0.25")
	if n := testing.AllocsPerRun(100, func() {
		if _, err := p.With(q, false); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("With(%q) allocs = %v; want 0", query(q), n)
	}
	// The binary form, both ways, into a pre-grown buffer.
	m := Defaults()
	m.Mode, m.Anchor = ModeMelody, Anchor{Frame: 26460000, Step: 2400.5}
	bin := make([]byte, 0, MaxBinaryLen)
	if n := testing.AllocsPerRun(100, func() { bin = m.AppendBinary(bin[:0]) }); n != 0 {
		t.Errorf("AppendBinary allocs = %v; want 0", n)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := ParseBinary(bin); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("ParseBinary allocs = %v; want 0", n)
	}
	// Apply and ApplyAt publish one new snapshot: one allocation.
	l := NewLive(p)
	qs := [][]Pair{pairs("freq", "261.63"), pairs("freq", "440")}
	i := 0
	if n := testing.AllocsPerRun(100, func() {
		if _, err := l.Apply(qs[i&1]); err != nil {
			t.Fatal(err)
		}
		i++
	}); n != 1 {
		t.Errorf("Live.Apply allocs = %v; want 1", n)
	}
	qt := [][]Pair{pairs("tempo", "90"), pairs("tempo", "120")}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := l.ApplyAt(qt[i&1], int64(i)*1152); err != nil {
			t.Fatal(err)
		}
		i++
	}); n != 1 {
		t.Errorf("Live.ApplyAt allocs = %v; want 1", n)
	}
}
