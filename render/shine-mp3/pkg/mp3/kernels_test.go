package mp3

import (
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"
)

// The front end's kernels are held to each other (SIMD against Go, lane by
// lane) and to float64 (Go against the definition), and the whole front end
// to the ISO filterbank and MDCT computed in float64.

// tolerance is how far a float32 sum of n products may be from the exact
// one, relative to the sum of the products' magnitudes: each of the n
// roundings loses at most half a unit in the last place, and FMA or a
// different order only moves where.
func tolerance(n int, absSum float64) float64 {
	return float64(n+1) * 0x1p-24 * absSum
}

// inputs are the kernels' test signals: random at every level, full scale,
// silence, alternating signs at full scale, and a single impulse; fill
// writes the kind'th into v.
const inputKinds = 6

func fill(v []float32, kind int, r *rand.Rand) {
	for i := range v {
		switch kind {
		case 0: // random, 16-bit range
			v[i] = float32(r.IntN(65536) - 32768)
		case 1: // random at a random level, down to the last bits
			v[i] = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(40)-20))
		case 2: // full scale, one sign
			v[i] = 32767
		case 3: // silence
			v[i] = 0
		case 4: // alternating signs at full scale
			v[i] = float32(32767 * (1 - 2*(i&1)))
		case 5: // one impulse
			v[i] = 0
			if i == r.IntN(len(v)) {
				v[i] = -32768
			}
		}
	}
}

// checkLanes fails for every lane where got is further from want than tol.
func checkLanes(t *testing.T, what string, got []float32, want, tol []float64) {
	t.Helper()
	bad := 0
	for i := range got {
		if d := math.Abs(float64(got[i]) - want[i]); d > tol[i] || math.IsNaN(d) {
			if bad++; bad <= 5 {
				t.Errorf("%s: lane %d = %g, want %g (±%g)", what, i, got[i], want[i], tol[i])
			}
		}
	}
}

// window64Exact is window64 in float64, with each lane's tolerance.
func window64Exact(x, win *[HAN_SIZE]float32) (want, tol []float64) {
	want, tol = make([]float64, 64), make([]float64, 64)
	for i := range 64 {
		var s, a float64
		for k := range 8 {
			p := float64(x[64*k+i]) * float64(win[64*k+i])
			s += p
			a += math.Abs(p)
		}
		want[i], tol[i] = s, tolerance(8, a)
	}
	return want, tol
}

// mat32Exact is mat32 in float64, with each lane's tolerance.
func mat32Exact(m int, rows [][32]float32, coef []float32) (want, tol []float64) {
	n := len(rows)
	want, tol = make([]float64, 32*m), make([]float64, 32*m)
	for r := range m {
		for i := range 32 {
			var s, a float64
			for j := range n {
				p := float64(coef[r*n+j]) * float64(rows[j][i])
				s += p
				a += math.Abs(p)
			}
			want[32*r+i], tol[32*r+i] = s, tolerance(n, a)
		}
	}
	return want, tol
}

func TestWindow64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var x, win [HAN_SIZE]float32
	var got, simd [64]float32
	for iter := range 3000 {
		fill(x[:], iter%inputKinds, r)
		if iter%2 == 0 {
			win = fbWindow
		} else {
			fill(win[:], 1, r)
		}
		want, tol := window64Exact(&x, &win)
		window64Go(&x, &win, &got)
		checkLanes(t, "window64Go", got[:], want, tol)
		if haveSIMD {
			window64(&x, &win, &simd)
			checkLanes(t, "window64 (AVX2)", simd[:], want, tol)
		}
		if t.Failed() {
			t.Fatalf("input kind %d", iter%inputKinds)
		}
	}
	logPath(t)
}

func TestMat32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, mn := range [][2]int{{1, 64}, {18, 36}, {1, 2}, {3, 4}, {2, 18}} {
		m, n := mn[0], mn[1]
		rows := make([][32]float32, n)
		coef := make([]float32, m*n)
		got, simd := make([][32]float32, m), make([][32]float32, m)
		for iter := range 1000 {
			for j := range rows {
				fill(rows[j][:], iter%inputKinds, r)
			}
			fill(coef, 1, r)
			if iter%3 == 0 && m == 1 && n == 64 {
				copy(coef, fbMatrix[0][r.IntN(32)][:]) // any column's magnitudes
			}
			want, tol := mat32Exact(m, rows, coef)
			mat32Go(got, rows, coef)
			checkLanes(t, "mat32Go", flat(got), want, tol)
			if haveSIMD {
				mat32(simd, rows, coef)
				checkLanes(t, "mat32 (AVX2)", flat(simd), want, tol)
			}
			if t.Failed() {
				t.Fatalf("%d×%d, input kind %d", m, n, iter%inputKinds)
			}
		}
	}
	logPath(t)
}

func flat(v [][32]float32) []float32 {
	return unsafe.Slice(&v[0][0], 32*len(v))
}

func logPath(t *testing.T) {
	if haveSIMD {
		t.Log("checked the AVX2 kernels and the Go ones")
	} else {
		t.Log("checked the Go kernels (no AVX2+FMA, or -tags purego)")
	}
}

// FuzzKernels holds the AVX2 kernels to the Go ones on any input, lane by
// lane, within the float32 bound (both against the float64 sum).
func FuzzKernels(f *testing.F) {
	f.Add(uint64(1), uint8(0))
	f.Add(uint64(7), uint8(4))
	f.Fuzz(func(t *testing.T, seed uint64, kind uint8) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var x [HAN_SIZE]float32
		fill(x[:], int(kind)%inputKinds, r)
		var y, ySIMD [64]float32
		want, tol := window64Exact(&x, &fbWindow)
		window64Go(&x, &fbWindow, &y)
		window64(&x, &fbWindow, &ySIMD)
		checkLanes(t, "window64Go", y[:], want, tol)
		checkLanes(t, "window64", ySIMD[:], want, tol)

		rows := make([][32]float32, 36)
		for j := range rows {
			fill(rows[j][:], int(kind>>3)%inputKinds, r)
		}
		got, gotSIMD := make([][32]float32, 18), make([][32]float32, 18)
		wantM, tolM := mat32Exact(18, rows, mdctMatrix[0][:])
		mat32Go(got, rows, mdctMatrix[0][:])
		mat32(gotSIMD, rows, mdctMatrix[0][:])
		checkLanes(t, "mat32Go", flat(got), wantM, tolM)
		checkLanes(t, "mat32", flat(gotSIMD), wantM, tolM)
	})
}

// refFrontEnd is the analysis front end as ISO 11172-3 defines it, in
// float64 and on a circular buffer as upstream shine does, at the scale
// this package's front end delivers (mdctScale): the reference for
// TestFrontEndMatchesReference.
type refFrontEnd struct {
	x   [MAX_CHANNELS][HAN_SIZE]float64
	off [MAX_CHANNELS]int
	sub [MAX_CHANNELS][3][18][32]float64
}

func (r *refFrontEnd) frame(pcm []int16, channels, granules int, xr *[2][2][GRANULE_SIZE]float64) {
	pos := [2]int{0, 1}
	for ch := range channels {
		for gr := range granules {
			for k := range 18 {
				x := &r.x[ch]
				for i := 31; i >= 0; i-- {
					x[(r.off[ch]+i)&(HAN_SIZE-1)] = float64(pcm[pos[ch]])
					pos[ch] += channels
				}
				var y [64]float64
				for i := range 64 {
					for j := range 8 {
						y[i] += x[(r.off[ch]+i+64*j)&(HAN_SIZE-1)] * values[i+64*j] * math.MaxInt32 / (1 << 16)
					}
				}
				r.off[ch] = (r.off[ch] + 480) & (HAN_SIZE - 1)
				for i := range 32 {
					var s float64
					for j := range 64 {
						s += math.Cos(float64((2*i+1)*(16-j))*math.Pi/64) * math.MaxInt32 / (1 << 32) * y[j]
					}
					if k%2 == 1 && i%2 == 1 {
						s = -s
					}
					r.sub[ch][gr+1][k][i] = s
				}
			}
			out := &xr[ch][gr]
			for band := range 32 {
				for k := range 18 {
					var s float64
					for j := range 36 {
						in := r.sub[ch][gr+j/18][j%18][band]
						s += in * math.Sin(math.Pi/36*(float64(j)+0.5)) * math.Cos(math.Pi/72*float64(2*j+19)*float64(2*k+1))
					}
					out[18*band+k] = s * math.MaxInt32 / (1 << 32) * mdctScale
				}
				if band > 0 {
					for i, c := range [8]float64{-0.6, -0.535, -0.33, -0.185, -0.095, -0.041, -0.0142, -0.0037} {
						cs, ca := 1/math.Sqrt(1+c*c), c/math.Sqrt(1+c*c)
						a, b := out[18*band+i], out[18*band-1-i]
						out[18*band+i], out[18*band-1-i] = a*cs-b*ca, a*ca+b*cs
					}
				}
			}
		}
		r.sub[ch][0] = r.sub[ch][granules]
	}
}

// TestFrontEndMatchesReference runs the front end (SIMD or Go, as this
// build has) and the float64 reference over the same frames, in every
// channel and granule layout, and bounds the difference of each spectral
// line by 2^-17 of full scale: 2^14 of the quantizer's units, far below
// what a 16-bit input can carry (its own quantization noise is 2^-16).
func TestFrontEndMatchesReference(t *testing.T) {
	for _, c := range []struct{ rate, channels int }{{44100, 2}, {44100, 1}, {22050, 2}, {16000, 1}} {
		enc := NewEncoder(c.rate, c.channels)
		enc.attach() // keeps its frameState, to read mdctFrequency
		granules := int(enc.Mpeg.GranulesPerFrame)
		var ref refFrontEnd
		r := rand.New(rand.NewPCG(5, uint64(c.rate)))
		n := granules * GRANULE_SIZE * c.channels
		pcm := make([]int16, n)
		var want [2][2][GRANULE_SIZE]float64
		worst := 0.0
		for frame := range 12 {
			for i := range n {
				switch frame % 4 {
				case 0: // noise at full scale
					pcm[i] = int16(r.IntN(65536) - 32768)
				case 1: // full-scale square, 7350 Hz (the worst case's period)
					pcm[i] = int16(32767 - 65535*((i/c.channels/3)&1))
				case 2: // silence
					pcm[i] = 0
				case 3: // quiet noise
					pcm[i] = int16(r.IntN(64) - 32)
				}
			}
			enc.encodeFrame(pcm)
			ref.frame(pcm, c.channels, granules, &want)
			for ch := range c.channels {
				for gr := range granules {
					for i, v := range enc.mdctFrequency[ch][gr] {
						d := math.Abs(float64(v) - want[ch][gr][i])
						worst = max(worst, d)
						if d > 1<<14 {
							t.Fatalf("%d Hz × %d, frame %d, channel %d, granule %d, line %d: %d, want %.0f",
								c.rate, c.channels, frame, ch, gr, i, v, want[ch][gr][i])
						}
					}
				}
			}
		}
		t.Logf("%d Hz × %d: largest difference %.0f units of 2^-31", c.rate, c.channels, worst)
	}
	logPath(t)
}

func BenchmarkWindow64(b *testing.B) {
	var x [HAN_SIZE]float32
	fill(x[:], 0, rand.New(rand.NewPCG(1, 1)))
	var y [64]float32
	b.Run("go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			window64Go(&x, &fbWindow, &y)
		}
	})
	b.Run("dispatch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			window64(&x, &fbWindow, &y)
		}
	})
}

func BenchmarkMat32MDCT(b *testing.B) {
	rows := make([][32]float32, 36)
	for j := range rows {
		fill(rows[j][:], 0, rand.New(rand.NewPCG(uint64(j), 1)))
	}
	out := make([][32]float32, 18)
	b.Run("go", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mat32Go(out, rows, mdctMatrix[0][:])
		}
	})
	b.Run("dispatch", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			mat32(out, rows, mdctMatrix[0][:])
		}
	})
}

// TestSpectrum holds toSpectrum (the AVX2 gathers, where this build has
// them) to toSpectrumGo exactly: both truncate the same float32 values,
// beyond the clamp too.
func TestSpectrum(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for iter := range 2000 {
		var in [18][32]float32
		for k := range in {
			fill(in[k][:], iter%inputKinds, r)
			for b := range in[k] {
				in[k][b] *= float32(math.Ldexp(1, r.IntN(20)))
				if iter%7 == 0 && r.IntN(8) == 0 {
					in[k][b] = float32(r.NormFloat64() * 1e10) // beyond ±2^31
				}
			}
		}
		a, b := in, in
		var got, want [GRANULE_SIZE]int32
		toSpectrum(&a, &got)
		toSpectrumGo(&b, &want)
		if got != want {
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("input kind %d: line %d (subband %d, slot %d) = %d, want %d", iter%inputKinds, i, i/18, i%18, got[i], want[i])
				}
			}
		}
	}
	logPath(t)
}
