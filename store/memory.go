package store

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Memory is a Store held in a map for the life of the process, for tests
// and benchmarks. It keeps the same rules as Bolt (versions, deletes,
// limits, ErrClosed) but is durable only in the sense that nothing is lost
// while the process lives.
//
// Write applies the op under a mutex and calls Done before it returns, so an
// op never waits in a queue and never fails with ErrBusy or ErrCommit. A
// Memory commits nothing: its Stats count Writes and Failed, and Commits and
// CommitNs stay zero. All methods are safe from any goroutine.
type Memory struct {
	c counters

	mu     sync.Mutex
	closed bool
	recs   map[string]memRecord
}

// memRecord is a stored value and its version. value is the store's own
// copy and is never modified: a put replaces it whole, so Load may hand it
// out after the lock is released.
type memRecord struct {
	value   []byte
	version uint64
}

// NewMemory returns an empty Memory.
func NewMemory() *Memory {
	return &Memory{recs: make(map[string]memRecord)}
}

// Write applies op and calls op.Done before returning. The value is copied,
// so the caller may reuse op.Value once Done has been called.
func (m *Memory) Write(op *Op) {
	err := check(op)
	if err == nil {
		err = m.apply(op)
	}
	m.c.finish(op, err)
}

// apply makes op's change under the lock, or says why not.
func (m *Memory) apply(op *Op) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	rec, found := m.recs[op.Key]
	if err := admits(op, rec.version, found); err != nil {
		return err
	}
	if op.Delete {
		delete(m.recs, op.Key)
		return nil
	}
	m.recs[op.Key] = memRecord{value: slices.Clone(op.Value), version: op.Version}
	return nil
}

// Load calls fn for every record in key order, over a snapshot taken when
// it starts: fn may call Write, and writes made meanwhile may or may not be
// seen. It returns ErrClosed after Close.
func (m *Memory) Load(fn func(rec Record) error) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	recs := make([]Record, 0, len(m.recs))
	for k, r := range m.recs {
		recs = append(recs, Record{Key: k, Value: r.value, Version: r.version})
	}
	m.mu.Unlock()
	slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a.Key, b.Key) })
	for _, r := range recs {
		if err := fn(r); err != nil {
			return fmt.Errorf("store: load stopped by its caller: %w", err)
		}
	}
	return nil
}

// Stats returns m's counters.
func (m *Memory) Stats() Stats { return m.c.stats() }

// Close drops the records; later Writes fail with ErrClosed. Memory has no
// queue, so nothing waits. Close is idempotent and always returns nil.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.recs = nil
	m.mu.Unlock()
	return nil
}

var _ Store = (*Memory)(nil)
