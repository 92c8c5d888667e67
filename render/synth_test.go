package render

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// testParams returns settings for synth tests: a 440 Hz sine at gain 0.5,
// centred, with the cutoff at its maximum, 44.1 kHz stereo. (Literal rather
// than Defaults, so these tests pin the synthesiser, not the table.)
func testParams() Params {
	return Params{
		Mode: ModeTone, Freq: 440, Wave: WaveSine, Gain: 0.5,
		Tempo: 120, Scale: ScalePentatonic, Root: 60, Seed: 1,
		Cutoff: 20000, Pan: 0,
		SampleRate: 44100, Channels: 2, Bitrate: 128,
	}
}

// renderN renders frames frames from s with p in one call.
func renderN(s *Synth, p *Params, frames int) []int16 {
	dst := make([]int16, frames*s.Channels())
	if n := s.Render(dst, p); n != len(dst) {
		panic("short render")
	}
	return dst
}

// steady renders secs seconds of p after a 100 ms warm-up (fade-in, filter
// settling) and returns them.
func steady(p Params, secs float64) []int16 {
	s := NewSynth(&p)
	renderN(s, &p, p.SampleRate/10)
	return renderN(s, &p, int(secs*float64(p.SampleRate)))
}

// zeroCrossingHz estimates the frequency of x from its upward zero
// crossings, interpolated between samples.
func zeroCrossingHz(x []int16, rate int) float64 {
	first, last, n := -1.0, -1.0, 0
	for i := 1; i < len(x); i++ {
		if x[i-1] < 0 && x[i] >= 0 {
			t := float64(i-1) + float64(-x[i-1])/float64(int(x[i])-int(x[i-1]))
			if first < 0 {
				first = t
			}
			last = t
			n++
		}
	}
	return float64(n-1) * float64(rate) / (last - first)
}

func TestSynthFrequency(t *testing.T) {
	for _, w := range []Wave{WaveSine, WaveSquare, WaveSaw, WaveTriangle} {
		for _, f := range []float64{110, 440, 1000, 3000} {
			p := testParams()
			p.Wave, p.Freq, p.Channels = w, f, 1
			got := zeroCrossingHz(steady(p, 1), p.SampleRate)
			if math.Abs(got-f)/f > 0.002 {
				t.Errorf("%v at %v Hz: zero crossings give %.2f Hz; want within 0.2%%", w, f, got)
			}
		}
	}
}

func peak(x []int16) int {
	m := 0
	for _, v := range x {
		m = max(m, absInt(int(v)))
	}
	return m
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestSynthGainPeak(t *testing.T) {
	for _, channels := range []int{1, 2} {
		for _, g := range []float64{0.1, 0.5, 1} {
			p := testParams()
			p.Gain, p.Channels = g, channels
			want := g * 32767
			if channels == 2 {
				want /= math.Sqrt2 // equal-power pan, centred
			}
			x := steady(p, 0.5)
			for ch := range channels {
				if got := float64(peak(channel(x, channels, ch))); math.Abs(got-want) > 0.005*want+1 {
					t.Errorf("%d ch, gain %v: channel %d peak = %v; want %.0f", channels, g, ch, got, want)
				}
			}
		}
	}
}

func energy(x []int16) float64 {
	var e float64
	for _, v := range x {
		e += float64(v) * float64(v)
	}
	return e
}

func TestSynthPanEnergy(t *testing.T) {
	var total0 float64
	for _, pan := range []float64{-1, -0.5, 0, 0.5, 1} {
		p := testParams()
		p.Pan = pan
		x := steady(p, 0.5)
		l, r := energy(channel(x, 2, 0)), energy(channel(x, 2, 1))
		th := (pan + 1) * math.Pi / 4
		wantL, wantR := math.Cos(th)*math.Cos(th), math.Sin(th)*math.Sin(th) // shares of the energy
		if gotL := l / (l + r); math.Abs(gotL-wantL) > 0.002 {
			t.Errorf("pan %v: left share of energy = %.4f; want %.4f (right %.4f)", pan, gotL, wantL, wantR)
		}
		if total0 == 0 {
			total0 = l + r
		} else if math.Abs((l+r)/total0-1) > 0.01 {
			t.Errorf("pan %v: total energy %.4g; want %.4g (equal power)", pan, l+r, total0)
		}
	}
}

func TestSynthMonoIgnoresPan(t *testing.T) {
	p, q := testParams(), testParams()
	p.Channels, q.Channels = 1, 1
	q.Pan = -1
	if !slices.Equal(steady(p, 0.2), steady(q, 0.2)) {
		t.Error("mono output depends on pan")
	}
}

// goertzel returns the magnitude of x at f Hz, Hann-windowed.
func goertzel(x []int16, f float64, rate int) float64 {
	w := 2 * math.Pi * f / float64(rate)
	c := 2 * math.Cos(w)
	var s1, s2 float64
	n := float64(len(x))
	for i, v := range x {
		win := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/n)
		s1, s2 = float64(v)*win+c*s1-s2, s1
	}
	return math.Sqrt(s1*s1 + s2*s2 - c*s1*s2)
}

// TestSynthCutoff checks the filter against the response it is built to
// have: a 2-pole Butterworth low-pass through the bilinear transform,
// |H(f)|² = 1/(1 + (tan(πf/rate)/tan(πfc/rate))⁴), measured on a saw's
// harmonics relative to the unfiltered (cutoff at maximum) saw.
func TestSynthCutoff(t *testing.T) {
	const f0, rate = 220.0, 44100
	h := func(f, fc float64) float64 {
		r := math.Tan(math.Pi*f/rate) / math.Tan(math.Pi*fc/rate)
		return 1 / math.Sqrt(1+r*r*r*r)
	}
	p := testParams()
	p.Wave, p.Freq, p.Channels = WaveSaw, f0, 1
	open := steady(p, 1)
	for _, fc := range []float64{500, 1000, 4000} {
		p.Cutoff = fc
		x := steady(p, 1)
		for _, k := range []float64{1, 2, 5, 10, 20} {
			f := k * f0
			got := goertzel(x, f, rate) / goertzel(open, f, rate)
			want := h(f, fc) / h(f, maxFreqRatio*rate)
			if db := 20 * math.Log10(got/want); math.Abs(db) > 0.5 {
				t.Errorf("cutoff %v Hz, harmonic %v (%v Hz): gain %.4f; want %.4f (%+.2f dB off)", fc, k, f, got, want, db)
			}
		}
	}
	// The brief's cruder measure: lower cutoffs smooth the saw, the mean
	// step |x[i+1]−x[i]| falls.
	last := math.Inf(1)
	for _, fc := range []float64{20000, 5000, 1000, 200} {
		p.Cutoff = fc
		x := steady(p, 0.5)
		var d float64
		for i := 1; i < len(x); i++ {
			d += math.Abs(float64(x[i]) - float64(x[i-1]))
		}
		d /= float64(len(x) - 1)
		if d >= last {
			t.Errorf("cutoff %v Hz: mean |diff| %.1f; want below %.1f (the higher cutoff's)", fc, d, last)
		}
		last = d
	}
}

// maxStep returns the largest |x[i+1]−x[i]| of one channel.
func maxStep(x []int16, channels, ch int) int {
	m := 0
	for i := channels + ch; i < len(x); i += channels {
		m = max(m, absInt(int(x[i])-int(x[i-channels])))
	}
	return m
}

// TestSynthClickFree changes one setting mid-stream and requires that no
// sample-to-sample step around the change exceeds the largest step of the
// steady signal before or after it (plus 2% and 30 LSB). An unramped change
// would step by up to the difference of the two signals: thousands of LSB.
func TestSynthClickFree(t *testing.T) {
	type change struct {
		name     string
		from, to func(*Params)
	}
	set := func(f func(*Params)) Params { p := testParams(); f(&p); return p }
	for _, c := range []change{
		{"gain 0.2→1", func(p *Params) { p.Gain = 0.2 }, func(p *Params) { p.Gain = 1 }},
		{"gain 1→0", func(p *Params) { p.Gain = 1 }, func(p *Params) { p.Gain = 0 }},
		{"pan -1→1", func(p *Params) { p.Pan = -1; p.Gain = 1 }, func(p *Params) { p.Pan = 1; p.Gain = 1 }},
		{"freq 220→880", func(p *Params) { p.Freq = 220; p.Gain = 1 }, func(p *Params) { p.Freq = 880; p.Gain = 1 }},
		{"freq 3000→100", func(p *Params) { p.Freq = 3000; p.Gain = 1 }, func(p *Params) { p.Freq = 100; p.Gain = 1 }},
		{"cutoff 200→15000 saw", func(p *Params) { p.Wave = WaveSaw; p.Freq = 110; p.Cutoff = 200 }, func(p *Params) { p.Wave = WaveSaw; p.Freq = 110; p.Cutoff = 15000 }},
		{"cutoff 15000→100 square", func(p *Params) { p.Wave = WaveSquare; p.Cutoff = 15000 }, func(p *Params) { p.Wave = WaveSquare; p.Cutoff = 100 }},
		{"wave sine→triangle", func(p *Params) { p.Gain = 1 }, func(p *Params) { p.Gain = 1; p.Wave = WaveTriangle }},
		{"wave triangle→sine", func(p *Params) { p.Gain = 1; p.Wave = WaveTriangle }, func(p *Params) { p.Gain = 1 }},
		{"wave square→sine lowpassed", func(p *Params) { p.Wave = WaveSquare; p.Cutoff = 1000 }, func(p *Params) { p.Cutoff = 1000 }},
		{"wave sine→noise lowpassed", func(p *Params) { p.Cutoff = 800 }, func(p *Params) { p.Wave = WaveNoise; p.Cutoff = 800 }},
		{"mode tone→melody", func(p *Params) { p.Gain = 1; p.Freq = 200 }, func(p *Params) { p.Gain = 1; p.Freq = 200; p.Mode = ModeMelody }},
		{"mode melody→tone", func(p *Params) { p.Gain = 1; p.Mode = ModeMelody; p.Freq = 200 }, func(p *Params) { p.Gain = 1; p.Freq = 200 }},
	} {
		p1, p2 := set(c.from), set(c.to)
		// Change at 22061 frames, latched at 22080: mid-cycle for every
		// frequency here, where an unramped change would jump.
		s := NewSynth(&p1)
		before := renderN(s, &p1, 22061)
		after := renderN(s, &p2, 22050)
		around := append(before[len(before)-2*441:], after[:2*2205]...) // 10 ms before, 50 ms after
		s1, s2 := steady(p1, 0.5), steady(p2, 0.5)
		if p1.Mode == ModeMelody {
			s1, s2 = before, after[2*4410:] // a melody's own steps, away from the switch
		}
		if p2.Mode == ModeMelody {
			// The melody enters where the timeline is, mid-note: compare
			// with the same notes from a Synth started in melody there.
			s2 = renderN(NewSynthAt(&p2, 22061), &p2, 22050)
		}
		for ch := range 2 {
			bound := max(maxStep(s1, 2, ch), maxStep(s2, 2, ch))
			if got := maxStep(around, 2, ch); float64(got) > 1.02*float64(bound)+30 {
				t.Errorf("%s: channel %d steps by %d around the change; steady signals step by at most %d", c.name, ch, got, bound)
			}
			// And the change took effect: 100 ms on, the signal peaks as
			// the new settings do from the start.
			if p1.Mode == ModeTone && p2.Mode == ModeTone && p2.Wave != WaveNoise {
				got, want := peak(channel(after[2*4410:], 2, ch)), peak(channel(s2, 2, ch))
				if math.Abs(float64(got-want)) > 0.02*float64(want)+2 {
					t.Errorf("%s: channel %d peaks at %d after the change; want %d as in a stream started so", c.name, ch, got, want)
				}
			}
		}
	}
}

// TestSynthChunking renders a sequence of settings as one call per setting
// and as many calls of random sizes: the samples must be identical.
func TestSynthChunking(t *testing.T) {
	for _, channels := range []int{1, 2} {
		var seq []Params
		for i, f := range []func(*Params){
			func(p *Params) {},
			func(p *Params) { p.Freq = 1234.5; p.Wave = WaveSaw; p.Cutoff = 3000 },
			func(p *Params) { p.Mode = ModeMelody; p.Tempo = 240; p.Pan = -0.3 },
			func(p *Params) { p.Mode = ModeMelody; p.Tempo = 240; p.Wave = WaveSquare; p.Scale = ScaleBlues },
			func(p *Params) { p.Wave = WaveNoise; p.Seed = 99; p.Gain = 0.9 },
			func(p *Params) { p.Wave = WaveTriangle; p.Freq = 50 },
		} {
			p := testParams()
			p.Channels = channels
			f(&p)
			seq = append(seq, p)
			_ = i
		}
		const segFrames = 20011 // not a multiple of the control period
		ref := NewSynth(&seq[0])
		var want []int16
		for i := range seq {
			want = append(want, renderN(ref, &seq[i], segFrames)...)
		}
		rng := rand.New(rand.NewPCG(1, 2))
		s := NewSynth(&seq[0])
		var got []int16
		for i := range seq {
			for left := segFrames; left > 0; {
				n := min(left, []int{1, 2, 7, 31, 32, 33, 100, 1152, 4000}[rng.IntN(9)])
				got = append(got, renderN(s, &seq[i], n)...)
				left -= n
			}
		}
		if i := firstDiff(got, want); i >= 0 {
			t.Errorf("%d ch: chunked render differs from whole render at sample %d", channels, i)
		}
	}
}

func firstDiff(a, b []int16) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func TestSynthDeterministic(t *testing.T) {
	for _, mode := range []Mode{ModeTone, ModeMelody} {
		p := testParams()
		p.Mode, p.Wave, p.Seed = mode, WaveNoise, 42
		if mode == ModeMelody {
			p.Wave = WaveSaw
		}
		a, b := steady(p, 3), steady(p, 3)
		if !slices.Equal(a, b) {
			t.Errorf("%v: same seed, different samples", mode)
		}
		p.Seed = 43
		if c := steady(p, 3); slices.Equal(a, c) {
			t.Errorf("%v: seeds 42 and 43 give the same samples", mode)
		}
	}
}

// TestSynthSeedChange: a new seed mid-stream changes the noise from the next
// control period on.
func TestSynthSeedChange(t *testing.T) {
	p := testParams()
	p.Wave = WaveNoise
	q := p
	q.Seed = 7
	a := NewSynth(&p)
	renderN(a, &p, 3200)
	x := renderN(a, &q, 3200)
	b := NewSynth(&p)
	renderN(b, &p, 3200)
	y := renderN(b, &q, 3200)
	if !slices.Equal(x, y) {
		t.Error("seed change is not deterministic")
	}
	c := NewSynth(&p)
	renderN(c, &p, 3200)
	if z := renderN(c, &p, 3200); slices.Equal(x, z) {
		t.Error("seed change had no effect")
	}
}

func TestSynthNoise(t *testing.T) {
	p := testParams()
	p.Wave, p.Channels, p.Gain = WaveNoise, 1, 1
	x := steady(p, 2)
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	mean := sum / float64(len(x))
	rms := math.Sqrt(energy(x) / float64(len(x)))
	want := 32767 / math.Sqrt(3) * 0.95 // uniform white noise, less what the filter takes above 0.45·rate
	if math.Abs(mean) > 100 || math.Abs(rms-want)/want > 0.05 {
		t.Errorf("noise: mean %.1f, RMS %.0f; want ~0, %.0f ± 5%%", mean, rms, want)
	}
}

// TestSynthHostileParams: no Params value panics, makes Render return short
// or produces anything but bounded samples.
func TestSynthHostileParams(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for i, f := range []func(*Params){
		func(p *Params) { p.Freq, p.Gain, p.Cutoff, p.Pan, p.Tempo = nan, nan, nan, nan, nan },
		func(p *Params) { p.Freq, p.Gain, p.Cutoff, p.Pan, p.Tempo = inf, inf, inf, inf, inf },
		func(p *Params) { p.Freq, p.Gain, p.Cutoff, p.Pan, p.Tempo = -inf, -1, -5, -9, -1 },
		func(p *Params) { p.Freq, p.Cutoff, p.Tempo = 0, 0, 0 },
		func(p *Params) { p.Mode, p.Wave, p.Scale = 200, 200, 200 },
		func(p *Params) { p.Mode, p.Root, p.Tempo = ModeMelody, -50, 1e9 },
		func(p *Params) { p.Mode, p.Root, p.Tempo = ModeMelody, 1000, 1e-9 },
		func(p *Params) { p.SampleRate, p.Channels = -1, 99 },
		func(p *Params) { p.Mode, p.Anchor = ModeMelody, Anchor{Frame: math.MinInt64, Step: nan} },
		func(p *Params) { p.Mode, p.Anchor = ModeMelody, Anchor{Frame: math.MaxInt64, Step: -inf} },
		func(p *Params) { p.Mode, p.Anchor = ModeMelody, Anchor{Frame: 1, Step: 1e300} },
		func(p *Params) { p.Mode, p.Anchor = ModeMelody, Anchor{Frame: MaxAnchorFrame, Step: -MaxAnchorStep} },
		func(p *Params) {
			p.Mode, p.Anchor, p.Tempo = ModeMelody, Anchor{Frame: -MaxAnchorFrame, Step: MaxAnchorStep}, 1e9
		},
	} {
		p := testParams()
		f(&p)
		for _, start := range []Params{p, testParams()} { // as initial and as a later setting
			for _, frame := range []int64{0, -5, 1<<40 + 7, MaxAnchorFrame, math.MaxInt64} {
				s := NewSynthAt(&start, frame)
				if n := s.Render(make([]int16, 2*4410), &p); n != 2*4410 {
					t.Errorf("case %d, frame %d: Render returned %d; want %d", i, frame, n, 2*4410)
				}
			}
		}
	}
	if s := NewSynth(&Params{}); s.SampleRate() != 44100 || s.Channels() != 2 {
		t.Errorf("NewSynth(zero Params): %d Hz, %d ch; want 44100 Hz, 2 ch", s.SampleRate(), s.Channels())
	}
}

// TestSynthRenderLengths: Render fills whole frames, leaves a trailing
// partial frame untouched, ignores p's format fields, and accepts nil p.
func TestSynthRenderLengths(t *testing.T) {
	p := testParams()
	s := NewSynth(&p)
	if n := s.Render(nil, &p); n != 0 {
		t.Errorf("Render(nil) = %d; want 0", n)
	}
	dst := []int16{7, 7, 7, 7, 7}
	if n := s.Render(dst, &p); n != 4 || dst[4] != 7 {
		t.Errorf("Render(5 samples, stereo) = %d, dst[4] = %d; want 4, 7 untouched", n, dst[4])
	}

	q := p
	q.SampleRate, q.Channels, q.Bitrate = 16000, 1, 8
	a, b := NewSynth(&p), NewSynth(&p)
	if x, y := renderN(a, &p, 5000), renderN(b, &q, 5000); !slices.Equal(x, y) {
		t.Error("Render's output depends on p's format fields")
	}
	if x, y := renderN(a, &p, 5000), renderN(b, nil, 5000); !slices.Equal(x, y) {
		t.Error("Render(dst, nil) does not keep the last settings")
	}
}

func TestToInt16(t *testing.T) {
	for _, c := range []struct {
		x    float64
		want int16
	}{
		{0, 0}, {0.49, 0}, {0.5, 1}, {-0.5, 0}, {-0.51, -1}, {-0.49, 0}, {1234.4, 1234}, {-1234.6, -1235},
		{32766.4, 32766}, {32766.5, 32767}, {32767, 32767}, {1e12, 32767}, {math.Inf(1), 32767},
		{-32767.6, -32768}, {-32768, -32768}, {-1e12, -32768}, {math.Inf(-1), -32768}, {math.NaN(), 0},
	} {
		if got := toInt16(c.x); got != c.want {
			t.Errorf("toInt16(%v) = %d; want %d", c.x, got, c.want)
		}
	}
}

func TestSin2pi(t *testing.T) {
	worst := 0.0
	for i := range 1 << 20 {
		x := float64(i) / (1 << 20)
		worst = max(worst, math.Abs(sin2pi(x)-math.Sin(2*math.Pi*x)))
	}
	if worst > 1e-8 {
		t.Errorf("sin2pi: max error %g; want <= 1e-8", worst)
	}
}

// TestPhaseInRange: the phase accumulator stays in [0,1) whatever the
// frequency changes.
func TestPhaseInRange(t *testing.T) {
	p := testParams()
	s := NewSynth(&p)
	for _, f := range []float64{1, 19845, 20000, 7, 12345.678, 440} {
		p.Freq = f
		for range 50 {
			renderN(s, &p, 97)
			if s.phase < 0 || s.phase >= 1 {
				t.Fatalf("freq %v: phase %v outside [0,1)", f, s.phase)
			}
		}
	}
}

func BenchmarkSynthRender(b *testing.B) {
	for _, c := range []struct {
		name string
		f    func(*Params)
	}{
		{"sine", func(p *Params) {}},
		{"saw", func(p *Params) { p.Wave = WaveSaw }},
		{"square", func(p *Params) { p.Wave = WaveSquare }},
		{"noise", func(p *Params) { p.Wave = WaveNoise }},
		{"melody", func(p *Params) { p.Mode = ModeMelody }},
		{"sine-mono", func(p *Params) { p.Channels = 1 }},
	} {
		b.Run(c.name, func(b *testing.B) {
			p := testParams()
			c.f(&p)
			s := NewSynth(&p)
			dst := make([]int16, p.SampleRate*s.Channels()) // one second
			b.SetBytes(int64(2 * len(dst)))
			b.ReportAllocs()
			for b.Loop() {
				s.Render(dst, &p)
			}
		})
	}
}
