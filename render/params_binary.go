package render

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The binary form of a Params, for durable storage. Version 1 is, in order:
//
//	version   1 byte, 1
//	mode      1 byte
//	freq      float64, 8 bytes little-endian IEEE 754
//	wave      1 byte
//	gain      float64
//	tempo     float64
//	scale     1 byte
//	root      signed varint (zigzag, as encoding/binary.AppendVarint)
//	seed      uint64, 8 bytes little-endian
//	cutoff    float64
//	pan       float64
//	samplerate, channels, bitrate   signed varints
//	anchor    frame as a signed varint, then step as a float64
//
// Keys come in table order, then the Anchor. Floats are stored bit for bit,
// so a Params reads back exactly. A later format gets a new version byte;
// ParseBinary keeps reading every version it ever wrote.
const binaryVersion = 1

// MaxBinaryLen is the longest encoding of a Params that ParseBinary accepts:
// 60 bytes of fixed fields, varints of at most 2 (root), 3 (samplerate),
// 1 (channels) and 2 (bitrate) bytes, and 8 for an anchor frame within
// MaxAnchorFrame.
const MaxBinaryLen = 76

// AppendBinary appends p's binary form (version 1, at most MaxBinaryLen
// bytes for a valid p) to dst and returns the extended buffer. Every field is
// stored, the Anchor too; ParseBinary gives back a Params == *p. An invalid
// p is stored as it is and refused by ParseBinary. AppendBinary allocates
// only if dst must grow.
//
// (It is not encoding.BinaryAppender: it cannot fail, so it returns no error.)
func (p *Params) AppendBinary(dst []byte) []byte {
	le := binary.LittleEndian
	dst = append(dst, binaryVersion, byte(p.Mode))
	dst = le.AppendUint64(dst, math.Float64bits(p.Freq))
	dst = append(dst, byte(p.Wave))
	dst = le.AppendUint64(dst, math.Float64bits(p.Gain))
	dst = le.AppendUint64(dst, math.Float64bits(p.Tempo))
	dst = append(dst, byte(p.Scale))
	dst = binary.AppendVarint(dst, int64(p.Root))
	dst = le.AppendUint64(dst, p.Seed)
	dst = le.AppendUint64(dst, math.Float64bits(p.Cutoff))
	dst = le.AppendUint64(dst, math.Float64bits(p.Pan))
	dst = binary.AppendVarint(dst, int64(p.SampleRate))
	dst = binary.AppendVarint(dst, int64(p.Channels))
	dst = binary.AppendVarint(dst, int64(p.Bitrate))
	dst = binary.AppendVarint(dst, p.Anchor.Frame)
	return le.AppendUint64(dst, math.Float64bits(p.Anchor.Step))
}

// ParseBinary decodes a Params that AppendBinary wrote. It accepts exactly
// the bytes AppendBinary writes for a valid Params: a known version, every
// field present, nothing after them, minimal varints, keys that pass
// Validate and an Anchor within MaxAnchorFrame and MaxAnchorStep. Any other
// input gives the zero Params and an error wrapping ErrBadEncoding (and, for
// a bad key, the *ParamError too). ParseBinary never panics, keeps no
// reference to b, and allocates only to return an error.
func ParseBinary(b []byte) (Params, error) {
	if len(b) == 0 {
		return Params{}, badEncoding("empty")
	}
	if b[0] != binaryVersion {
		return Params{}, fmt.Errorf("%w: unknown version %d", ErrBadEncoding, b[0])
	}
	if len(b) > MaxBinaryLen {
		return Params{}, badEncoding("too long")
	}
	r := binaryReader{b: b[1:]}
	var p Params
	p.Mode = Mode(r.byte())
	p.Freq = r.float()
	p.Wave = Wave(r.byte())
	p.Gain = r.float()
	p.Tempo = r.float()
	p.Scale = Scale(r.byte())
	p.Root = r.int()
	p.Seed = r.uint64()
	p.Cutoff = r.float()
	p.Pan = r.float()
	p.SampleRate = r.int()
	p.Channels = r.int()
	p.Bitrate = r.int()
	p.Anchor.Frame = r.varint()
	p.Anchor.Step = r.float()
	switch {
	case r.short:
		return Params{}, badEncoding("truncated")
	case r.bad:
		return Params{}, badEncoding("malformed varint")
	case len(r.b) > 0:
		return Params{}, badEncoding("trailing bytes")
	}
	if err := p.Validate(); err != nil {
		return Params{}, fmt.Errorf("%w: %w", ErrBadEncoding, err)
	}
	if !p.Anchor.valid() {
		return Params{}, badEncoding("anchor out of range")
	}
	// Varints have several spellings of one value; only the shortest is
	// accepted, so one Params has one encoding. Re-encoding checks it.
	var buf [MaxBinaryLen]byte
	if string(p.AppendBinary(buf[:0])) != string(b) {
		return Params{}, badEncoding("not minimal")
	}
	return p, nil
}

func badEncoding(what string) error {
	return &wrapError{msg: ErrBadEncoding.Error() + ": " + what, err: ErrBadEncoding}
}

// wrapError is an error with its own text that wraps err.
type wrapError struct {
	msg string
	err error
}

func (e *wrapError) Error() string { return e.msg }
func (e *wrapError) Unwrap() error { return e.err }

// binaryReader reads ParseBinary's fields from b. A read past the end sets
// short and returns zero; a bad varint sets bad.
type binaryReader struct {
	b     []byte
	short bool
	bad   bool
}

func (r *binaryReader) byte() byte {
	if len(r.b) < 1 {
		r.short = true
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *binaryReader) uint64() uint64 {
	if len(r.b) < 8 {
		r.short, r.b = true, nil
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *binaryReader) float() float64 { return math.Float64frombits(r.uint64()) }

func (r *binaryReader) varint() int64 {
	v, n := binary.Varint(r.b)
	switch {
	case n == 0:
		r.short, r.b = true, nil
		return 0
	case n < 0:
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// int reads a varint that must fit an int.
func (r *binaryReader) int() int {
	v := r.varint()
	if int64(int(v)) != v {
		r.bad = true
		return 0
	}
	return int(v)
}
