package mp3

import (
	"math"
)

// frontEnd is the analysis front end's state: the polyphase filterbank's
// sample history and the subband samples the MDCT overlaps, per channel.
//
// synthcast: upstream computes the filterbank and the MDCT in 32-bit fixed
// point. Its sums wrap around on strong input (a crack, not clipping: a
// full-scale sine overflows above 0.67 of full scale), so synthcast used to
// halve every input. This front end computes in float32, where nothing
// wraps, with the kernels in kernels.go (AVX2 in kernels_amd64.s); only its
// output, the spectrum the quantizer reads, is fixed point as before.
type frontEnd struct {
	// x holds each channel's newest 512 samples, newest first, twice over:
	// sample i of the circular window is at x[off+i] for off = Off[ch]
	// and i < 512, so the window is always one contiguous run.
	x   [MAX_CHANNELS][2 * HAN_SIZE]float32
	off [MAX_CHANNELS]int

	// sub holds each channel's subband samples of two granules,
	// [18·slot+time][subband]: the previous granule's in slot last[ch],
	// the next one's in the other.
	sub  [MAX_CHANNELS][2 * 18][32]float32
	last [MAX_CHANNELS]int
}

// frontEndGainSteps is added to every granule's global gain: the front end
// delivers the spectrum at 2^(−frontEndGainSteps/4) of its level, so that the
// loudest possible input still fits the quantizer's 32 bits (see
// mdctScale), and the decoder puts the level back.
const frontEndGainSteps = 4

// fbWindow is the analysis window (ISO 11172-3 table C.1, tables.go) in
// float32, scaled for 16-bit samples as upstream's fixed point was: a
// sample s there was s·2^16 and each product was shifted right by 32.
// Read-only after initialisation, as are the other tables.
var fbWindow = func() (w [HAN_SIZE]float32) {
	for i, v := range values {
		w[i] = float32(v * math.MaxInt32 / (1 << 16))
	}
	return w
}()

// fbMatrix[odd] is the filterbank's matrixing, column-major for mat32:
// fbMatrix[0][j][i] = cos((2i+1)(16−j)π/64)/2 (upstream's coefficient,
// shifted right by 32). In fbMatrix[1] the odd subbands are negated: the
// MDCT wants every odd subband of every odd time slot inverted (ISO
// 11172-3, 2.4.3.4.10.1), and doing it here costs nothing.
var fbMatrix = func() (m [2][64][32]float32) {
	for j := range 64 {
		for i := range 32 {
			c := math.Cos(float64((2*i+1)*(16-j))*math.Pi/64) * math.MaxInt32 / (1 << 32)
			m[0][j][i] = float32(c)
			m[1][j][i] = float32(c)
			if i%2 == 1 {
				m[1][j][i] = float32(-c)
			}
		}
	}
	return m
}()

// subbandInitialize clears the filterbank's history.
func (enc *Encoder) subbandInitialize() {
	enc.fe.x = [MAX_CHANNELS][2 * HAN_SIZE]float32{}
	enc.fe.off = [MAX_CHANNELS]int{}
}

// windowFilterSubband reads 32 samples of channel ch, every stride-th of
// pcm from its first, and writes their 32 subband samples to s, negated in
// the odd subbands if odd is 1.
func (enc *Encoder) windowFilterSubband(pcm []int16, s *[32]float32, ch, stride, odd int) {
	x := &enc.fe.x[ch]
	off := enc.fe.off[ch]
	w := (*[HAN_SIZE + 32]float32)(x[off:]) // off ≤ 480
	pcm = pcm[:31*stride+1]
	for i := range 32 {
		v := float32(pcm[i*stride])
		w[31-i] = v
		x[off+31-i+HAN_SIZE] = v
	}

	var y [64]float32
	window64((*[HAN_SIZE]float32)(w[:HAN_SIZE]), &fbWindow, &y)
	enc.fe.off[ch] = (off + HAN_SIZE - 32) & (HAN_SIZE - 1)

	filterMatrix(&y, s, odd)
}
