//go:build amd64 && !purego

package mp3

import "golang.org/x/sys/cpu"

// haveSIMD reports whether the AVX2 kernels run: amd64 with AVX2 and FMA
// (Intel since Haswell, AMD since Excavator and every Zen). Set once at
// start-up; read-only afterwards.
var haveSIMD = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// window64AVX2 is window64Go with 8 lanes of i at a time.
//
//go:noescape
func window64AVX2(x, win *[HAN_SIZE]float32, y *[64]float32)

// mat32AVX2 is mat32Go for m rows of n (n even, > 0) coefficients: the 32
// lanes are four registers, with two sets of accumulators for even and odd
// j to halve the dependency chains.
//
//go:noescape
func mat32AVX2(dst *[32]float32, rows *[32]float32, coef *float32, m, n int)

func window64(x, win *[HAN_SIZE]float32, y *[64]float32) {
	if haveSIMD {
		window64AVX2(x, win, y)
		return
	}
	window64Go(x, win, y)
}

func mat32(dst [][32]float32, rows [][32]float32, coef []float32) {
	m, n := len(dst), len(rows)
	if !haveSIMD || m == 0 || n == 0 || n%2 != 0 {
		mat32Go(dst, rows, coef)
		return
	}
	_ = coef[m*n-1] // the kernel reads m·n coefficients
	mat32AVX2(&dst[0], &rows[0], &coef[0], m, n)
}

// filterMatrix is the filterbank's matrixing: s = fbMatrix[odd]·y.
func filterMatrix(y *[64]float32, s *[32]float32, odd int) {
	if haveSIMD {
		mat32AVX2(s, &fbMatrix[odd][0], &y[0], 1, 64)
		return
	}
	matrixGo(y, s, odd)
}

// mdct is the MDCT of each of the 32 subbands: out = mdctMatrix[swap]·in.
func mdct(in *[36][32]float32, out *[18][32]float32, swap int) {
	if haveSIMD {
		mat32AVX2(&out[0], &in[0], &mdctMatrix[swap][0], 18, 36)
		return
	}
	mdctGo(in, out, swap)
}

// spectrumAVX2 is toSpectrumGo's second half, subband rows from time-slot
// rows, with gathers.
//
//go:noescape
func spectrumAVX2(out *[18][32]float32, xr *[GRANULE_SIZE]int32, limit float32)

// toSpectrum applies the alias butterflies and writes the spectrum.
func toSpectrum(out *[18][32]float32, xr *[GRANULE_SIZE]int32) {
	if haveSIMD {
		aliasReduce(out)
		spectrumAVX2(out, xr, clampSpectrum)
		return
	}
	toSpectrumGo(out, xr)
}
