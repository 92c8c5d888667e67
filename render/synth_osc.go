package render

import "math"

// oscWave renders len(buf) frames of wave w, with a peak of 1, starting at
// phase (in [0,1)) and advancing it by dt (in (0, 0.5)) per frame; it returns
// the phase after the last frame. WaveNoise is counter-based instead: frame
// i of buf is splitmixMix(noise + (i+1)·splitmixGamma), a function of the
// counter alone; it advances the phase all the same.
//
// Square and saw are band-limited with PolyBLEP: a two-frame polynomial
// correction at each discontinuity removes most of the aliasing a naive
// shape folds back below Nyquist. Triangle has no discontinuity and its
// harmonics fall as 1/n², so it is left naive. Every shape is in phase with
// the sine (rising through zero or starting high at phase 0), which keeps a
// crossfade between shapes smooth.
func oscWave(w Wave, buf []float64, phase, dt float64, noise uint64) float64 {
	switch w {
	case WaveSquare:
		inv := 1 / dt
		for i := range buf {
			v := 1.0
			if phase >= 0.5 {
				v = -1
			}
			half := phase + 0.5
			if half >= 1 {
				half--
			}
			buf[i] = v + polyBLEP(phase, dt, inv) - polyBLEP(half, dt, inv)
			if phase += dt; phase >= 1 {
				phase--
			}
		}
	case WaveSaw:
		inv := 1 / dt
		for i := range buf {
			buf[i] = 2*phase - 1 - polyBLEP(phase, dt, inv)
			if phase += dt; phase >= 1 {
				phase--
			}
		}
	case WaveTriangle:
		for i := range buf {
			u := phase + 0.25
			if u >= 1 {
				u--
			}
			buf[i] = 1 - 4*math.Abs(u-0.5)
			if phase += dt; phase >= 1 {
				phase--
			}
		}
	case WaveNoise:
		// The phase runs on unheard, so a crossfade from noise, or a later
		// switch, continues the oscillator where it would have been.
		x := noise
		for i := range buf {
			x += splitmixGamma
			buf[i] = float64(int64(splitmixMix(x))) * 0x1p-63
			if phase += dt; phase >= 1 {
				phase--
			}
		}
	default: // WaveSine
		for i := range buf {
			buf[i] = sin2pi(phase)
			if phase += dt; phase >= 1 {
				phase--
			}
		}
	}
	return phase
}

// polyBLEP returns the PolyBLEP residual for a step of −2 (from +1 to −1) at
// phase 0 of a waveform whose phase advances by dt (inv = 1/dt) per frame;
// subtracting it smooths the step over the two frames around it, and it is
// zero elsewhere.
func polyBLEP(t, dt, inv float64) float64 {
	if t < dt {
		t *= inv
		return t + t - t*t - 1
	}
	if t > 1-dt {
		t = (t - 1) * inv
		return t*t + t + t + 1
	}
	return 0
}

// Coefficients of sin(2πt) ≈ t·(s1 + s3·t² + s5·t⁴ + s7·t⁶ + s9·t⁸) on
// |t| ≤ ¼: a Chebyshev fit (mpmath.chebyfit of sin(2π√v)/√v on [0, 1/16]),
// within 6.7e-9 of sin (0.0002 LSB at 16 bits).
const (
	sinS1 = 6.2831852801544065
	sinS3 = -41.341680613346515
	sinS5 = 81.60247636892518
	sinS7 = -76.58117264427872
	sinS9 = 39.7598270853191
)

// sin2pi returns sin(2πx) for x in [0,1), about four times as fast as
// math.Sin and within 7e-9 of it.
func sin2pi(x float64) float64 {
	// sin(2πx) = −sin(2πt) with t = x − ½ in [−½, ½); fold t into [−¼, ¼]
	// using sin(π − a) = sin a.
	t := x - 0.5
	if t > 0.25 {
		t = 0.5 - t
	} else if t < -0.25 {
		t = -0.5 - t
	}
	t2 := t * t
	return -t * (sinS1 + t2*(sinS3+t2*(sinS5+t2*(sinS7+t2*sinS9))))
}

// splitmix64 (Steele, Lea, Flood 2014): a 64-bit state advanced by a
// constant and hashed. Cheap, statistically strong for audio and melody
// choices, and stable across Go versions, unlike math/rand's generators
// whose streams are not promised to stay the same.
const splitmixGamma = 0x9e3779b97f4a7c15

func splitmixMix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// splitmixNext advances *state and returns the next value.
func splitmixNext(state *uint64) uint64 {
	*state += splitmixGamma
	return splitmixMix(*state)
}

// midiHz returns the equal-tempered frequency of MIDI note n (A4 = 69 =
// 440 Hz).
func midiHz(n int) float64 {
	return 440 * math.Exp2(float64(n-69)/12)
}
