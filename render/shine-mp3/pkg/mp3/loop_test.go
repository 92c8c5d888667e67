package mp3

import (
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

// The synthcast patches to the iteration loop and the bitstream (README.md,
// patches 3 to 9) are held here to upstream's bit counting and step
// search, kept below as reference code, and to a Huffman decoder written
// from ISO 11172-3's description.

// refCountBit is upstream's countBit: the bits of ix[start:end] (pairs)
// under table, signs and linbits included.
func refCountBit(ix []int, start, end, table int) int {
	if table == 0 {
		return 0
	}
	h := &huffmanCodeTable[table]
	sum := 0
	for i := start; i < end; i += 2 {
		x, y := ix[i], ix[i+1]
		if table > 15 {
			if x > 14 {
				x = 15
				sum += int(h.linBits)
			}
			if y > 14 {
				y = 15
				sum += int(h.linBits)
			}
		}
		sum += int(h.hLen[x*int(h.yLen)+y]) + b2i(x != 0) + b2i(y != 0)
	}
	return sum
}

// refChooseTable is upstream's newChooseTable: below 15 it only ever tried
// tables 13 and 15.
func refChooseTable(ix []int, begin, end int) int {
	m := 0
	for _, v := range ix[begin:end] {
		m = max(m, v)
	}
	if m == 0 {
		return 0
	}
	if m < 15 {
		if refCountBit(ix, begin, end, 15) <= refCountBit(ix, begin, end, 13) {
			return 15
		}
		return 13
	}
	var c [2]int
	for t := 15; t < 24; t++ {
		if int(huffmanCodeTable[t].linMax) >= m-15 {
			c[0] = t
			break
		}
	}
	for t := 24; t < 32; t++ {
		if int(huffmanCodeTable[t].linMax) >= m-15 {
			c[1] = t
			break
		}
	}
	if refCountBit(ix, begin, end, c[1]) < refCountBit(ix, begin, end, c[0]) {
		return c[1]
	}
	return c[0]
}

// refBits is upstream's bit count of a quantized granule (calcRunLength,
// count1BitCount, subDivide, bigValuesTableSelect, bigValuesBitCount),
// with its quirks: regions that run past the big values are counted to
// their band's end, and count1 quadruples are indexed v last (upstream's
// order) unless vFirst (ISO's, as the loop now codes them).
func refBits(ix []int, sfb *[23]int64, vFirst bool) int {
	i := GRANULE_SIZE
	for i > 1 && ix[i-1] == 0 && ix[i-2] == 0 {
		i -= 2
	}
	count1 := 0
	for ; i > 3 && ix[i-1] <= 1 && ix[i-2] <= 1 && ix[i-3] <= 1 && ix[i-4] <= 1; i -= 4 {
		count1++
	}
	bv2 := i
	bits := [2]int{}
	for k := 0; k < count1; k++ {
		j := bv2 + 4*k
		p := ix[j] + ix[j+1]<<1 + ix[j+2]<<2 + ix[j+3]<<3
		if vFirst {
			p = ix[j]<<3 | ix[j+1]<<2 | ix[j+2]<<1 | ix[j+3]
		}
		s := b2i(ix[j] != 0) + b2i(ix[j+1] != 0) + b2i(ix[j+2] != 0) + b2i(ix[j+3] != 0)
		bits[0] += int(t32l[p]) + s
		bits[1] += int(t33l[p]) + s
	}
	total := min(bits[0], bits[1])
	if bv2 == 0 {
		return total
	}
	_, _, a1, a2 := subDivide(sfb, bv2)
	for _, r := range [3][2]int{{0, a1}, {a1, a2}, {a2, bv2}} {
		if r[1] > r[0] {
			total += refCountBit(ix, r[0], r[1], refChooseTable(ix, r[0], r[1]))
		}
	}
	return total
}

// refStep is upstream's step search (binSearchStepSize, then innerLoop's
// increments) over the quantizer quant.
func refStep(xa *[GRANULE_SIZE]uint32, maxBits int, sfb *[23]int64, vFirst bool) int {
	ix := make([]int, GRANULE_SIZE)
	bitsAt := func(s int) int {
		si := s + 127
		m := 0
		for i, a := range xa {
			ix[i] = quant(a, stepTableI[si], stepTable[si])
			m = max(m, ix[i])
		}
		if m > maxQuant {
			return 100000
		}
		return refBits(ix, sfb, vFirst)
	}
	next, count := -120, 120
	for count > 1 {
		half := count / 2
		if bitsAt(next+half) < maxBits {
			count = half
		} else {
			next += half
			count -= half
		}
	}
	for s := next + 1; ; s++ {
		if bitsAt(s) <= maxBits {
			return s
		}
	}
}

func randomSpectrum(r *rand.Rand, xr *[GRANULE_SIZE]int32) {
	level := math.Exp(r.Float64() * 14) // 1 to 1.2e6 times the floor
	tilt := r.Float64() * 8             // decay with frequency
	width := 100 + r.IntN(GRANULE_SIZE-100)
	for i := range xr {
		v := 0.0
		if i < width {
			v = level * math.Exp(-tilt*float64(i)/GRANULE_SIZE) * r.NormFloat64() * 300
		}
		if r.IntN(40) == 0 { // tonal peaks
			v *= 30
		}
		xr[i] = int32(max(min(v, 1<<30), -(1 << 30)))
	}
}

// spectra returns test spectra: random ones, and granules of encoded
// sines, chirps and noise.
func spectra(t *testing.T) [][GRANULE_SIZE]int32 {
	r := rand.New(rand.NewPCG(1, 2))
	var out [][GRANULE_SIZE]int32
	for range 300 {
		var xr [GRANULE_SIZE]int32
		randomSpectrum(r, &xr)
		out = append(out, xr)
	}
	e := newTestEncoder(44100, 1, 128)
	pcm := make([]int16, 1152+2)
	for f := range 60 {
		for i := range 1152 {
			x := float64(f*1152+i) / 44100
			var v float64
			switch f / 20 {
			case 0:
				v = 0.9 * math.Sin(2*math.Pi*440*x)
			case 1:
				v = 0.5 * math.Sin(2*math.Pi*(100*x+3000*x*x))
			default:
				v = 0.3 * r.NormFloat64()
			}
			pcm[i] = int16(32767 * max(-1, min(1, v)))
		}
		if err := e.Write(io.Discard, pcm[:1152]); err != nil {
			t.Fatal(err)
		}
		out = append(out, e.mdctFrequency[0][0], e.mdctFrequency[0][1])
	}
	return out
}

// newTestEncoder returns an encoder configured as render configures it.
func newTestEncoder(rate, channels, bitrate int) *Encoder {
	e := NewEncoder(rate, channels)
	m := &e.Mpeg
	m.Bitrate = int64(bitrate)
	m.BitrateIndex = int64(findBitrateIndex(bitrate, m.Version))
	n := int(m.GranulesPerFrame) * GRANULE_SIZE / 8 * bitrate * 1000
	m.WholeSlotsPerFrame = int64(n / rate)
	m.FracSlotsPerFrame = float64(n%rate) / float64(rate)
	m.Slot_lag = -m.FracSlotsPerFrame
	m.Padding = 0
	e.attach() // its own frameState, kept for the tests to look at
	return e
}

// TestSearchStepNotCoarser: on random and real spectra, at several bit
// budgets and from several starting steps, searchStep returns a step that
// fits, whose next finer step does not, and that is never coarser than
// upstream's search over the same quantizer, with count1 quadruples coded
// in ISO's order (upstream's order made some cost less and others more,
// and decoded wrong).
func TestSearchStepNotCoarser(t *testing.T) {
	e := newTestEncoder(44100, 1, 128)
	sfb := &scaleFactorBandIndex[0]
	same, finer, n, upstreamOrder := 0, 0, 0, 0
	for k, xr := range spectra(t) {
		e.granuleStats(&xr, false)
		if e.l3loop.Xrmax == 0 {
			continue
		}
		for _, maxBits := range []int{200, 700, 1500, 4095} {
			want := refStep(&e.l3loop.xrAbs, maxBits, sfb, true)
			if up := refStep(&e.l3loop.xrAbs, maxBits, sfb, false); up != want {
				upstreamOrder++
			}
			for _, prev := range []int{want, want + 3, want - 20, minStep, maxStep} {
				var ix [GRANULE_SIZE]int16
				var tr trial
				got := e.searchStep(&ix, maxBits, prev, &tr)
				n++
				switch {
				case got > want:
					t.Errorf("spectrum %d, %d bits, from %d: step %d; upstream's search finds %d", k, maxBits, prev, got, want)
				case got == want:
					same++
				default:
					finer++
				}
				if tr.bits > maxBits {
					t.Errorf("spectrum %d, %d bits: step %d takes %d bits", k, maxBits, got, tr.bits)
				}
				var scratch [GRANULE_SIZE]int16
				var t2 trial
				if got > minStep && e.try(&scratch, got-1, maxBits, &t2) {
					t.Errorf("spectrum %d, %d bits, from %d: step %d, but %d fits too (%d bits)", k, maxBits, prev, got, got-1, t2.bits)
				}
				checkTrial(t, e, &ix, got, &tr)
			}
		}
	}
	t.Logf("%d searches: %d at upstream's step, %d finer; upstream's count1 order moves its step in %d of %d cases", n, same, finer, upstreamOrder, n/5)
}

// checkTrial checks a trial's quantized values against quant and its bits
// against a direct count under the tables it chose.
func checkTrial(t *testing.T, e *Encoder, ix *[GRANULE_SIZE]int16, step int, tr *trial) {
	t.Helper()
	si := step + 127
	v := make([]int, GRANULE_SIZE)
	for i, a := range e.l3loop.xrAbs {
		v[i] = quant(a, stepTableI[si], stepTable[si])
		if int(ix[i]) != v[i] {
			t.Fatalf("step %d: ix[%d] = %d; want %d", step, i, ix[i], v[i])
		}
	}
	bv2, end := 2*tr.bigValues, 2*tr.bigValues+4*tr.count1
	for i := end; i < GRANULE_SIZE; i++ {
		if v[i] != 0 {
			t.Fatalf("step %d: line %d = %d past the count1 region (%d)", step, i, v[i], end)
		}
	}
	for i := bv2; i < end; i++ {
		if v[i] > 1 {
			t.Fatalf("step %d: line %d = %d in the count1 region", step, i, v[i])
		}
	}
	sfb := &scaleFactorBandIndex[e.Mpeg.SampleRateIndex]
	_, _, a1, a2 := subDivide(sfb, bv2)
	bits := 0
	for r, b := range [3][2]int{{0, min(a1, bv2)}, {min(a1, bv2), min(a2, bv2)}, {min(a2, bv2), bv2}} {
		bits += refCountBit(v, b[0], b[1], tr.table[r])
		if m := maxOf(v[b[0]:b[1]]); !tableHolds(tr.table[r], m) {
			t.Fatalf("step %d: region %d holds %d; table %d cannot", step, r, m, tr.table[r])
		}
	}
	for i := bv2; i < end; i += 4 {
		p := v[i]<<3 | v[i+1]<<2 | v[i+2]<<1 | v[i+3]
		bits += int(huffmanCodeTable[32+tr.count1Table].hLen[p]) + v[i] + v[i+1] + v[i+2] + v[i+3]
	}
	if bits != tr.bits {
		t.Fatalf("step %d: trial counts %d bits, its tables take %d", step, tr.bits, bits)
	}
}

// tableHolds reports whether table tab can code values up to m.
func tableHolds(tab, m int) bool {
	h := &huffmanCodeTable[tab]
	switch {
	case m == 0:
		return true
	case tab == 0 || tab == 4 || tab == 14:
		return false
	case tab <= 15:
		return m < int(h.xLen)
	default:
		return m <= 15+int(h.linMax)
	}
}

func maxOf(v []int) int {
	m := 0
	for _, x := range v {
		m = max(m, x)
	}
	return m
}

// TestPackedLengths: for every table, the one-pass packed sums equal
// upstream's countBit on random values, and each region gets the cheapest
// of its candidates, never more bits than upstream's choice.
func TestPackedLengths(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for m := 1; m <= 15; m++ {
		g := &smallGroups[m]
		for range 200 {
			n := 2 * (1 + r.IntN(GRANULE_SIZE/2))
			ix := make([]int, n)
			for i := range ix {
				ix[i] = r.IntN(m + 1)
				if r.IntN(3) == 0 {
					ix[i] = 0
				}
			}
			ix[r.IntN(n)] = m
			var acc uint64
			for i := 0; i < n; i += 2 {
				acc += g.lut[ix[i]<<4|ix[i+1]]
			}
			for k, tab := range g.tables {
				if tab == 0 {
					continue
				}
				if got, want := int(acc>>g.shift[k]&g.mask[k]), refCountBit(ix, 0, n, tab); got != want {
					t.Fatalf("max %d, table %d: packed sum %d; countBit %d", m, tab, got, want)
				}
			}
			tab, bits := g.best(acc)
			if bits != refCountBit(ix, 0, n, tab) {
				t.Fatalf("max %d: best table %d with %d bits; countBit %d", m, tab, bits, refCountBit(ix, 0, n, tab))
			}
			if up := refCountBit(ix, 0, n, refChooseTable(ix, 0, n)); bits > up {
				t.Fatalf("max %d: %d bits; upstream's choice takes %d", m, bits, up)
			}
		}
	}
	for range 2000 {
		n := 2 * (1 + r.IntN(GRANULE_SIZE/2))
		top := 16 + r.IntN(8192-16+1)
		ix := make([]int, n)
		for i := range ix {
			ix[i] = r.IntN(top + 1)
			if r.IntN(2) == 0 {
				ix[i] = r.IntN(16)
			}
		}
		ix[r.IntN(n)] = top
		var acc uint64
		for i := 0; i < n; i += 2 {
			acc += escLUT[min(ix[i], 15)<<4|min(ix[i+1], 15)]
		}
		tab, bits := escBest(acc, top-15)
		want := refChooseTable(ix, 0, n)
		if tab != want || bits != refCountBit(ix, 0, n, want) {
			t.Fatalf("max %d: escape table %d, %d bits; upstream %d, %d bits", top, tab, bits, want, refCountBit(ix, 0, n, want))
		}
	}
	for p := range 16 {
		s := uint32(bitsSet(p))
		if got, want := count1LUT[p], (uint32(t32l[p])+s)|(uint32(t33l[p])+s)<<16; got != want {
			t.Errorf("count1LUT[%d] = %#x; want %#x", p, got, want)
		}
	}
}

func bitsSet(p int) int { return p&1 + p>>1&1 + p>>2&1 + p>>3&1 }

// TestHuffmanTablesComplete: every table's codes are prefix-free and
// complete (Kraft sum 1), as ISO 11172-3's are; upstream never used
// tables 1 to 12, which the loop now chooses.
func TestHuffmanTablesComplete(t *testing.T) {
	for tab, h := range huffmanCodeTable {
		if h.table == nil || tab > 16 && tab != 24 && tab < 32 {
			continue
		}
		n := int(h.xLen * h.yLen)
		if tab >= 32 {
			n = 16
		}
		var kraft float64
		for i := range n {
			kraft += math.Ldexp(1, -int(h.hLen[i]))
			for j := range n {
				if i == j || h.hLen[j] < h.hLen[i] {
					continue
				}
				if uint32(h.table[j])>>(h.hLen[j]-h.hLen[i]) == uint32(h.table[i]) {
					t.Errorf("table %d: code %d is a prefix of code %d", tab, i, j)
				}
			}
		}
		if tab == 33 {
			continue
		}
		if kraft != 1 {
			t.Errorf("table %d: Kraft sum %v; want 1", tab, kraft)
		}
	}
}

// TestLog2Trunc holds log2Trunc to upstream's expression.
func TestLog2Trunc(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	check := func(x float64) {
		if got, want := log2Trunc(x), int32(math.Log(x)/LN2); got != want {
			t.Errorf("log2Trunc(%v) = %d; want %d", x, got, want)
		}
	}
	for e := -30; e <= 45; e++ {
		p := math.Ldexp(1, e)
		for _, d := range []float64{-1e-5, -1e-7, -1e-9, 0, 1e-9, 1e-7, 1e-5} {
			check(p * (1 + d))
		}
	}
	for range 100000 {
		check(float64(1+r.Int64N(1<<40)) * 4.768371584e-07)
	}
}

// TestHuffmanRoundTrip encodes sines, chirps and noise in MPEG-1 and
// MPEG-2 formats, decodes every granule's Huffman data (a decoder written
// from ISO 11172-3, count1 quadruples v first) and compares the values
// with the quantized spectrum, signs from mdctFrequency; each granule must
// take exactly its part2_3_length.
func TestHuffmanRoundTrip(t *testing.T) {
	for _, f := range []struct{ rate, ch, br int }{{44100, 2, 128}, {48000, 1, 64}, {32000, 2, 320}, {22050, 2, 64}, {16000, 1, 32}, {24000, 1, 160}} {
		e := newTestEncoder(f.rate, f.ch, f.br)
		r := rand.New(rand.NewPCG(7, uint64(f.rate)))
		n := int(e.Mpeg.GranulesPerFrame) * GRANULE_SIZE
		pcm := make([]int16, n*f.ch+2)
		var stream bytes.Buffer
		var want [][2][2][GRANULE_SIZE]int
		for fr := range 40 {
			for i := range n {
				x := float64(fr*n+i) / float64(f.rate)
				for c := range f.ch {
					var v float64
					switch fr / 10 {
					case 0:
						v = 0.9 * math.Sin(2*math.Pi*440*x*float64(c+1))
					case 1:
						v = 0.99 * math.Sin(2*math.Pi*(100*x+4000*x*x))
					case 2:
						v = 0.01 * math.Sin(2*math.Pi*1000*x)
					default:
						v = 0.2 * r.NormFloat64()
					}
					pcm[i*f.ch+c] = int16(32767 * max(-1, min(1, v)))
				}
			}
			if err := e.Write(&stream, pcm[:n*f.ch]); err != nil {
				t.Fatal(err)
			}
			var w [2][2][GRANULE_SIZE]int
			for c := range f.ch {
				for gr := range int(e.Mpeg.GranulesPerFrame) {
					for i, v := range e.l3Encoding[c][gr] {
						w[c][gr][i] = int(v)
						if e.mdctFrequency[c][gr][i] < 0 {
							w[c][gr][i] = -int(v)
						}
					}
				}
			}
			want = append(want, w)
		}
		bs := &e.bitstream
		for bs.cacheBits != 32 {
			bs.putBits(0, uint(min(8, bs.cacheBits)))
		}
		stream.Write(bs.data[:bs.dataPosition])
		got := decodeMainData(t, stream.Bytes(), e)
		if len(got) != len(want) {
			t.Fatalf("%d Hz: decoded %d frames; want %d", f.rate, len(got), len(want))
		}
		for k := range got {
			for c := range 2 {
				for gr := range 2 {
					for i := range GRANULE_SIZE {
						if g, w := got[k][c][gr][i], want[k][c][gr][i]; g != w {
							t.Fatalf("%d Hz %d ch %d kbit/s: frame %d channel %d granule %d line %d decodes to %d; want %d",
								f.rate, f.ch, f.br, k, c, gr, i, g, w)
						}
					}
				}
			}
		}
	}
}

// bitReader reads MSB-first bits.
type bitReader struct {
	b   []byte
	pos int
}

func (r *bitReader) read(n int) int {
	v := 0
	for range n {
		v = v<<1 | int(r.b[r.pos>>3]>>(7-r.pos&7)&1)
		r.pos++
	}
	return v
}

// decodeCode reads one code of table tab and returns its index.
func decodeCode(t *testing.T, r *bitReader, tab int) int {
	h := &huffmanCodeTable[tab]
	code := 0
	for n := 1; n <= 19; n++ {
		code = code<<1 | r.read(1)
		for i, c := range h.table {
			if int(h.hLen[i]) == n && int(c) == code {
				return i
			}
		}
	}
	t.Fatalf("table %d: no code", tab)
	return 0
}

// decodeMainData decodes the frames of stream (as e encoded them: long
// blocks, no scalefactor bits, main_data_begin 0) into signed quantized
// values per frame, channel and granule.
func decodeMainData(t *testing.T, stream []byte, e *Encoder) [][2][2][GRANULE_SIZE]int {
	mpeg1 := e.Mpeg.Version == MPEG_I
	chans := int(e.Wave.Channels)
	grans := int(e.Mpeg.GranulesPerFrame)
	sfb := &scaleFactorBandIndex[e.Mpeg.SampleRateIndex]
	var out [][2][2][GRANULE_SIZE]int
	for len(stream) >= 4 {
		r := &bitReader{b: stream}
		if r.read(11) != 2047 {
			t.Fatalf("frame %d: lost sync", len(out))
		}
		r.pos = 22
		flen := int(e.Mpeg.WholeSlotsPerFrame) + r.read(1)
		r.pos = 32
		type granule struct {
			p23, bv, r0, r1, c1 int
			tab                 [3]int
		}
		var g [2][2]granule
		if mpeg1 {
			r.read(9 + 5 - 2*(chans-1) + 4*chans)
		} else {
			r.read(8 + 2 - (2 - chans))
		}
		for gr := range grans {
			for c := range chans {
				x := &g[gr][c]
				x.p23, x.bv = r.read(12), r.read(9)
				r.read(8)
				if mpeg1 {
					r.read(4)
				} else {
					r.read(9)
				}
				if r.read(1) != 0 {
					t.Fatal("window switching")
				}
				x.tab = [3]int{r.read(5), r.read(5), r.read(5)}
				x.r0, x.r1 = r.read(4), r.read(3)
				if mpeg1 {
					r.read(1)
				}
				r.read(1)
				x.c1 = r.read(1)
			}
		}
		var fr [2][2][GRANULE_SIZE]int
		for gr := range grans {
			for c := range chans {
				x := &g[gr][c]
				v := &fr[c][gr]
				start := r.pos
				i := 0
				for ; i < 2*x.bv; i += 2 {
					tab := x.tab[0]
					if i >= int(sfb[x.r0+1]) {
						tab = x.tab[1]
					}
					if i >= int(sfb[x.r0+x.r1+2]) {
						tab = x.tab[2]
					}
					if tab == 0 {
						continue
					}
					h := &huffmanCodeTable[tab]
					k := decodeCode(t, r, tab)
					pair := [2]int{k / int(h.yLen), k % int(h.yLen)}
					for j := range pair {
						if tab > 15 && pair[j] == 15 {
							pair[j] += r.read(int(h.linBits))
						}
						if pair[j] != 0 && r.read(1) == 1 {
							pair[j] = -pair[j]
						}
					}
					v[i], v[i+1] = pair[0], pair[1]
				}
				for ; i+4 <= GRANULE_SIZE && r.pos < start+x.p23; i += 4 {
					p := decodeCode(t, r, 32+x.c1)
					var q [4]int
					for j := range q {
						q[j] = p >> (3 - j) & 1
						if q[j] != 0 && r.read(1) == 1 {
							q[j] = -q[j]
						}
					}
					if r.pos > start+x.p23 {
						// A quadruple that runs past part2_3_length is
						// stuffing (1s) read into the next granule's bits:
						// discarded, as ISO 11172-3's decoder does.
						r.pos = start + x.p23
						break
					}
					copy(v[i:i+4], q[:])
				}
				if r.pos > start+x.p23 {
					t.Fatalf("frame %d gr %d ch %d: Huffman data overruns part2_3_length by %d bits", len(out), gr, c, r.pos-start-x.p23)
				}
				r.pos = start + x.p23
			}
		}
		out = append(out, fr)
		stream = stream[flen:]
	}
	return out
}

// TestWriteWholeFrames: Write encodes every frame of a run of them, mono or
// stereo, and refuses a partial one without encoding anything.
func TestWriteWholeFrames(t *testing.T) {
	for _, channels := range []int{1, 2} {
		enc := NewEncoder(44100, channels)
		n := int(enc.samplesPerPass()) * channels
		var out bytes.Buffer
		if err := enc.Write(&out, make([]int16, 3*n)); err != nil {
			t.Fatal(err)
		}
		// Each frame starts with a sync word; the last frame's tail may
		// still be in the bit writer's cache, but its head is out.
		if got := bytes.Count(out.Bytes(), []byte{0xff, 0xfb}); got != 3 {
			t.Errorf("%d channel(s): %d frame headers in 3 frames' output", channels, got)
		}
		out.Reset()
		if err := enc.Write(&out, make([]int16, n+1)); !errors.Is(err, ErrPartialFrame) || out.Len() != 0 {
			t.Errorf("%d channel(s): Write of a frame and a sample = %v, %d bytes; want ErrPartialFrame, none", channels, err, out.Len())
		}
	}
}

// TestFrameStatePooled: Encoders that borrow their frame's working memory
// from framePool, two of them taking turns (so each gets what the other
// left), write the same bytes as Encoders that keep their own, and hold
// none between frames: nothing in a frameState carries from one frame to
// the next.
func TestFrameStatePooled(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var kept, pooled [2]*Encoder
	var outKept, outPooled [2]bytes.Buffer
	for i := range 2 {
		kept[i], pooled[i] = NewEncoder(44100, 2), NewEncoder(44100, 2)
		kept[i].attach()
	}
	pcm := make([]int16, 2*1152)
	for frame := range 30 {
		for i := range 2 {
			for j := range pcm {
				pcm[j] = int16(r.IntN(1<<(6+frame%10)) - 1<<(5+frame%10))
			}
			if err := kept[i].Write(&outKept[i], pcm); err != nil {
				t.Fatal(err)
			}
			if err := pooled[i].Write(&outPooled[i], pcm); err != nil {
				t.Fatal(err)
			}
			if pooled[i].frameState != nil || pooled[i].l3loop.loopScratch != nil {
				t.Fatalf("frame %d: a pooled Encoder still holds its frameState", frame)
			}
		}
	}
	for i := range 2 {
		if !bytes.Equal(outKept[i].Bytes(), outPooled[i].Bytes()) {
			t.Errorf("stream %d: pooled working memory changed the output", i)
		}
	}
}
