package server

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"sync"
)

// Errors of Registry.Add.
var (
	ErrStreamLimit = errors.New("server: stream limit reached")
	ErrDuplicateID = errors.New("server: stream id already held")
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

// Registry holds the streams by token. Implementations are safe from any
// goroutine. The in-memory one ships now; a persistent one and a Redis-backed
// one will sit behind the same interface.
type Registry interface {
	// Add stores st under its token. It returns ErrStreamLimit when the
	// registry is full and ErrDuplicateID when the token is taken, and then
	// stores nothing.
	Add(st *Stream) error
	// Lookup returns the stream with token id, or nil. It does not retain id.
	Lookup(id []byte) *Stream
	// Remove forgets s; a later Lookup of its token returns nil. Removing a
	// stream that is not held is a no-op.
	Remove(s *Stream)
	// Len is the number of streams held.
	Len() int
}

// memRegistry is the in-memory Registry: a map under a read-write lock.
type memRegistry struct {
	max int

	mu      sync.RWMutex
	streams map[string]*Stream
}

// newMemRegistry returns an empty in-memory registry holding at most max streams.
func newMemRegistry(max int) *memRegistry {
	return &memRegistry{max: max, streams: make(map[string]*Stream)}
}

func (r *memRegistry) Add(st *Stream) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.streams) >= r.max {
		return ErrStreamLimit
	}
	if r.streams[st.id] != nil {
		return ErrDuplicateID
	}
	r.streams[st.id] = st
	return nil
}

func (r *memRegistry) Lookup(id []byte) *Stream {
	if len(id) != tokenLen {
		return nil
	}
	r.mu.RLock()
	s := r.streams[string(id)] // no allocation: the compiler converts in place for a map index
	r.mu.RUnlock()
	return s
}

func (r *memRegistry) Remove(s *Stream) {
	r.mu.Lock()
	if r.streams[s.id] == s {
		delete(r.streams, s.id)
	}
	r.mu.Unlock()
}

func (r *memRegistry) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.streams)
}
