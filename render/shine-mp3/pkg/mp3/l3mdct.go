package mp3

import (
	"math"
)

// mdctScale is the level at which the front end delivers the spectrum,
// relative to upstream's fixed point (whose MDCT already halved it): ½ to
// leave headroom, compensated by frontEndGainSteps in the global gain, and
// 8/9 to cancel the filterbank's own gain of 9/8 (+1.02 dB), so that audio
// decodes at the level it was given.
//
// The largest coefficient a 16-bit input can produce, found from the
// filterbank's impulse responses (render/testdata/shine_worst_case.txt),
// is 1.833 of upstream's full scale; at this level it is 0.815, and the
// butterflies that follow can at most multiply by √2, which toSpectrum
// clamps.
const mdctScale = 0.5 * 8 / 9

// mdctMatrix[0] is the 36-point MDCT with its sine window, row-major for
// mat32: mdctMatrix[0][k·36+j] = sin(π/36·(j+½))·cos(π/72·(2j+19)(2k+1))/2,
// upstream's coefficient, times mdctScale. mdctMatrix[1] is the same with
// its halves swapped, for input whose newer granule comes first in memory.
var mdctMatrix = func() (m [2][18 * 36]float32) {
	for k := range 18 {
		for j := range 36 {
			c := float32(math.Sin(math.Pi/36*(float64(j)+0.5)) *
				math.Cos(math.Pi/72*float64(2*j+19)*float64(2*k+1)) *
				math.MaxInt32 / (1 << 32) * mdctScale)
			m[0][k*36+j] = c
			m[1][k*36+(j+18)%36] = c
		}
	}
	return m
}()

// aliasCS and aliasCA are the alias-reduction butterflies' coefficients
// (ISO 11172-3 table B.9): cs = 1/√(1+c²), ca = c/√(1+c²).
var aliasCS, aliasCA = func() (cs, ca [8]float32) {
	for i, c := range [8]float64{-0.6, -0.535, -0.33, -0.185, -0.095, -0.041, -0.0142, -0.0037} {
		d := math.Sqrt(1 + c*c)
		cs[i], ca[i] = float32(1/d), float32(c/d)
	}
	return cs, ca
}()

// mdctInitialize clears the subband samples the MDCT overlaps.
func (enc *Encoder) mdctInitialize() {
	enc.fe.sub = [MAX_CHANNELS][2 * 18][32]float32{}
	enc.fe.last = [MAX_CHANNELS]int{}
}

// mdctSub runs the front end over one frame: 18 filterbank calls per
// granule and channel, then the MDCT of each subband over this granule and
// the one before, alias reduction, and the spectrum into mdctFrequency.
func (enc *Encoder) mdctSub(pcm []int16) {
	granules := int(enc.Mpeg.GranulesPerFrame)
	channels := int(enc.Wave.Channels)
	for ch := channels - 1; ch >= 0; ch-- {
		pos := ch // the channel's next sample in pcm
		sub := (*[36][32]float32)(&enc.fe.sub[ch])
		for gr := range granules {
			// The new granule goes in the slot the one before last used;
			// the MDCT's 36 inputs are both slots, the newer one second
			// (matrix 0) or first (matrix 1) in memory.
			slot := 1 - enc.fe.last[ch]
			cur := sub[18*slot : 18*slot+18]
			for k := 0; k < 18; k += 2 {
				enc.windowFilterSubband(pcm[pos:], &cur[k], ch, channels, 0)
				enc.windowFilterSubband(pcm[pos+32*channels:], &cur[k+1], ch, channels, 1)
				pos += 64 * channels
			}
			var out [18][32]float32
			mdct(sub, &out, 1-slot)
			toSpectrum(&out, &enc.mdctFrequency[ch][gr])
			enc.fe.last[ch] = slot
		}
	}
}

// clampSpectrum is the largest magnitude the spectrum gets: the largest
// float32 below 2^31.
const clampSpectrum = 1<<31 - 128

// aliasReduce applies the alias-reduction butterflies between neighbouring
// subbands to the MDCT's output, out[k][band].
func aliasReduce(out *[18][32]float32) {
	for i := range 8 {
		lo, hi := &out[i], &out[17-i]
		cs, ca := aliasCS[i], aliasCA[i]
		for band := 1; band < 32; band++ {
			a, b := lo[band], hi[band-1]
			lo[band] = a*cs - b*ca
			hi[band-1] = a*ca + b*cs
		}
	}
}

// toSpectrumGo applies the butterflies and writes the result, subband by
// subband, as the quantizer's fixed point: xr[18·band+k], truncated and
// clamped to ±clampSpectrum.
func toSpectrumGo(out *[18][32]float32, xr *[GRANULE_SIZE]int32) {
	aliasReduce(out)
	for band := range 32 {
		row := (*[18]int32)(xr[18*band:])
		for k := range row {
			row[k] = int32(min(max(out[k][band], -clampSpectrum), clampSpectrum))
		}
	}
}
