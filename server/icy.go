package server

import (
	"errors"
	"strconv"
	"unicode/utf8"

	"github.com/synthcast/synthcast/render"
)

// ICY metadata (SHOUTcast's in-band titles, which Icecast and every player
// speak): a listener that asks with "Icy-MetaData: 1" gets "icy-metaint:
// 16000", and after every 16,000 audio bytes, counted from its first body
// byte, one metadata block: a length byte L, then 16·L bytes of
// "StreamTitle='…';" padded with NULs, or a lone zero byte when the title
// has not changed since the last block it got. A listener without the
// header gets the audio bytes untouched.
//
// The protocol has no escaping: players end the title at "';". So a title
// never holds "';", NUL or another control character; it is UTF-8 (what
// current players assume; Icecast sends its titles as UTF-8 too), cut at a
// rune boundary to maxTitleBytes.
const (
	icyMetaInt     = 16000
	icyMetaIntText = "16000" // icyMetaInt in the icy-metaint header

	// maxTitleBytes caps a title: well under the 4,080 bytes a block can
	// carry, and more than a player shows on one line.
	maxTitleBytes = 200

	// maxNameBytes caps a stream's name (icy-name, and the title's lead).
	maxNameBytes = 64
)

// checkName reports whether name may name a stream: UTF-8, at most
// maxNameBytes, no control characters, no "';" (it would end the ICY title).
func checkName(name []byte) error {
	switch {
	case len(name) > maxNameBytes:
		return errors.New("name: at most 64 bytes")
	case !utf8.Valid(name):
		return errors.New("name: not UTF-8")
	}
	for i, c := range name {
		if c < 0x20 || c == 0x7f {
			return errors.New("name: no control characters")
		}
		if c == '\'' && i+1 < len(name) && name[i+1] == ';' {
			return errors.New(`name: no "';" (it ends an ICY title)`)
		}
	}
	return nil
}

// icyBlock is one prebuilt metadata block: the length byte and the padded
// StreamTitle. Immutable once built; a stream swaps in a new one when its
// title changes, and listeners compare pointers to tell.
type icyBlock struct {
	b     []byte
	title string
}

// icyEmpty is the block sent when the title has not changed.
var icyEmpty = []byte{0}

// newICYBlock builds the block for title, which must already be clean
// (appendTitle makes it so).
func newICYBlock(title []byte) *icyBlock {
	n := len("StreamTitle='';") + len(title)
	l := (n + 15) / 16
	b := make([]byte, 1+16*l)
	b[0] = byte(l)
	copy(b[1:], "StreamTitle='")
	copy(b[1+len("StreamTitle='"):], title)
	copy(b[1+len("StreamTitle='")+len(title):], "';")
	return &icyBlock{b: b, title: string(title)}
}

// noteNames name the pitch classes, for titles: MIDI 60 is C4.
var noteNames = [12]string{"C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"}

// appendTitle appends a short readable summary of p, led by the stream's
// name if it has one: "Night drive · melody · C4 pentatonic · 120 bpm" or
// "tone · 440 Hz sine". The result is clean: see cleanTitle.
func appendTitle(dst []byte, name string, p *render.Params) []byte {
	start := len(dst)
	if name != "" {
		dst = append(dst, name...)
		dst = append(dst, " · "...)
	}
	dst = append(dst, p.Mode.String()...)
	dst = append(dst, " · "...)
	if p.Mode == render.ModeMelody {
		dst = append(dst, noteNames[p.Root%12]...)
		dst = strconv.AppendInt(dst, int64(p.Root/12-1), 10)
		dst = append(dst, ' ')
		dst = append(dst, p.Scale.String()...)
		dst = append(dst, " · "...)
		dst = strconv.AppendFloat(dst, p.Tempo, 'f', -1, 64)
		dst = append(dst, " bpm"...)
	} else {
		dst = strconv.AppendFloat(dst, p.Freq, 'f', -1, 64)
		dst = append(dst, " Hz "...)
		dst = append(dst, p.Wave.String()...)
	}
	return cleanTitle(dst, start)
}

// cleanTitle makes dst[start:] safe as an ICY title: invalid UTF-8,
// control characters and NUL dropped, the quote of every "';" dropped, cut
// at a rune boundary to maxTitleBytes.
func cleanTitle(dst []byte, start int) []byte {
	out := start
	for i := start; i < len(dst); {
		r, size := utf8.DecodeRune(dst[i:])
		switch {
		case r == utf8.RuneError && size == 1, r < 0x20, r == 0x7f:
		case r == '\'' && i+1 < len(dst) && dst[i+1] == ';':
		default:
			if out-start+size > maxTitleBytes {
				return dst[:out]
			}
			out += copy(dst[out:], dst[i:i+size])
		}
		i += size
	}
	return dst[:out]
}

// icyState is a metadata listener's position in the ICY framing. Loop-only.
type icyState struct {
	on   bool      // the listener asked for metadata
	left int       // audio bytes until the next block
	last *icyBlock // the title it was last sent
}

// appendViews appends to views the slices that send data to an ICY
// listener: data cut every icyMetaInt bytes, with title's block at each cut
// if the listener has not had it, else a zero byte. Without metadata it
// appends data untouched. Allocation-free once views has grown.
func (s *icyState) appendViews(views [][]byte, data []byte, title *icyBlock) [][]byte {
	if !s.on {
		return append(views, data)
	}
	for len(data) > 0 {
		if s.left == 0 {
			if s.last != title {
				views = append(views, title.b)
				s.last = title
			} else {
				views = append(views, icyEmpty)
			}
			s.left = icyMetaInt
		}
		n := min(len(data), s.left)
		views = append(views, data[:n])
		data = data[n:]
		s.left -= n
	}
	return views
}
