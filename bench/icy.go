package main

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// ICY metadata as synthcast sends it (README, "Titles in players"): a
// listener that asks with "Icy-MetaData: 1" gets "icy-metaint: 16000", and
// after every 16,000 audio bytes, counted from its first body byte, one
// block: a length byte L, then 16·L bytes of "StreamTitle='…';" padded with
// NULs, or a lone zero byte when the title has not changed since the last
// block it got.
const (
	// icyMetaInt is the audio bytes between blocks that synthcast announces;
	// listen -icy requires it in the response head.
	icyMetaInt = 16000

	// icyUnit is the unit of a block's length byte: a block holds 16·L bytes.
	icyUnit = 16

	// maxICYBlock is the most a block can hold: a length byte of 255.
	maxICYBlock = 255 * icyUnit

	// maxICYTitle is the longest title synthcast sends (200 bytes of UTF-8):
	// a promise of the README that the check holds it to.
	maxICYTitle = 200

	icyTitleStart = "StreamTitle='"
	icyTitleEnd   = "';"
)

// icyStripper takes the ICY metadata blocks out of a response body that
// arrives in arbitrary pieces, so the frame walker sees only the audio, and
// checks each block's layout against synthcast's (icyTitle). Between pieces
// it keeps only a block that is split across them (at most maxICYBlock
// bytes, in a buffer kept for the next one); a block that is whole in its
// piece is checked in place. After reset it allocates nothing but that
// buffer, once, the first time a block with L > 0 is split.
//
// A block that breaks the layout counts in bad; the stripper goes on with
// the framing its length byte gave, as a player would. The first block must
// carry a title (a listener has none yet); a zero-length block before any
// title is bad too. The zero value is off (a listener without -icy); reset
// turns it on. Not safe for concurrent use.
type icyStripper struct {
	interval int    // audio bytes between blocks; 0: off
	left     int    // audio bytes until the next block; 0: in a block
	size     int    // the current block's bytes after its length byte; -1 before that byte
	carry    []byte // the part of a split block received so far
	hash     uint64 // FNV-1a of the last good title
	titled   bool   // a good title has been received

	blocks  int64 // blocks received whole, zero-length ones included
	titles  int64 // good blocks that carried a title (L > 0)
	changes int64 // titles that differ from the title before them
	bad     int64 // blocks that broke the layout
}

// reset starts a body with a block every interval audio bytes; interval
// is icyMetaInt except in tests.
func (s *icyStripper) reset(interval int) {
	*s = icyStripper{interval: interval, left: interval, size: -1, carry: s.carry[:0]}
}

// next consumes the metadata at the start of p, if the body is at a block,
// and returns the audio that follows, up to the next block or the end of
// p, and the rest of p after that audio. Call it again on rest until rest
// is empty. audio is a view into p; p is not retained.
func (s *icyStripper) next(p []byte) (audio, rest []byte) {
	for s.left == 0 && len(p) > 0 {
		p = s.block(p)
	}
	n := min(s.left, len(p))
	s.left -= n
	return p[:n], p[n:]
}

// block consumes what p holds of the current block and returns the rest.
func (s *icyStripper) block(p []byte) []byte {
	if s.size < 0 {
		s.size, p = icyUnit*int(p[0]), p[1:]
		if n := s.size; len(p) >= n { // whole in this piece: checked in place
			s.end(p[:n])
			return p[n:]
		}
		if cap(s.carry) < s.size {
			s.carry = make([]byte, 0, maxICYBlock)
		}
	}
	k := min(s.size-len(s.carry), len(p))
	s.carry = append(s.carry, p[:k]...)
	if len(s.carry) == s.size {
		s.end(s.carry)
		s.carry = s.carry[:0]
	}
	return p[k:]
}

// end counts the block b (its bytes after the length byte) and starts the
// next run of audio.
func (s *icyStripper) end(b []byte) {
	s.blocks++
	s.left, s.size = s.interval, -1
	if len(b) == 0 {
		if !s.titled {
			s.bad++
		}
		return
	}
	title, ok := icyTitle(b)
	if !ok {
		s.bad++
		return
	}
	h := fnv1a(title)
	if s.titled && h != s.hash {
		s.changes++
	}
	s.titles++
	s.hash, s.titled = h, true
}

// icyTitle returns the title of a block's bytes after its length byte, and
// whether they follow synthcast's layout exactly: "StreamTitle='", a title,
// "';" and NULs to the end, fewer than 16 of them (the block is the
// shortest that holds its text); the title valid UTF-8 of at most
// maxICYTitle bytes, without NUL or another control character. The first
// "';" ends the title, so a title never holds one.
func icyTitle(b []byte) ([]byte, bool) {
	if !bytes.HasPrefix(b, []byte(icyTitleStart)) {
		return nil, false
	}
	t := b[len(icyTitleStart):]
	i := bytes.Index(t, []byte(icyTitleEnd))
	if i < 0 || i > maxICYTitle {
		return nil, false
	}
	title, pad := t[:i], t[i+len(icyTitleEnd):]
	if len(pad) >= icyUnit || !utf8.Valid(title) {
		return nil, false
	}
	for _, c := range pad {
		if c != 0 {
			return nil, false
		}
	}
	for _, c := range title {
		if c < 0x20 || c == 0x7f {
			return nil, false
		}
	}
	return title, true
}

// fnv1a is the 64-bit FNV-1a hash of b: a title's fingerprint, so that a
// change is seen without keeping the title.
func fnv1a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}

// headMetaInt returns the value of a response head's icy-metaint header
// (name in any case), or -1 if there is none or it is not a number.
func headMetaInt(head []byte) int {
	for line := range bytes.Lines(head) {
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok || !bytes.EqualFold(bytes.TrimSpace(name), []byte("icy-metaint")) {
			continue
		}
		n, err := strconv.Atoi(string(bytes.TrimSpace(value)))
		if err != nil || n < 0 {
			return -1
		}
		return n
	}
	return -1
}
