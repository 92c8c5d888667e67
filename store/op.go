package store

import (
	"fmt"
	"sync/atomic"
)

// check reports whether op can ever succeed, the same verdict in every
// implementation. It never echoes the key: keys are stream tokens, and an
// error may end up in a log.
func check(op *Op) error {
	switch {
	case op.Key == "":
		return fmt.Errorf("%w: empty key", ErrInvalid)
	case len(op.Key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes (limit %d)", ErrInvalid, len(op.Key), MaxKeyLen)
	case op.Delete:
		return nil
	case len(op.Value) > MaxValueLen:
		return fmt.Errorf("%w: value of %d bytes (limit %d)", ErrInvalid, len(op.Value), MaxValueLen)
	case op.Version == 0:
		return fmt.Errorf("%w: put of version 0 (the first version is 1)", ErrInvalid)
	}
	return nil
}

// admits applies the version rule of Op to the version stored under op.Key
// (stored, with found false when the key is absent): nil if op may go
// ahead, else an error wrapping ErrVersion.
func admits(op *Op, stored uint64, found bool) error {
	if op.Delete {
		if !found || op.Version == 0 || op.Version == stored {
			return nil
		}
		return fmt.Errorf("%w: delete of version %d, stored %d", ErrVersion, op.Version, stored)
	}
	switch {
	case !found && op.Version == 1:
		return nil
	case !found:
		return fmt.Errorf("%w: put of version %d, nothing stored", ErrVersion, op.Version)
	case stored != op.Version-1:
		return fmt.Errorf("%w: put of version %d, stored %d", ErrVersion, op.Version, stored)
	}
	return nil
}

// counters are a store's Stats, each updated atomically. Every completed op
// goes through finish, so Writes and Failed cannot drift from the ops
// actually done.
type counters struct {
	writes, failed, commits, commitNs atomic.Uint64
}

// finish sets op's result, counts it and calls op.Done (if the caller set
// one: a nil Done only loses the result, it never panics the store). The
// caller must hold no lock: Done may call Write again.
func (c *counters) finish(op *Op, err error) {
	op.Err = err
	c.writes.Add(1) // before failed: see stats
	if err != nil {
		c.failed.Add(1)
	}
	if op.Done != nil {
		op.Done(op)
	}
}

// commit counts one commit attempt that took ns nanoseconds.
func (c *counters) commit(ns int64) {
	c.commits.Add(1)
	c.commitNs.Add(uint64(max(ns, 0)))
}

// stats reads the counters. Each is read atomically, not the set as one
// snapshot; finish counts Writes before Failed and stats reads Failed
// first, so that Failed ≤ Writes holds in every value returned.
func (c *counters) stats() Stats {
	var s Stats
	s.Failed = c.failed.Load()
	s.Writes = c.writes.Load()
	s.Commits = c.commits.Load()
	s.CommitNs = c.commitNs.Load()
	return s
}

// groups takes ops from queue one group at a time until it is closed and
// empty: the first op waiting and whatever else is queued, up to max, in
// batch (reused); commit handles each group, after which the references
// are dropped (the callers own those ops again). The committer's loop of
// Bolt and of each Redis sender.
func groups(queue <-chan *Op, batch []*Op, max int, commit func([]*Op)) {
	for op := range queue {
		batch = append(batch[:0], op)
	drain:
		for len(batch) < max {
			select {
			case op, ok := <-queue:
				if !ok {
					break drain
				}
				batch = append(batch, op)
			default:
				break drain
			}
		}
		commit(batch)
		clear(batch)
	}
}
