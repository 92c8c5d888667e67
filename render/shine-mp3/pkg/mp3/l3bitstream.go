package mp3

import (
	"encoding/binary"
	"math/bits"
)

// This is called after a frame of audio has been quantized and coded.
// It will write the encoded audio to the bitstream. Note that
// from a layer3 encoder's perspective the bit stream is primarily
// a series of main_data() blocks, with header and side information
// inserted at the proper locations to maintain framing. (See Figure A.7 in the IS).
func (enc *Encoder) formatBitstream() {
	enc.encodeSideInfo()
	enc.encodeMainData()
}

// synthcast: upstream negated l3Encoding where the spectrum was negative
// (a pass over all 2304 values a frame) and copied the side information
// (twice) by value; the Huffman coder now reads each value's sign from
// mdctFrequency, and the side information through a pointer.
func (enc *Encoder) encodeMainData() {
	si := &enc.sideInfo
	for gr := range int(enc.Mpeg.GranulesPerFrame) {
		for ch := range int(enc.Wave.Channels) {
			gi := &si.Granules[gr].Channels[ch].Tt
			slen1 := uint(slen1Table[gi.ScaleFactorCompress])
			slen2 := uint(slen2Table[gi.ScaleFactorCompress])
			sf := &enc.scaleFactor.L[gr][ch]
			for k, band := range [4][2]int{{0, 6}, {6, 11}, {11, 16}, {16, 21}} {
				slen := slen1
				if k >= 2 {
					slen = slen2
				}
				if slen == 0 || (gr != 0 && si.ScaleFactorSelectInfo[ch][k] != 0) {
					continue
				}
				for sfb := band[0]; sfb < band[1]; sfb++ {
					enc.bitstream.putBits(uint32(sf[sfb]), slen)
				}
			}
			enc.huffmanCodeBits(&enc.l3Encoding[ch][gr], &enc.mdctFrequency[ch][gr], gi)
		}
	}
}
func (enc *Encoder) encodeSideInfo() {
	var (
		gr         int64
		ch         int64
		scfsi_band int64
		region     int64
		si         = &enc.sideInfo
	)
	enc.bitstream.putBits(2047, 11)
	enc.bitstream.putBits(uint32(enc.Mpeg.Version), 2)
	enc.bitstream.putBits(uint32(enc.Mpeg.Layer), 2)
	if enc.Mpeg.Crc == 0 {
		enc.bitstream.putBits(uint32(1), 1)
	} else {
		enc.bitstream.putBits(uint32(0), 1)
	}
	enc.bitstream.putBits(uint32(enc.Mpeg.BitrateIndex), 4)
	enc.bitstream.putBits(uint32(enc.Mpeg.SampleRateIndex%3), 2)
	enc.bitstream.putBits(uint32(enc.Mpeg.Padding), 1)
	enc.bitstream.putBits(uint32(enc.Mpeg.Ext), 1)
	enc.bitstream.putBits(uint32(enc.Mpeg.Mode), 2)
	enc.bitstream.putBits(uint32(enc.Mpeg.ModeExt), 2)
	enc.bitstream.putBits(uint32(enc.Mpeg.Copyright), 1)
	enc.bitstream.putBits(uint32(enc.Mpeg.Original), 1)
	enc.bitstream.putBits(uint32(enc.Mpeg.Emph), 2)
	if enc.Mpeg.Version == MPEG_I {
		enc.bitstream.putBits(0, 9)
		if enc.Wave.Channels == 2 {
			enc.bitstream.putBits(uint32(si.PrivateBits), 3)
		} else {
			enc.bitstream.putBits(uint32(si.PrivateBits), 5)
		}
	} else {
		enc.bitstream.putBits(0, 8)
		if enc.Wave.Channels == 2 {
			enc.bitstream.putBits(uint32(si.PrivateBits), 2)
		} else {
			enc.bitstream.putBits(uint32(si.PrivateBits), 1)
		}
	}
	if enc.Mpeg.Version == MPEG_I {
		for ch = 0; ch < enc.Wave.Channels; ch++ {
			for scfsi_band = 0; scfsi_band < 4; scfsi_band++ {
				enc.bitstream.putBits(uint32(si.ScaleFactorSelectInfo[ch][scfsi_band]), 1)
			}
		}
	}
	for gr = 0; gr < enc.Mpeg.GranulesPerFrame; gr++ {
		for ch = 0; ch < enc.Wave.Channels; ch++ {
			var gi *GranuleInfo = &si.Granules[gr].Channels[ch].Tt
			enc.bitstream.putBits(uint32(gi.Part2_3Length), 12)
			enc.bitstream.putBits(uint32(gi.BigValues), 9)
			enc.bitstream.putBits(uint32(gi.GlobalGain), 8)
			if enc.Mpeg.Version == MPEG_I {
				enc.bitstream.putBits(uint32(gi.ScaleFactorCompress), 4)
			} else {
				enc.bitstream.putBits(uint32(gi.ScaleFactorCompress), 9)
			}
			enc.bitstream.putBits(0, 1)
			for region = 0; region < 3; region++ {
				enc.bitstream.putBits(uint32(gi.TableSelect[region]), 5)
			}
			enc.bitstream.putBits(uint32(gi.Region0Count), 4)
			enc.bitstream.putBits(uint32(gi.Region1Count), 3)
			if enc.Mpeg.Version == MPEG_I {
				enc.bitstream.putBits(uint32(gi.PreFlag), 1)
			}
			enc.bitstream.putBits(uint32(gi.ScaleFactorScale), 1)
			enc.bitstream.putBits(uint32(gi.Count1TableSelect), 1)
		}
	}
}

// bitAcc writes a granule's Huffman codes into a bitstream's buffer, 32
// bits at a time, with up to 63 pending: it takes over the stream's cache
// (openAcc) and hands it back (close). Upstream called putBits, with its
// bounds and growth checks, twice a pair.
type bitAcc struct {
	data []byte
	pos  int
	acc  uint64 // the pending bits, in the low n
	n    uint
}

// openAcc returns a bitAcc that continues bs, with room for maxBytes.
func (bs *bitstream) openAcc(maxBytes int) bitAcc {
	for bs.dataPosition+maxBytes+4 > bs.dataSize {
		grown := make([]byte, bs.dataSize+bs.dataSize>>1)
		copy(grown, bs.data)
		bs.data, bs.dataSize = grown, len(grown)
	}
	n := uint(32 - bs.cacheBits)
	return bitAcc{data: bs.data[:bs.dataSize], pos: bs.dataPosition, acc: uint64(bs.cache >> bs.cacheBits), n: n}
}

// put appends the k low bits of v (k ≤ 32, v < 2^k).
func (w *bitAcc) put(v uint64, k uint) {
	w.acc = w.acc<<k | v
	w.n += k
	if w.n >= 32 {
		w.n -= 32
		binary.BigEndian.PutUint32(w.data[w.pos:], uint32(w.acc>>w.n))
		w.pos += 4
	}
}

// close hands the pending bits back to bs.
func (w *bitAcc) close(bs *bitstream) {
	bs.dataPosition = w.pos
	bs.cacheBits = int(32 - w.n)
	bs.cache = uint32(w.acc << (32 - w.n))
}

// appendSign appends to the code (n bits) the sign bit of x, the spectral
// value quantized to q, if q is not 0; without branches, since the signs
// are as good as random.
func appendSign(code uint64, n uint, q int, x int32) (uint64, uint) {
	nz := uint(b2i(q != 0))
	return code<<nz | uint64(uint32(x)>>31)&uint64(nz), n + nz
}

// count1Codes[t][v<<3|w<<2|x<<1|y] is the code of a count1 quadruple
// under table A (t 0) or B (1), shifted left by the number of its values
// that are not 0 (room for their signs), times 16, plus its length signs
// included. signBits[p<<4|s] is the sign bits s (v first) of the values
// set in p, packed. Read-only after initialisation.
var count1Codes, signBits = func() (c [2][16]uint32, sb [256]uint8) {
	for t := range 2 {
		h := &huffmanCodeTable[32+t]
		for p := range 16 {
			n := uint32(bits.OnesCount8(uint8(p)))
			c[t][p] = uint32(h.table[p])<<n<<4 | (uint32(h.hLen[p]) + n)
		}
	}
	for p := range 16 {
		for s := range 16 {
			var v uint8
			for k := 3; k >= 0; k-- {
				if p>>k&1 != 0 {
					v = v<<1 | uint8(s>>k&1)
				}
			}
			sb[p<<4|s] = v
		}
	}
	return
}()

// huffmanCodeBits writes a granule's Huffman data: ix holds the quantized
// magnitudes, xr the spectrum they came from (for the signs).
//
// synthcast: one table lookup and one write a pair (two with escapes)
// instead of upstream's per-value sign handling and calls, and the count1
// quadruples indexed as ISO 11172-3 table B.7 lists them (v first, the
// most significant bit): upstream indexed them v last, so decoders put
// each quadruple's values back in reverse order.
func (enc *Encoder) huffmanCodeBits(ix *[GRANULE_SIZE]int16, xr *[GRANULE_SIZE]int32, gi *GranuleInfo) {
	sfb := &scaleFactorBandIndex[enc.Mpeg.SampleRateIndex]
	// A granule's Huffman data is at most 4095 bits (part2_3_length).
	w := enc.bitstream.openAcc(4096 / 8)
	bits := 0
	bigvalues := int(gi.BigValues << 1)
	r1 := min(int(sfb[gi.Region0Count+1]), bigvalues)
	r2 := min(int(sfb[gi.Region0Count+gi.Region1Count+2]), bigvalues)
	bounds := [4]int{0, r1, r2, bigvalues}
	for r := range 3 {
		t := gi.TableSelect[r]
		if t == 0 || bounds[r] >= bounds[r+1] {
			continue
		}
		h := &huffmanCodeTable[t]
		ylen := int(h.yLen)
		codes, lens := h.table, h.hLen
		if t <= 15 {
			for i := bounds[r]; i < bounds[r+1]; i += 2 {
				x, y := int(ix[i]), int(ix[i+1])
				k := x*ylen + y
				code, n := uint64(codes[k]), uint(lens[k])
				code, n = appendSign(code, n, x, xr[i])
				code, n = appendSign(code, n, y, xr[i+1])
				w.put(code, n)
				bits += int(n)
			}
			continue
		}
		linbits := uint(h.linBits)
		for i := bounds[r]; i < bounds[r+1]; i += 2 {
			x, y := int(ix[i]), int(ix[i+1])
			xc, yc := min(x, 15), min(y, 15)
			k := xc*ylen + yc
			w.put(uint64(codes[k]), uint(lens[k]))
			bits += int(lens[k])
			var ext uint64
			var n uint
			if x >= 15 {
				ext, n = uint64(x-15), linbits
			}
			ext, n = appendSign(ext, n, x, xr[i])
			if y >= 15 {
				ext = ext<<linbits | uint64(y-15)
				n += linbits
			}
			ext, n = appendSign(ext, n, y, xr[i+1])
			w.put(ext, n)
			bits += int(n)
		}
	}
	c1 := &count1Codes[gi.Count1TableSelect&1]
	count1End := bigvalues + int(gi.Count1<<2)
	// Two quadruples a write (at most 10 bits each).
	var pend uint64
	var npend uint
	q, xs := ix[bigvalues:count1End], xr[bigvalues:count1End]
	for len(q) >= 4 && len(xs) >= 4 {
		p := int(q[0])<<3 | int(q[1])<<2 | int(q[2])<<1 | int(q[3])
		s := uint32(xs[0])>>31<<3 | uint32(xs[1])>>31<<2 | uint32(xs[2])>>31<<1 | uint32(xs[3])>>31
		e := c1[p&15]
		n := uint(e & 15)
		pend = pend<<n | uint64(e>>4) | uint64(signBits[(p<<4|int(s))&255])
		npend += n
		bits += int(n)
		if npend >= 12 {
			w.put(pend, npend)
			pend, npend = 0, 0
		}
		q, xs = q[4:], xs[4:]
	}
	w.put(pend, npend)
	w.close(&enc.bitstream)
	if stuff := int(gi.Part2_3Length-gi.Part2Length) - bits; stuff > 0 {
		for ; stuff >= 32; stuff -= 32 {
			enc.bitstream.putBits(^uint32(0), 32)
		}
		if stuff > 0 {
			enc.bitstream.putBits(uint32(1)<<stuff-1, uint(stuff))
		}
	}
}
