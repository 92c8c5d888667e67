package mp3

import (
	"math"
	"unsafe"
)

// subbandInitialize calculates the analysis filterbank coefficients and rounds to the  9th decimal
// place accuracy of the filterbank tables in the ISO document. The coefficients are stored in #filter#
func (enc *Encoder) subbandInitialize() {
	var (
		i      int64
		j      int64
		filter float64
	)
	for i = MAX_CHANNELS; func() int64 {
		p := &i
		x := *p
		*p--
		return x
	}() != 0; {
		enc.fe.subband.Off[i] = 0
		enc.fe.subband.X[i] = [HAN_SIZE]int32{}
	}
	for i = SUBBAND_LIMIT; func() int64 {
		p := &i
		x := *p
		*p--
		return x
	}() != 0; {
		for j = 64; func() int64 {
			p := &j
			x := *p
			*p--
			return x
		}() != 0; {
			if (func() float64 {
				filter = math.Cos(float64((i*2+1)*(16-j))*PI64) * 1e+09
				return filter
			}()) >= 0 {
				filter, _ = math.Modf(filter + 0.5)
			} else {
				filter, _ = math.Modf(filter - 0.5)
			}
			enc.fe.subband.Fl[i][j] = int32(filter * (math.MaxInt32 * 1e-09))
		}
	}
}

// Overlapping window on PCM samples 32 16-bit pcm samples are scaled to fractional 2's complement and
// concatenated to the end of the window buffer #x#. The updated window buffer #x# is then windowed by
// the analysis window #shine_enwindow# to produce the windowed sample #z# Calculates the analysis filter bank
// coefficients The windowed samples #z# is filtered by the digital filter matrix #filter# to produce the subband
// samples #s#. This done by first selectively picking out values from the windowed samples, and then
// multiplying them by the filter matrix, producing 32 subband samples.
//
// synthcast: same arithmetic as upstream (each product truncated to 32 bits,
// sums wrapping in 32 bits, so the output is bit-identical), written so the
// compiler can drop the bounds checks: fixed-size arrays, masked or
// constant-bounded indexes, one pointer per row.
func (enc *Encoder) windowFilterSubband(buffer **int16, s *[32]int32, ch int64, stride int64) {
	x := &enc.fe.subband.X[ch]
	off := int(enc.fe.subband.Off[ch])
	ptr := *buffer
	for i := 31; i >= 0; i-- {
		x[(off+i)&(HAN_SIZE-1)] = int32(*ptr) << 16
		ptr = (*int16)(unsafe.Add(unsafe.Pointer(ptr), unsafe.Sizeof(int16(0))*uintptr(stride)))
	}
	*buffer = ptr

	win := (*[HAN_SIZE]int32)(enWindow)
	var y [64]int32
	const m = HAN_SIZE - 1
	for i := range 64 {
		j := off + i
		y[i] = int32((int64(x[j&m])*int64(win[i]))>>32) +
			int32((int64(x[(j+64)&m])*int64(win[i+64]))>>32) +
			int32((int64(x[(j+128)&m])*int64(win[i+128]))>>32) +
			int32((int64(x[(j+192)&m])*int64(win[i+192]))>>32) +
			int32((int64(x[(j+256)&m])*int64(win[i+256]))>>32) +
			int32((int64(x[(j+320)&m])*int64(win[i+320]))>>32) +
			int32((int64(x[(j+384)&m])*int64(win[i+384]))>>32) +
			int32((int64(x[(j+448)&m])*int64(win[i+448]))>>32)
	}
	enc.fe.subband.Off[ch] = int64((off + 480) & (HAN_SIZE - 1))

	enc.fe.subband.matrix(&y, s)
}

// matrix computes s[i] = Σ_j Fl[i][j]·y[j] (the filterbank's 32×64 cosine
// matrix, Fl[i][j] = cos((2i+1)(16−j)π/64)) with a quarter of the products,
// from two symmetries of the cosine:
//
//   - columns: Fl[i][32−j] = Fl[i][j] (j = 0…15) and Fl[i][96−j] = −Fl[i][j]
//     (j = 33…47), Fl[i][48] = 0; so y folds into 32 values first;
//   - rows: Fl[31−i][j] = (−1)^j·Fl[i][j]; so sums over the even and the odd
//     folded columns give s[i] = even + odd and s[31−i] = even − odd.
//
// synthcast: upstream multiplies the whole matrix (2048 products a call).
// Each product is still truncated to 32 bits; the sums differ from
// upstream's in the last bits (rounding), checked against the full matrix by
// TestMatrixMatchesFullProduct.
func (sb *Subband) matrix(y *[64]int32, s *[32]int32) {
	// Folded columns, in the order even j first (0, 2, …, 32 as 16 ↔ y[16]),
	// then odd: f[k] pairs with column col[k] of Fl.
	var f [32]int64
	for j := range 16 {
		f[j] = int64(y[j]) + int64(y[32-j]) // columns 0…15
	}
	f[16] = int64(y[16])
	for j := 33; j < 48; j++ {
		f[j-16] = int64(y[j]) - int64(y[96-j]) // columns 33…47 at 17…31
	}
	for i := range 16 {
		fl := &sb.Fl[i]
		var even, odd int32
		for k := 0; k < 16; k += 2 {
			even += int32((int64(fl[k]) * f[k]) >> 32)
			odd += int32((int64(fl[k+1]) * f[k+1]) >> 32)
		}
		even += int32((int64(fl[16]) * f[16]) >> 32)
		for k := 17; k < 32; k += 2 { // columns 33, 35, …, 47: odd
			odd += int32((int64(fl[k+16]) * f[k]) >> 32)
		}
		for k := 18; k < 32; k += 2 { // columns 34, …, 46: even
			even += int32((int64(fl[k+16]) * f[k]) >> 32)
		}
		s[i] = even + odd
		s[31-i] = even - odd
	}
}

type MDCT struct {
	CosL [18][36]int32
}
type Subband struct {
	Off [2]int64
	Fl  [32][64]int32
	X   [2][512]int32
}

// frontEnd is the analysis filterbank and MDCT's state.
type frontEnd struct {
	subband          Subband
	mdct             MDCT
	l3SubbandSamples [2][3][18][32]int32
}

// frontEndGainSteps is added to every granule's global gain: the front end
// delivers the spectrum scaled by 2^(-frontEndGainSteps/4).
const frontEndGainSteps = 0
