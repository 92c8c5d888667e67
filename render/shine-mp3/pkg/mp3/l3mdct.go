package mp3

import (
	"math"
)

// This is table B.9: coefficients for aliasing reduction
func MDCT_CA(coefficient float64) int32 {
	return int32(coefficient / math.Sqrt(1.0+(coefficient*coefficient)) * float64(math.MaxInt32))
}
func MDCT_CS(coefficient float64) int32 {
	return int32(1.0 / math.Sqrt(1.0+(coefficient*coefficient)) * float64(math.MaxInt32))
}

var (
	MDCT_CA0 = MDCT_CA(-0.6)
	MDCT_CA1 = MDCT_CA(-0.535)
	MDCT_CA2 = MDCT_CA(-0.33)
	MDCT_CA3 = MDCT_CA(-0.185)
	MDCT_CA4 = MDCT_CA(-0.095)
	MDCT_CA5 = MDCT_CA(-0.041)
	MDCT_CA6 = MDCT_CA(-0.0142)
	MDCT_CA7 = MDCT_CA(-0.0037)

	MDCT_CS0 = MDCT_CS(-0.6)
	MDCT_CS1 = MDCT_CS(-0.535)
	MDCT_CS2 = MDCT_CS(-0.33)
	MDCT_CS3 = MDCT_CS(-0.185)
	MDCT_CS4 = MDCT_CS(-0.095)
	MDCT_CS5 = MDCT_CS(-0.041)
	MDCT_CS6 = MDCT_CS(-0.0142)
	MDCT_CS7 = MDCT_CS(-0.0037)
)

func (enc *Encoder) mdctInitialize() {
	var (
		m int64
		k int64
	)
	for m = 18; func() int64 {
		p := &m
		x := *p
		*p--
		return x
	}() != 0; {
		for k = 36; func() int64 {
			p := &k
			x := *p
			*p--
			return x
		}() != 0; {
			enc.fe.mdct.CosL[m][k] = int32(math.Sin(PI36*(float64(k)+0.5)) * math.Cos((PI/72)*float64(k*2+19)*float64(m*2+1)) * math.MaxInt32)
		}
	}
}

// mdctWin is the MDCT's sine window, sin(π/36·(n+½)), and mdctCos4 the
// DCT-IV kernel cos(π/18·(n+½)(k+½)), both scaled by 2³¹−1. Computed once;
// read-only afterwards.
var mdctWin, mdctCos4 = mdctTables()

func mdctTables() (win [36]int32, cos4 [18][18]int32) {
	for n := range win {
		win[n] = int32(math.Sin(PI36*(float64(n)+0.5)) * math.MaxInt32)
	}
	for k := range cos4 {
		for n := range cos4[k] {
			cos4[k][n] = int32(math.Cos(math.Pi/18*(float64(n)+0.5)*(float64(k)+0.5)) * math.MaxInt32)
		}
	}
	return win, cos4
}

// mdct18 computes out[k] = Σ_j in[j]·CosL[k][j], the windowed 36-point
// MDCT scaled as upstream (by a half), with half the products. The cosine
// is c(J) = cos(π/18·J·(k+½)) with J = j+9.5, and c(36−J) = c(J+36) =
// −c(J) for every k, so each windowed input lands, with a sign, on one of
// 18 points J = n+½: inputs j = 0…8 at n = j+9 (+), j = 9…26 at n = 26−j
// (−), j = 27…35 at n = j−27 (−). The MDCT is then the 18-point DCT-IV of
// the folded sums.
//
// synthcast: upstream multiplies the 18×36 matrix CosL (648 products a
// subband); this is 36 + 324. The window and the cosine are applied in two
// steps, so the results differ from upstream's in the last bits; checked
// against the full product by TestMDCTMatchesFullProduct.
func mdct18(in *[36]int32, out *[18]int32) {
	var w [36]int64 // windowed input, in·win/2 (as mul)
	for j := range w {
		w[j] = int64(in[j]) * int64(mdctWin[j]) >> 32
	}
	var u [18]int64
	for n := range 9 {
		u[n] = -w[26-n] - w[n+27] // j = 18…26 and 27…35
		u[n+9] = w[n] - w[17-n]   // j = 0…8 and 17…9
	}
	for k := range out {
		c := &mdctCos4[k]
		var v int32
		for n := range u {
			v += int32(u[n] * int64(c[n]) >> 31)
		}
		out[k] = v
	}
}

func (enc *Encoder) mdctSub(stride int64) {
	var (
		ch      int64
		gr      int64
		band    int64
		k       int64
		mdct_in [36]int32
	)
	for ch = enc.Wave.Channels; func() int64 {
		p := &ch
		x := *p
		*p--
		return x
	}() != 0; {
		for gr = 0; gr < enc.Mpeg.GranulesPerFrame; gr++ {
			mdct_enc := &enc.mdctFrequency[ch][gr]
			for k = 0; k < 18; k += 2 {
				enc.windowFilterSubband(&enc.buffer[ch], &enc.fe.l3SubbandSamples[ch][gr+1][k], ch, stride)
				enc.windowFilterSubband(&enc.buffer[ch], &enc.fe.l3SubbandSamples[ch][gr+1][k+1], ch, stride)
				for band = 1; band < 32; band += 2 {
					enc.fe.l3SubbandSamples[ch][gr+1][k+1][band] *= -1
				}
			}
			for band = 0; band < 32; band++ {
				for k = 18; func() int64 {
					p := &k
					x := *p
					*p--
					return x
				}() != 0; {
					mdct_in[k] = enc.fe.l3SubbandSamples[ch][gr][k][band]
					mdct_in[k+18] = enc.fe.l3SubbandSamples[ch][gr+1][k][band]
				}
				mdct18(&mdct_in, (*[18]int32)(mdct_enc[band*18:]))
				// Perform aliasing reduction butterfly
				if band != 0 {
					mdct_enc[band*18+0], mdct_enc[(band-1)*18+17-0] = cmuls(
						&mdct_enc[band*18+0], &mdct_enc[(band-1)*18+17-0],
						&MDCT_CS0, &MDCT_CA0,
					)

					mdct_enc[band*18+1], mdct_enc[(band-1)*18+17-1] = cmuls(
						&mdct_enc[band*18+1], &mdct_enc[(band-1)*18+17-1],
						&MDCT_CS1, &MDCT_CA1,
					)

					mdct_enc[band*18+2], mdct_enc[(band-1)*18+17-2] = cmuls(
						&mdct_enc[band*18+2], &mdct_enc[(band-1)*18+17-2],
						&MDCT_CS2, &MDCT_CA2,
					)

					mdct_enc[band*18+3], mdct_enc[(band-1)*18+17-3] = cmuls(
						&mdct_enc[band*18+3], &mdct_enc[(band-1)*18+17-3],
						&MDCT_CS3, &MDCT_CA3,
					)

					mdct_enc[band*18+4], mdct_enc[(band-1)*18+17-4] = cmuls(
						&mdct_enc[band*18+4], &mdct_enc[(band-1)*18+17-4],
						&MDCT_CS4, &MDCT_CA4,
					)

					mdct_enc[band*18+5], mdct_enc[(band-1)*18+17-5] = cmuls(
						&mdct_enc[band*18+5], &mdct_enc[(band-1)*18+17-5],
						&MDCT_CS5, &MDCT_CA5,
					)

					mdct_enc[band*18+6], mdct_enc[(band-1)*18+17-6] = cmuls(
						&mdct_enc[band*18+6], &mdct_enc[(band-1)*18+17-6],
						&MDCT_CS6, &MDCT_CA6,
					)

					mdct_enc[band*18+7], mdct_enc[(band-1)*18+17-7] = cmuls(
						&mdct_enc[band*18+7], &mdct_enc[(band-1)*18+17-7],
						&MDCT_CS7, &MDCT_CA7,
					)
				}
			}
		}
		copy(enc.fe.l3SubbandSamples[ch][0][:], enc.fe.l3SubbandSamples[ch][enc.Mpeg.GranulesPerFrame][:])
	}
}
