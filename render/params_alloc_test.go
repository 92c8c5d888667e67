//go:build !race

package render

import "testing"

// Zero allocation is a test that can fail: AppendJSON into a pre-grown
// buffer, and With for a typical set_param, allocate nothing.
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
	// Apply publishes one new snapshot: one allocation.
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
}
