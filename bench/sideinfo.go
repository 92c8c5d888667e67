package main

import (
	"github.com/synthcast/synthcast/render"
)

// granule is the part of one granule and channel's side information that
// tells whether its quantized spectrum is all zeros.
type granule struct {
	part23     int  // part2_3_length: bits of main data (scale factors and Huffman code)
	bigValues  int  // big_values: pairs of lines in the big-value region
	sfCompress int  // scalefac_compress: 0 means no scale-factor bits
	count1B    bool // count1table_select: table B (4-bit codes) rather than A
}

// sideInfo is the parsed side information of a Layer III frame.
type sideInfo struct {
	mainDataBegin int        // bytes of this frame's main data in earlier frames (bit reservoir)
	n             int        // granules × channels in g: 4, 2 or 1
	g             [4]granule // granule 0 channel 0, granule 0 channel 1, granule 1 …
}

// sideInfoLen is the length in bytes of a Layer III frame's side
// information (ISO/IEC 11172-3 2.4.1.7, 13818-3 2.4.1.7): 17 or 32 bytes for
// MPEG-1 mono or stereo, 9 or 17 for MPEG-2.
func sideInfoLen(version, channels int) int {
	switch {
	case version == 1 && channels == 1:
		return 17
	case version == 1:
		return 32
	case channels == 1:
		return 9
	default:
		return 17
	}
}

// sideInfoEnd is the offset in a frame of its main data: the header, the CRC
// if any and the side information.
func sideInfoEnd(h render.FrameHeader) int {
	n := render.FrameHeaderLen + sideInfoLen(h.Version, h.Channels)
	if h.CRC {
		n += 2
	}
	return n
}

// parseSideInfo decodes the side information of the frame that starts b (h
// is its parsed header). ok is false if b is shorter than sideInfoEnd(h). It
// allocates nothing.
//
// Layout after the header and the optional 16-bit CRC, in bits:
//
//	MPEG-1: main_data_begin 9, private_bits 5 (mono) or 3 (stereo),
//	        scfsi 4 per channel; then for each of 2 granules, for each
//	        channel, 59 bits: part2_3_length 12, big_values 9,
//	        global_gain 8, scalefac_compress 4, window_switching_flag 1,
//	        22 bits of block type or table selection and region counts,
//	        preflag 1, scalefac_scale 1, count1table_select 1.
//	MPEG-2: main_data_begin 8, private_bits 1 (mono) or 2 (stereo), no
//	        scfsi; then one granule, for each channel 63 bits: the same
//	        with a 9-bit scalefac_compress and no preflag.
func parseSideInfo(h render.FrameHeader, b []byte) (si sideInfo, ok bool) {
	if len(b) < sideInfoEnd(h) {
		return si, false
	}
	pos := render.FrameHeaderLen * 8
	if h.CRC {
		pos += 16
	}
	granules, sfcBits := 2, 4
	if h.Version == 1 {
		si.mainDataBegin = int(readBits(b, pos, 9))
		pos += 9 + 4*h.Channels
		if h.Channels == 1 {
			pos += 5
		} else {
			pos += 3
		}
	} else {
		granules, sfcBits = 1, 9
		si.mainDataBegin = int(readBits(b, pos, 8))
		pos += 8 + h.Channels
	}
	for range granules {
		for range h.Channels {
			g := &si.g[si.n]
			g.part23 = int(readBits(b, pos, 12))
			g.bigValues = int(readBits(b, pos+12, 9))
			g.sfCompress = int(readBits(b, pos+12+9+8, sfcBits))
			// 59 or 63 bits per block; count1table_select is the last.
			block := 12 + 9 + 8 + sfcBits + 1 + 22 + 3
			if h.Version == 2 {
				block-- // no preflag
			}
			g.count1B = readBits(b, pos+block-1, 1) == 1
			pos += block
			si.n++
		}
	}
	return si, true
}

// readBits returns the n (≤ 32) bits of b starting at bit pos, most
// significant first. The caller guarantees b holds them.
func readBits(b []byte, pos, n int) uint32 {
	var v uint32
	for i := range n {
		bit := pos + i
		v = v<<1 | uint32(b[bit>>3]>>(7-bit&7))&1
	}
	return v
}

// frameSilent reports whether frame (one whole Layer III frame, h its
// header) is digital silence: every quantized spectral line of every
// granule and channel is zero. ok is false if frame is too short to tell.
//
// A granule is silent if it has no big-value region (big_values 0) and
// either no main data at all (part2_3_length 0: what LAME writes for
// silence) or main data that decodes to zeros: no scale factors
// (scalefac_compress 0) and a count1 region of zero quadruples only, which
// both count1 tables code as 1 bits ("1" in table A, "1111" in table B).
// shine writes silence that way: it puts a frame's unused bits, as 1 bits,
// into the first granule's part2_3_length, which for a silent frame is
// then the whole frame (3056 bits at 128 kbit/s, 44.1 kHz stereo). Only the
// bits covering the 576 lines of a granule count; a decoder ignores the
// rest.
//
// Main data that starts in an earlier frame (main_data_begin > 0, LAME's
// bit reservoir) cannot be read here: such a granule counts as silent only
// if it has no main data.
func frameSilent(h render.FrameHeader, frame []byte) (silent, ok bool) {
	si, ok := parseSideInfo(h, frame)
	if !ok {
		return false, false
	}
	pos := sideInfoEnd(h) * 8 // this frame's main data, if main_data_begin is 0
	for _, g := range si.g[:si.n] {
		switch {
		case g.bigValues > 0:
			return false, true
		case g.part23 == 0:
			continue
		case si.mainDataBegin != 0 || g.sfCompress != 0:
			return false, true
		}
		codeLen := 1
		if g.count1B {
			codeLen = 4
		}
		n := min(g.part23, 576/4*codeLen)
		if pos+n > len(frame)*8 {
			return false, false
		}
		if !allOnes(frame, pos, n) {
			return false, true
		}
		pos += g.part23
	}
	return true, true
}

// allOnes reports whether the n bits of b from bit pos on are all 1.
func allOnes(b []byte, pos, n int) bool {
	for n > 0 && pos&7 != 0 {
		if b[pos>>3]>>(7-pos&7)&1 == 0 {
			return false
		}
		pos++
		n--
	}
	for ; n >= 8; n -= 8 {
		if b[pos>>3] != 0xff {
			return false
		}
		pos += 8
	}
	for ; n > 0; n-- {
		if b[pos>>3]>>(7-pos&7)&1 == 0 {
			return false
		}
		pos++
	}
	return true
}
