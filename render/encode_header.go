package render

import (
	"errors"
	"io"
)

// FrameHeaderLen is the length of an MPEG audio frame header in bytes.
const FrameHeaderLen = 4

// ErrFrameHeader reports bytes that are not the header of an MPEG-1 or
// MPEG-2 Layer III frame.
var ErrFrameHeader = errors.New("render: not an MPEG-1/2 Layer III frame header")

// FrameHeader is the decoded 4-byte header of an MPEG-1 or MPEG-2 Layer III
// frame, the only kind Encoder writes.
type FrameHeader struct {
	Version    int  // 1 (MPEG-1, 32 kHz and up) or 2 (MPEG-2, below)
	Bitrate    int  // kbit/s
	SampleRate int  // Hz
	Channels   int  // 1 for mono, 2 for stereo, joint stereo or dual channel
	Padding    bool // the frame carries one extra byte
	CRC        bool // a 16-bit CRC follows the header
	Samples    int  // samples per channel: 1152 (MPEG-1) or 576 (MPEG-2)
	Length     int  // bytes in the whole frame, header included
}

// mpegSampleRates[version-1][index] is the sample rate of a header's 2-bit
// sample-rate index (3 is reserved).
var mpegSampleRates = [2][3]int{
	{44100, 48000, 32000}, // MPEG-1
	{22050, 24000, 16000}, // MPEG-2
}

// mpegBitrates[version-1][index] is the Layer III bitrate in kbit/s of a
// header's 4-bit bitrate index; 0 ("free format", not supported) and 15
// (reserved) are invalid.
var mpegBitrates = [2][16]int{
	{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0}, // MPEG-1
	{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0},     // MPEG-2
}

// ParseFrameHeader decodes the frame header at the start of b. It needs
// FrameHeaderLen bytes and returns io.ErrUnexpectedEOF if b is shorter. It
// returns ErrFrameHeader unless b starts with the 11-bit sync word, an MPEG-1
// or MPEG-2 version, layer III, a bitrate index other than free format or
// reserved, a sample-rate index other than reserved and an emphasis other
// than reserved. It reads only b[:4] and allocates nothing.
//
// The frame occupies b[:h.Length] when len(b) >= h.Length, and a frame of
// Encoder's output is followed directly by the next frame's header, so a
// reader finds frame boundaries by hopping Length bytes at a time.
//
// The header layout (ISO/IEC 11172-3 2.4.1.3, 13818-3 2.4.1.3), bit 31 first:
//
//	AAAAAAAA AAABBCCD EEEEFFGH IIJJKLMM
//	A sync (all ones)   B version (11 MPEG-1, 10 MPEG-2)   C layer (01 = III)
//	D 0 if CRC follows   E bitrate index   F sample-rate index   G padding
//	H private   I mode (00 stereo, 01 joint, 10 dual, 11 mono)
//	J mode extension   K copyright   L original   M emphasis (10 reserved)
func ParseFrameHeader(b []byte) (FrameHeader, error) {
	if len(b) < FrameHeaderLen {
		return FrameHeader{}, io.ErrUnexpectedEOF
	}
	if b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return FrameHeader{}, ErrFrameHeader
	}
	var v int
	switch (b[1] >> 3) & 3 {
	case 3:
		v = 1
	case 2:
		v = 2
	default: // 0 is MPEG-2.5, 1 reserved
		return FrameHeader{}, ErrFrameHeader
	}
	if (b[1]>>1)&3 != 1 || b[3]&3 == 2 {
		return FrameHeader{}, ErrFrameHeader
	}
	br := mpegBitrates[v-1][b[2]>>4]
	sri := (b[2] >> 2) & 3
	if br == 0 || sri == 3 {
		return FrameHeader{}, ErrFrameHeader
	}
	h := FrameHeader{
		Version:    v,
		Bitrate:    br,
		SampleRate: mpegSampleRates[v-1][sri],
		Channels:   2,
		Padding:    b[2]&2 != 0,
		CRC:        b[1]&1 == 0,
		Samples:    1152,
	}
	if b[3]>>6 == 3 {
		h.Channels = 1
	}
	if v == 2 {
		h.Samples = 576
	}
	// Samples/8 bytes per kbit/s·Hz: 144·bitrate/rate for MPEG-1, 72·… for
	// MPEG-2, rounded down, plus the padding byte.
	h.Length = h.Samples / 8 * br * 1000 / h.SampleRate
	if h.Padding {
		h.Length++
	}
	return h, nil
}
