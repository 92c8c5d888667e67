package server

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/synthcast/synthcast/render"
)

// A stream's record, the bytes the store keeps under its token:
//
//	byte 0      record format, recordFormat
//	bytes 1–8   epoch: unix ns of the timeline's zero (big-endian int64)
//	bytes 9–16  heard: unix ns the stream was last heard (a listener came or
//	            went, or a node with listeners renewed it; see hub.touch);
//	            formats 1 and 2 kept 0 there while a listener was attached
//	bytes 17–46 the listen token, 30 characters (format 3 on)
//	byte  n     the length of the stream's name (format 2 on)
//	then        the name, n bytes of UTF-8 (checkName's rules)
//	then        the parameters, render's binary encoding (with the melody anchor)
//
// Format 1 had no name and formats 1 and 2 no listen token: such a record
// reads as a stream without a name, and gets a listen token at load. About
// 120 bytes: the store's ~512 bytes of disk per stream leave room.
const (
	recordFormat = 3
	recordHead   = 17
)

// errBadRecord is wrapped by parseRecord's errors.
var errBadRecord = errors.New("bad stream record")

// streamRecord is a decoded record.
type streamRecord struct {
	epoch, heard int64
	listenID     string
	name         string
	params       render.Params
}

// appendRecord appends the record of a stream to dst.
func appendRecord(dst []byte, epoch, heard int64, listenID, name string, p *render.Params) []byte {
	dst = append(dst, recordFormat)
	dst = binary.BigEndian.AppendUint64(dst, uint64(epoch))
	dst = binary.BigEndian.AppendUint64(dst, uint64(heard))
	dst = append(dst, listenID...)
	dst = append(dst, byte(len(name)))
	dst = append(dst, name...)
	return p.AppendBinary(dst)
}

// parseRecord decodes a record; it never panics, whatever b holds.
func parseRecord(b []byte) (streamRecord, error) {
	var r streamRecord
	if len(b) < recordHead {
		return r, fmt.Errorf("%w: %d bytes, want at least %d", errBadRecord, len(b), recordHead)
	}
	if b[0] < 1 || b[0] > recordFormat {
		return r, fmt.Errorf("%w: format %d, want 1 to %d", errBadRecord, b[0], recordFormat)
	}
	r.epoch = int64(binary.BigEndian.Uint64(b[1:]))
	r.heard = int64(binary.BigEndian.Uint64(b[9:]))
	if r.epoch <= 0 || r.heard < 0 {
		return r, fmt.Errorf("%w: epoch %d, heard %d", errBadRecord, r.epoch, r.heard)
	}
	rest := b[recordHead:]
	if b[0] >= 3 {
		if len(rest) < listenLen {
			return r, fmt.Errorf("%w: listen token cut short", errBadRecord)
		}
		if !isToken(rest[:listenLen]) {
			return r, fmt.Errorf("%w: listen token is not URL-safe text", errBadRecord)
		}
		r.listenID, rest = string(rest[:listenLen]), rest[listenLen:]
	}
	if b[0] >= 2 {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return r, fmt.Errorf("%w: name cut short", errBadRecord)
		}
		name := rest[1 : 1+int(rest[0])]
		if err := checkName(name); err != nil {
			return r, fmt.Errorf("%w: %w", errBadRecord, err)
		}
		r.name, rest = string(name), rest[1+int(rest[0]):]
	}
	p, err := render.ParseBinary(rest)
	if err != nil {
		return r, fmt.Errorf("%w: %w", errBadRecord, err)
	}
	r.params = p
	return r, nil
}

// isToken reports whether b is all URL-safe base64 characters.
func isToken(b []byte) bool {
	for _, c := range b {
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
