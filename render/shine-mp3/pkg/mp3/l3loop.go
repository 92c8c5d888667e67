package mp3

import (
	"math"
)

const (
	scaleFactorBand_LMax = 22
	enTotKrit            = 10
	enDifKrit            = 100
	enScfsiBandKrit      = 10
	xmScfsiBandKrit      = 10
)

// The quantizer's step sizes. A step s scales the spectrum by 2^(−s/4)
// before the x^(3/4) law; larger steps mean coarser quantization.
const (
	// minStep is the finest step the loop chooses, upstream's bound: its
	// binary search started at −120 and never returned less than −119.
	minStep = -119
	// maxStep is the coarsest step, where only lines of at least half the
	// spectrum's full scale quantize to 1: searchStep takes it whatever it
	// costs (upstream's search assumed it fits and indexed past its tables
	// otherwise).
	maxStep = 0
	// maxQuant is the largest quantized value the loop accepts, upstream's
	// bound (the escape tables reach 15+8191).
	maxQuant = 8192
	// maxLn is the largest scaled magnitude whose quantized value is at
	// most maxQuant: upstream rejected a step as soon as its largest line
	// scaled past it.
	maxLn = 165140
)

// stepTable[s+127] is 2^(−s/4) and stepTableI[s+127] the same times 2 in
// 32-bit fixed point (capped at MaxInt32), for s = −127..0. thr1 and thr2
// are, per step, the smallest magnitudes that quantize to at least 1 and
// at least 2: |x|·stepTableI ≥ 2^31 and ≥ 3·2^31. Read-only after
// initialisation.
//
// synthcast: upstream kept both step tables in every Encoder
// (L3Loop.StepTable and StepTableI, 1.5 KiB); the values are the same.
var stepTable, stepTableI, thr1, thr2 = func() (f [128]float64, i, t1, t2 [128]uint64) {
	for k := range f {
		f[k] = math.Pow(2.0, float64(127-k)/4)
		if f[k]*2 > math.MaxInt32 {
			i[k] = math.MaxInt32
		} else {
			i[k] = uint64(int32(f[k]*2 + 0.5))
		}
		t1[k] = (1<<31 + i[k] - 1) / i[k]
		t2[k] = (3<<31 + i[k] - 1) / i[k]
	}
	return
}()

// int2idx is x**(3/4) for x = 0..9999, the quantizer's lookup table.
// Computed once; read-only afterwards.
//
// synthcast: upstream kept a copy in every Encoder (L3Loop.Int2idx, 80 KB
// of int64): with a few hundred streams those copies were most of the
// encoders' memory and crowded each other out of the CPU caches. The
// values fit 16 bits (at most 1000) and are the same.
var int2idx = func() (t [10000]uint16) {
	for i := range t {
		t[i] = uint16(math.Sqrt(math.Sqrt(float64(i))*float64(i)) - 0.0946 + 0.5)
	}
	return t
}()

// quant is the quantized value of a magnitude a at a step whose
// stepTableI entry is sc and stepTable entry scale: upstream's quantize,
// line by line (the table below 10000, the x^(3/4) law above).
//
// synthcast: upstream truncated the law's result where the table rounds
// (x^(3/4) − 0.0946, rounded, as ISO 11172-3's reference and LAME do), so
// every value past 1000 came out half a step low on average: a 440 Hz
// sine at 80 levels from 0.1 to 1.0 of full scale (44.1 kHz, 128 kbit/s)
// decoded at 74.2–78.6 dB SNR, and decodes at 77.6–81.0 dB rounded.
func quant(a uint32, sc uint64, scale float64) int {
	ln := (uint64(a)*sc + 1<<31) >> 32
	if ln < uint64(len(int2idx)) {
		return int(int2idx[ln])
	}
	dbl := float64(a) * scale * 4.656612875e-10
	return int(math.Sqrt(math.Sqrt(dbl)*dbl) - 0.0946 + 0.5)
}

func abs32(x int32) uint32 {
	m := x >> 31
	return uint32((x ^ m) - m)
}

// loopInitialize prepares the iteration loop's state.
func (enc *Encoder) loopInitialize() {
	enc.l3loop.prevStep = [MAX_CHANNELS]int{-60, -60}
}

// granuleStats reads the granule's spectrum once: the magnitudes (xrAbs),
// per pair of lines the largest magnitude from it to the top (sufMax), the
// largest magnitude of each scalefactor band, and, if energy, its energy
// as upstream's calcSCFSI summed it.
func (enc *Encoder) granuleStats(xr *[GRANULE_SIZE]int32, energy bool) {
	lp := &enc.l3loop
	sfb := &scaleFactorBandIndex[enc.Mpeg.SampleRateIndex]
	var suf uint32
	lp.sufMax[GRANULE_SIZE/2] = 0
	for b := scaleFactorBand_LMax - 1; b >= 0; b-- {
		lo, hi := int(sfb[b]), int(sfb[b+1])
		xs, as, ss := xr[lo:hi], lp.xrAbs[lo:hi], lp.sufMax[lo/2:hi/2]
		var bm uint32
		for i := len(xs) - 2; i >= 0 && i+1 < len(as); i -= 2 {
			a0, a1 := abs32(xs[i]), abs32(xs[i+1])
			as[i], as[i+1] = a0, a1
			m := max(a0, a1)
			bm = max(bm, m)
			suf = max(suf, m)
			ss[i>>1] = suf
		}
		lp.bandMax[b] = bm
		lp.bandEn[b] = 0
		if energy {
			var en int64
			for _, x := range xs {
				en += int64(mulSR(x, x)) >> 10 // upstream's Xrsq, shifted before summing
			}
			lp.bandEn[b] = en
		}
	}
	lp.Xrmax = int32(suf)
}

// lastAbove returns the index of the last pair of lines with a magnitude
// of at least thr, or −1: a binary search over sufMax, which falls from
// pair to pair.
func (lp *L3Loop) lastAbove(thr uint64) int {
	if uint64(lp.sufMax[0]) < thr {
		return -1
	}
	lo, hi := 1, GRANULE_SIZE/2 // sufMax[lo-1] >= thr > sufMax[hi]
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if uint64(lp.sufMax[m]) >= thr {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// trial is a granule quantized at one step: what the side information
// records, and the bits it takes (part 3, the Huffman data).
type trial struct {
	bits        int
	bigValues   int // pairs
	count1      int // quadruples
	region0     int
	region1     int
	table       [3]int
	count1Table int
}

// try quantizes the granule's spectrum (granuleStats) at step into ix and
// counts its Huffman bits, filling t. It reports false, possibly before finishing
// ix, as soon as the granule cannot fit maxBits or its largest value
// exceeds maxQuant.
//
// synthcast: upstream made a pass over the spectrum for each of quantize,
// calcRunLength, count1BitCount, newChooseTable's maximum and each table
// it tried (up to three per region), and bigValuesBitCount, at each of
// the 8 or more steps it tried. Here the zero and count1 boundaries come
// from sufMax, each region's maximum from the band maxima, and a single
// pass quantizes and counts the bits of every candidate table at once
// (packed lengths, huffman.go).
func (enc *Encoder) try(ix *[GRANULE_SIZE]int16, step, maxBits int, t *trial) bool {
	lp := &enc.l3loop
	xa := &lp.xrAbs
	si := step + 127
	sc, scale := stepTableI[si], stepTable[si]
	xmax := uint32(lp.Xrmax)
	if mulR(int32(xmax), int32(sc)) > maxLn || quant(xmax, sc, scale) > maxQuant {
		return false
	}
	// Lines from nz on (even) quantize to 0, from n1 on to 0 or 1.
	nz := 0
	if p := lp.lastAbove(thr1[si]); p >= 0 {
		nz = 2*p + 2
	}
	n1 := 0
	if p := lp.lastAbove(thr2[si]); p >= 0 {
		n1 = 2*p + 1
		if uint64(xa[2*p+1]) >= thr2[si] {
			n1++
		}
	}
	// upstream's calcRunLength: zero pairs from the top, then quadruples
	// of values ≤ 1, the rest big values.
	count1 := (nz - n1) >> 2
	bv2 := nz - 4*count1
	t.bigValues, t.count1 = bv2/2, count1

	sfb := &scaleFactorBandIndex[enc.Mpeg.SampleRateIndex]
	r0, r1, a1, a2 := subDivide(sfb, bv2)
	t.region0, t.region1 = r0, r1
	bits := 0
	bounds := [4]int{0, min(a1, bv2), min(a2, bv2), bv2}
	bands := [4]int{0, r0 + 1, r0 + r1 + 2, scaleFactorBand_LMax}
	for r := range 3 {
		a, e := bounds[r], bounds[r+1]
		t.table[r] = 0
		if a >= e {
			continue
		}
		// The region's largest value, from its bands' largest magnitudes:
		// exact where the bands end with the region, and where they run
		// past it into lines ≤ 1 but the region holds a value ≥ 2.
		var m int
		if int(sfb[bands[r+1]]) == e || a < n1 {
			var bm uint32
			for b := bands[r]; b < bands[r+1]; b++ {
				bm = max(bm, lp.bandMax[b])
			}
			m = quant(bm, sc, scale)
		} else {
			for i := a; i < e; i++ {
				if uint64(xa[i]) >= thr1[si] {
					m = 1
				}
			}
		}
		var b int
		if m == 0 {
			clear(ix[a:e])
			continue
		} else if m <= 15 {
			g := &smallGroups[m]
			acc := quantPairs(xa[a:e], ix[a:e], sc, &g.lut)
			t.table[r], b = g.best(acc)
		} else {
			acc := quantPairsEsc(xa[a:e], ix[a:e], sc, scale)
			t.table[r], b = escBest(acc, m-15)
		}
		bits += b
		if bits > maxBits {
			return false
		}
	}
	t.count1Table = 0
	if count1 > 0 {
		acc := quantQuads(xa[bv2:nz], ix[bv2:nz], thr1[si])
		s0, s1 := int(acc&0xffff), int(acc>>16)
		if s0 < s1 {
			bits += s0
		} else {
			bits += s1
			t.count1Table = 1
		}
	}
	t.bits = bits
	return bits <= maxBits
}

// quantPairs quantizes the magnitudes xa into ix (as long), two lines at
// a time, and sums lut over the pairs. Every value must be at most 15.
func quantPairs(xa []uint32, ix []int16, sc uint64, lut *[256]uint64) uint64 {
	var acc uint64
	for len(xa) >= 2 && len(ix) >= 2 {
		x := int2idx[(uint64(xa[0])*sc+1<<31)>>32]
		y := int2idx[(uint64(xa[1])*sc+1<<31)>>32]
		ix[0], ix[1] = int16(x), int16(y)
		acc += lut[uint8(x<<4|y)]
		xa, ix = xa[2:], ix[2:]
	}
	return acc
}

// quantPairsEsc is quantPairs for the escape tables (escLUT).
func quantPairsEsc(xa []uint32, ix []int16, sc uint64, scale float64) uint64 {
	var acc uint64
	for len(xa) >= 2 && len(ix) >= 2 {
		x := quant(xa[0], sc, scale)
		y := quant(xa[1], sc, scale)
		ix[0], ix[1] = int16(x), int16(y)
		acc += escLUT[uint8(min(x, 15)<<4|min(y, 15))]
		xa, ix = xa[2:], ix[2:]
	}
	return acc
}

// quantQuads quantizes the count1 region, magnitudes xa, into ix (as
// long): a line is 1 if its magnitude reaches thr (below 2^32), else 0.
// It sums count1LUT over the quadruples.
func quantQuads(xa []uint32, ix []int16, thr uint64) uint32 {
	var acc uint32
	t := uint32(thr)
	for len(xa) >= 4 && len(ix) >= 4 {
		v := b2i(xa[0] >= t)
		w := b2i(xa[1] >= t)
		x := b2i(xa[2] >= t)
		y := b2i(xa[3] >= t)
		ix[0], ix[1], ix[2], ix[3] = int16(v), int16(w), int16(x), int16(y)
		acc += count1LUT[(v<<3|w<<2|x<<1|y)&15]
		xa, ix = xa[4:], ix[4:]
	}
	return acc
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// subDivide splits bigvalue lines [0, bv2) into the three regions that
// use separate Huffman tables: region0 and region1 are the side
// information's counts (in scalefactor bands, minus one), a1 and a2 the
// lines where regions 1 and 2 start (which may lie past bv2). It is
// upstream's subDivide.
func subDivide(sfb *[23]int64, bv2 int) (region0, region1, a1, a2 int) {
	type counts struct{ r0, r1 int }
	subdv := [23]counts{{0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 0}, {0, 1}, {1, 1}, {1, 1}, {1, 2}, {2, 2}, {2, 3}, {2, 3}, {3, 4}, {3, 4}, {3, 4}, {4, 5}, {4, 5}, {4, 6}, {5, 6}, {5, 6}, {5, 7}, {6, 7}, {6, 7}}
	if bv2 == 0 {
		return 0, 0, 0, 0
	}
	n := 0
	for int(sfb[n]) < bv2 {
		n++
	}
	r0 := subdv[n].r0
	for r0 != 0 && int(sfb[r0+1]) > bv2 {
		r0--
	}
	r1 := subdv[n].r1
	for r1 != 0 && int(sfb[r0+r1+2]) > bv2 {
		r1--
	}
	return r0, r1, int(sfb[r0+1]), int(sfb[r0+r1+2])
}

// searchStep finds the smallest step at which the granule fits maxBits,
// starting from the channel's previous step: it steps down while the
// granule fits (or up while it does not), doubling the stride, then
// bisects. It leaves the result's quantized values in ix and its side
// information in t, and returns the step.
//
// synthcast: upstream ran a 7-step binary search from −120 (bisecting on
// bits < maxBits), then counted the step above it once more (bits ≤
// maxBits), at least 8 quantizations and bit counts a granule. The step
// rarely moves between granules, so this usually takes two: the previous
// step, which fits, and the one below it, which does not.
func (enc *Encoder) searchStep(ix *[GRANULE_SIZE]int16, maxBits, prev int, t *trial) int {
	lp := &enc.l3loop
	bufs := [2]*[GRANULE_SIZE]int16{ix, &lp.scratch}
	var tr [2]trial
	best := -1 // the buffer holding the best fitting step so far
	fit := func(s int) bool {
		k := 0
		if best == 0 {
			k = 1
		}
		limit := maxBits
		if s == maxStep {
			limit = math.MaxInt // the coarsest step is taken whatever it costs
		}
		if enc.try(bufs[k], s, limit, &tr[k]) {
			best = k
			return true
		}
		return false
	}
	s := min(max(prev, minStep), maxStep)
	fitS, noS := 0, minStep-1
	if fit(s) {
		fitS = s
		for d := 1; fitS > minStep; d *= 2 {
			n := max(fitS-d, minStep)
			if !fit(n) {
				noS = n
				break
			}
			fitS = n
		}
	} else {
		noS = s
		for d := 1; ; d *= 2 {
			n := min(noS+d, maxStep)
			if fit(n) {
				fitS = n
				break
			}
			noS = n
		}
	}
	for fitS-noS > 1 && noS >= minStep {
		m := (fitS + noS) >> 1
		if fit(m) {
			fitS = m
		} else {
			noS = m
		}
	}
	*t = tr[best]
	end := 2*t.bigValues + 4*t.count1
	if best == 1 {
		copy(ix[:end], lp.scratch[:end])
	}
	clear(ix[end:])
	return fitS
}

func (enc *Encoder) iterationLoop() {
	var l3_xmin PsyXMin
	mpeg1 := enc.Mpeg.Version == MPEG_I
	for ch := int(enc.Wave.Channels) - 1; ch >= 0; ch-- {
		for gr := range int(enc.Mpeg.GranulesPerFrame) {
			ix := &enc.l3Encoding[ch][gr]
			xr := &enc.mdctFrequency[ch][gr]
			cod_info := &enc.sideInfo.Granules[gr].Channels[ch].Tt
			// synthcast: scfsi lets granule 1 reuse granule 0's
			// scalefactors; with none transmitted (scalefac_compress 0, so
			// 0 bits each, always so in shine) it changes neither the sound
			// nor the bit count, so its band energies and logarithms are
			// worked out only when scalefactors carry bits.
			scfsi := mpeg1 && (slen1Table[cod_info.ScaleFactorCompress] != 0 || slen2Table[cod_info.ScaleFactorCompress] != 0)
			enc.granuleStats(xr, scfsi)
			cod_info.ScaleFactorBandMaxLen = scaleFactorBand_LMax - 1
			calcXMin(cod_info, &l3_xmin, gr, ch)
			if scfsi {
				enc.calcSCFSI(&l3_xmin, ch, gr)
			} else if mpeg1 && gr == 1 {
				enc.sideInfo.ScaleFactorSelectInfo[ch] = [4]uint64{}
			}
			max_bits := enc.maxReservoirBits(&enc.PerceptualEnergy[ch][gr])
			cod_info.ScaleFactorLen = [4]uint64{}
			cod_info.Part2_3Length = 0
			cod_info.BigValues = 0
			cod_info.Count1 = 0
			cod_info.ScaleFactorCompress = 0
			cod_info.TableSelect = [3]uint64{}
			cod_info.Region0Count = 0
			cod_info.Region1Count = 0
			cod_info.Part2Length = 0
			cod_info.PreFlag = 0
			cod_info.ScaleFactorScale = 0
			cod_info.Count1TableSelect = 0
			if enc.l3loop.Xrmax != 0 {
				cod_info.Part2Length = uint64(enc.calcPart2Length(gr, ch))
				var t trial
				step := enc.searchStep(ix, int(max_bits)-int(cod_info.Part2Length), enc.l3loop.prevStep[ch], &t)
				enc.l3loop.prevStep[ch] = step
				cod_info.QuantizerStepSize = int64(step)
				cod_info.BigValues = uint64(t.bigValues)
				cod_info.Count1 = uint64(t.count1)
				cod_info.Region0Count = uint64(t.region0)
				cod_info.Region1Count = uint64(t.region1)
				for r := range 3 {
					cod_info.TableSelect[r] = uint64(t.table[r])
				}
				cod_info.Count1TableSelect = uint64(t.count1Table)
				cod_info.Part2_3Length = cod_info.Part2Length + uint64(t.bits)
			} else {
				clear(ix[:])
			}
			enc.reservoirAdjust(cod_info)
			cod_info.GlobalGain = uint64(cod_info.QuantizerStepSize + 210 + frontEndGainSteps)
		}
	}
	enc.reservoirFrameEnd()
}

// log2Trunc is int32(math.Log(x)/LN2) (upstream's expression, LN2
// truncated to 8 digits), without the logarithm where the truncation
// cannot depend on the last digits: x = f·2^e with f in [0.5, 1) away
// from both ends puts log2 x strictly between e−1 and e.
func log2Trunc(x float64) int32 {
	f, e := math.Frexp(x)
	if f > 0.5+1e-6 && f < 1-1e-6 {
		if e >= 1 {
			return int32(e - 1)
		}
		return int32(e)
	}
	return int32(math.Log(x) / LN2)
}

func iabs(x int32) int64 {
	if x < 0 {
		return -int64(x)
	}
	return int64(x)
}

// calcSCFSI calculates the scalefactor select information ( scfsi )
func (enc *Encoder) calcSCFSI(l3_xmin *PsyXMin, ch int, gr int) {
	l3_side := &enc.sideInfo
	scfsi_band_long := [5]int{0, 6, 11, 16, 21}
	lp := &enc.l3loop
	lp.Xrmaxl[gr] = lp.Xrmax
	var temp int64
	for _, e := range lp.bandEn {
		temp += e
	}
	lp.EnTot[gr] = 0
	if temp != 0 {
		lp.EnTot[gr] = log2Trunc(float64(temp) * 4.768371584e-07)
	}
	for sfb := 20; sfb >= 0; sfb-- {
		lp.En[gr][sfb] = 0
		if e := lp.bandEn[sfb]; e != 0 {
			lp.En[gr][sfb] = log2Trunc(float64(e) * 4.768371584e-07)
		}
		lp.Xm[gr][sfb] = 0
		if x := l3_xmin.L[gr][ch][sfb]; x != 0 {
			lp.Xm[gr][sfb] = int32(math.Log(x) / LN2)
		}
	}
	if gr != 1 {
		return
	}
	condition := 2
	for gr2 := range 2 {
		if lp.Xrmaxl[gr2] != 0 {
			condition++
		}
	}
	if iabs(lp.EnTot[0]-lp.EnTot[1]) < enTotKrit {
		condition++
	}
	var tp int64
	for sfb := range 21 {
		tp += iabs(lp.En[0][sfb] - lp.En[1][sfb])
	}
	if tp < enDifKrit {
		condition++
	}
	for band := range 4 {
		l3_side.ScaleFactorSelectInfo[ch][band] = 0
		if condition != 6 {
			continue
		}
		var sum0, sum1 int64
		for sfb := scfsi_band_long[band]; sfb < scfsi_band_long[band+1]; sfb++ {
			sum0 += iabs(lp.En[0][sfb] - lp.En[1][sfb])
			sum1 += iabs(lp.Xm[0][sfb] - lp.Xm[1][sfb])
		}
		if sum0 < enScfsiBandKrit && sum1 < xmScfsiBandKrit {
			l3_side.ScaleFactorSelectInfo[ch][band] = 1
		}
	}
}

// calcPart2Length calculates the number of bits needed to encode the scaleFactor in the
// main data block.
func (enc *Encoder) calcPart2Length(gr int, ch int) int64 {
	gi := &enc.sideInfo.Granules[gr].Channels[ch].Tt
	slen1 := slen1Table[gi.ScaleFactorCompress]
	slen2 := slen2Table[gi.ScaleFactorCompress]
	var bits int64
	scfsi := &enc.sideInfo.ScaleFactorSelectInfo[ch]
	if gr == 0 || scfsi[0] == 0 {
		bits += slen1 * 6
	}
	if gr == 0 || scfsi[1] == 0 {
		bits += slen1 * 5
	}
	if gr == 0 || scfsi[2] == 0 {
		bits += slen2 * 5
	}
	if gr == 0 || scfsi[3] == 0 {
		bits += slen2 * 5
	}
	return bits
}

// calcXMin calculates the allowed distortion for each scalefactor band,
// as determined by the psychoacoustic model. xmin(sb) = ratio(sb) * en(sb) / bw(sb)
// shine has no psychoacoustic model: the distortion allowed is 0.
func calcXMin(cod_info *GranuleInfo, l3_xmin *PsyXMin, gr int, ch int) {
	for sfb := int(cod_info.ScaleFactorBandMaxLen) - 1; sfb >= 0; sfb-- {
		l3_xmin.L[gr][ch][sfb] = 0
	}
}
