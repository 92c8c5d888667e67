package server

import (
	"crypto/rand"
	"encoding/base64"
)

// tokenBytes is the entropy of a stream token: 128 bits, as the contract says,
// so a token cannot be guessed while the stream lives.
const tokenBytes = 16

// tokenLen is the length of a token's URL-safe text (unpadded base64).
var tokenLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// newToken returns a fresh 128-bit token from crypto/rand, URL-safe text.
func newToken() string {
	var b [tokenBytes]byte
	rand.Read(b[:]) // never fails: crypto/rand aborts the process instead (Go ≥ 1.24)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
