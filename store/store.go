// Package store keeps records durably: a key (a stream's token) maps to
// opaque bytes with a version number. It knows nothing of audio, HTTP or
// gnet; what the bytes mean is the caller's business.
//
// Three implementations ship: Bolt, an embedded bbolt database in a data
// directory (the default); Memory, a map that lives as long as the process
// (for tests and benchmarks); and Redis, a Shared store that the nodes of a
// cluster write together. That is why versions exist: a write names the
// version it creates, and the store refuses it unless the stored record is
// the one it was computed from, so two writers never interleave a half
// change.
//
// # Invariants
//
// Write never blocks on I/O: it queues the operation (Memory applies it at
// once) and returns, and the store reports through Op.Done once the change
// is durable (for Bolt: in a committed, fsynced transaction; for Redis:
// executed by Redis, as durable as its AOF settings make it) or has failed.
// Many writes share one commit (group commit). Done is called exactly once
// per Write, from any goroutine, possibly before Write returns.
//
// # Non-goals
//
// No queries beyond a full scan, no transactions across keys, no TTLs (the
// caller decides when a record is dead and deletes it).
package store

import (
	"context"
	"errors"
)

// Errors a Write reports in Op.Err (possibly wrapped) and Open returns.
var (
	// ErrVersion: the stored record's version is not the one the write was
	// computed from. Nothing was changed.
	ErrVersion = errors.New("store: version conflict")
	// ErrBusy: the write queue is full; the write was not attempted.
	ErrBusy = errors.New("store: write queue full")
	// ErrClosed: the store is closed; the write was not attempted.
	ErrClosed = errors.New("store: closed")
	// ErrLocked: another process holds the data directory.
	ErrLocked = errors.New("store: data directory is in use by another process")
	// ErrCorrupt: the data file cannot be read as a database, or a record in
	// it is damaged.
	ErrCorrupt = errors.New("store: data file is corrupt")
	// ErrCommit: the change could not be made durable (disk full, an I/O or
	// fsync error). Nothing of the failed commit is kept; later writes are
	// tried afresh. (The one exception is a store that can no longer tell
	// what its file holds; it says so in the error, fails every later write
	// with ErrCommit too, and needs a restart: see Bolt. And Redis cannot
	// tell whether a round trip that broke after it was sent was applied:
	// see Redis.)
	ErrCommit = errors.New("store: commit failed")
	// ErrInvalid: the op can never succeed as given (an empty key, a key or
	// value over MaxKeyLen or MaxValueLen, a put of version 0). Nothing was
	// changed; it is the caller's bug, not worth a retry.
	ErrInvalid = errors.New("store: invalid op")
)

// Limits on an Op, the same for every implementation so that a write one
// store accepts no other refuses.
const (
	// MaxKeyLen bounds a key. Keys are stream tokens (22 bytes); 1 KiB leaves
	// room for prefixes and stays far below bbolt's 32 KiB and any Redis
	// limit, so a key always sits inside one page.
	MaxKeyLen = 1024
	// MaxValueLen bounds a value. A record is a stream's parameters, a few
	// hundred bytes; 64 KiB is generous and keeps one full group commit
	// (Bolt's MaxBatch ops) within a few hundred MiB at worst.
	MaxValueLen = 64 << 10
)

// Record is one stored key with its value and version.
type Record struct {
	Key     string
	Value   []byte
	Version uint64
}

// Op is one write: a put of Value under Key, or, if Delete is set, the
// removal of Key. The caller fills it and passes it to Write; the store
// owns it (and Value) until it calls Done, after which the caller owns it
// again and may reuse it.
type Op struct {
	Key   string
	Value []byte
	// Version is, for a put, the version the record gets: the stored record
	// must have Version-1, or be absent when Version is 1. For a delete, the
	// stored record must have Version, or any version when Version is 0;
	// deleting an absent key succeeds.
	Version uint64
	Delete  bool

	// Err is the result, set by the store before Done: nil once the change
	// is durable, else an error wrapping ErrVersion, ErrInvalid, ErrBusy,
	// ErrClosed or ErrCommit (or ErrCorrupt, when the stored record the
	// version is checked against is damaged).
	Err error
	// Done is called exactly once, from any goroutine (possibly the one that
	// called Write, before Write returns). It must not block: a store calls
	// the Done of a whole commit in turn.
	Done func(*Op)
}

// Store is a durable map of versioned records. Its methods are safe from any
// goroutine.
type Store interface {
	// Write queues op and returns without waiting for I/O; op.Done reports
	// the outcome. A full queue fails the op with ErrBusy at once.
	Write(op *Op)
	// Load calls fn for every stored record (in key order for Bolt and
	// Memory; in no particular order for Redis) and stops at the
	// first error fn returns, which Load returns (wrapped). rec.Value is
	// valid only during the call and must not be modified (Bolt's points into
	// a read-only mapping of the file). A damaged record fails Load with
	// ErrCorrupt; after Close, Load fails with ErrClosed. Load is meant for
	// start-up, before writes; fn may call Write, which does not wait.
	Load(fn func(rec Record) error) error
	// Stats returns the store's counters.
	Stats() Stats
	// Close waits for queued writes to finish, then releases the store.
	// Writes after Close fail with ErrClosed.
	Close() error
}

// Stats counts a store's work since it was opened.
type Stats struct {
	Writes   uint64 // ops completed, successfully or not
	Failed   uint64 // ops that failed (ErrVersion, ErrInvalid, ErrBusy, ErrCommit, ErrClosed, ErrCorrupt)
	Commits  uint64 // commits attempted (one per group of writes)
	CommitNs uint64 // total time spent committing, nanoseconds
}

// Shared is a Store that other processes write too (Redis, for a cluster
// of nodes): besides the Store methods it reads single records and reports
// changes made by anyone.
type Shared interface {
	Store
	// Get reads the record under key, or fails with an error wrapping
	// ErrNotFound; it waits for the store (a network round trip), so it is
	// never called from an event loop. Safe from any goroutine.
	Get(ctx context.Context, key string) (Record, error)
	// Watch reports changes until ctx ends: changed(key) after a write or
	// delete of key by any process (this one included), at most once per
	// change and possibly coalesced; and resync() whenever changes may have
	// been missed (the first subscription, and every resubscription after
	// the connection dropped), after which the caller re-reads what it
	// holds. Watch returns when ctx ends. Callbacks run on one goroutine,
	// in order, and must not block for long.
	Watch(ctx context.Context, changed func(key string), resync func()) error
}

// ErrNotFound: Get found no record under the key.
var ErrNotFound = errors.New("store: not found")
