package server

import (
	"crypto/rand"
	"encoding/base64"
)

// A stream has two tokens, both URL-safe text from crypto/rand:
//
//   - its control token (22 characters, 128 bits): /set_param and every
//     other route take it; whoever has it steers the stream;
//   - its listen token (30 characters): the control token's first
//     routeKeyLen characters, then 128 bits of its own. /stream, /events
//     and /params take it; /set_param refuses it (403), so a shared link
//     hands over the music, not the controls.
//
// The first routeKeyLen characters of either token are the stream's routing
// key: a proxy that spreads streams over nodes hashes those (nginx: a map
// on $arg_id; HAProxy: url_param(id),bytes(0,8)), so a stream's controllers
// and listeners land on the same node. A listen token tells 48 bits of its
// control token; the other 80 stay unguessable.
const (
	tokenBytes  = 16 // entropy of a control token, and of a listen token's own part
	routeKeyLen = 8  // characters shared by a stream's two tokens
)

// tokenLen and listenLen are the lengths of the two tokens' text.
var (
	tokenLen  = base64.RawURLEncoding.EncodedLen(tokenBytes)
	listenLen = routeKeyLen + tokenLen
)

// newToken returns a fresh 128-bit control token, URL-safe text.
func newToken() string {
	var b [tokenBytes]byte
	rand.Read(b[:]) // never fails: crypto/rand aborts the process instead (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// newListenToken returns a fresh listen token for the stream whose control
// token is id: id's routing key and 128 bits of its own.
func newListenToken(id string) string { return id[:routeKeyLen] + newToken() }
