package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisSender is one sender goroutine and what it reuses between batches.
// Its fields are its goroutine's alone.
type redisSender struct {
	r     *Redis
	queue chan *Op
	pipe  redis.Pipeliner
	batch []*Op
	errs  []error
	cmds  []*redis.Cmd
	lost  []bool // per op of a round trip: Redis had no script for it
}

// run sends one batch per turn until the queue is closed and empty.
func (s *redisSender) run() {
	defer s.r.sending.Done()
	groups(s.queue, s.batch, s.r.maxBatch, s.commit)
}

// commit sends batch and reports every op's outcome. Ops that found no
// script in Redis (it restarted, or someone ran SCRIPT FLUSH) are sent once
// more behind SCRIPT LOAD, except any that a later op of the batch on the
// same key overtook (see resendable).
func (s *redisSender) commit(batch []*Op) {
	if cap(s.errs) < len(batch) {
		s.errs = make([]error, len(batch), s.r.maxBatch)
	}
	errs := s.errs[:len(batch)]
	defer clear(errs)
	if s.exec(batch, errs, false) {
		again := resendable(batch, s.lost[:len(batch)])
		ops := make([]*Op, len(again))
		for j, i := range again {
			ops[j] = batch[i]
		}
		// Sent even when again is empty: the SCRIPT LOADs spare the next
		// batch the same miss.
		sub := make([]error, len(ops))
		s.exec(ops, sub, true) // a second miss keeps its ErrCommit
		for j, i := range again {
			errs[i] = sub[j]
		}
	}
	for i, op := range batch {
		s.r.c.finish(op, errs[i])
	}
}

// exec sends ops in one pipeline, preceded by SCRIPT LOAD of both scripts if
// load is set, and sets errs[i] to ops[i]'s verdict. It reports whether some
// op found no script while the connection held (s.lost says which); those
// ops' errs wrap ErrCommit until they are sent again.
func (s *redisSender) exec(ops []*Op, errs []error, load bool) (lostScripts bool) {
	r := s.r
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	if cap(s.lost) < len(ops) {
		s.lost = make([]bool, len(ops), r.maxBatch)
	}
	lost := s.lost[:len(ops)]
	clear(lost)
	var tripErr error
	if h := r.hooks.beforeExec; h != nil {
		tripErr = h()
	}
	if tripErr == nil {
		if load {
			s.pipe.ScriptLoad(ctx, putLua)
			s.pipe.ScriptLoad(ctx, delLua)
		}
		s.cmds = s.cmds[:0]
		for _, op := range ops {
			s.cmds = append(s.cmds, r.queue(ctx, s.pipe, op))
		}
		_, _ = s.pipe.Exec(ctx) // each cmd holds its own error
		var rerr redis.Error
		for i, cmd := range s.cmds {
			errs[i], lost[i] = r.verdict(ops[i], cmd)
			lostScripts = lostScripts || lost[i]
			if err := cmd.Err(); err != nil && tripErr == nil && !errors.As(err, &rerr) {
				tripErr = err
			}
		}
		clear(s.cmds)
	} else {
		err := fmt.Errorf("%w: redis at %s: %w", ErrCommit, r.addr, tripErr)
		for i := range errs {
			errs[i] = err
		}
	}
	took := time.Since(start)
	r.c.commit(took.Nanoseconds())
	if r.onCommit != nil {
		r.onCommit(took, len(ops), tripErr)
	}
	// A broken connection may have cut the replies short after ops that
	// did run: send nothing again.
	return lostScripts && tripErr == nil
}

// queue adds op's script to pipe.
func (r *Redis) queue(ctx context.Context, pipe redis.Pipeliner, op *Op) *redis.Cmd {
	keys := []string{r.keys + op.Key}
	if op.Delete {
		want := ""
		if op.Version != 0 {
			want = strconv.FormatUint(op.Version, 10)
		}
		return pipe.EvalSha(ctx, delScript.Hash(), keys, want, r.channel, op.Key)
	}
	want := ""
	if op.Version > 1 {
		want = strconv.FormatUint(op.Version-1, 10)
	}
	return pipe.EvalSha(ctx, putScript.Hash(), keys, want, strconv.FormatUint(op.Version, 10), op.Value, r.channel, op.Key)
}

// verdict turns the reply to op's script into op's result, and says whether
// Redis had no script for it.
func (r *Redis) verdict(op *Op, cmd *redis.Cmd) (err error, noScript bool) {
	reply, err := cmd.Result()
	var rerr redis.Error
	switch {
	case err == nil:
	case !errors.As(err, &rerr): // down, a broken connection, a timeout
		return fmt.Errorf("%w: redis at %s: %w", ErrCommit, r.addr, err), false
	case redis.HasErrorPrefix(err, "NOSCRIPT"):
		return fmt.Errorf("%w: redis at %s has lost the write scripts (restarted, or SCRIPT FLUSH): %w", ErrCommit, r.addr, err), true
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		return fmt.Errorf("%w: redis at %s: the record's key holds something other than a hash", ErrCorrupt, r.addr), false
	default: // OOM, MISCONF (a failing disk), READONLY (a replica), ...
		return fmt.Errorf("%w: redis at %s: %w", ErrCommit, r.addr, err), false
	}
	switch reply := reply.(type) {
	case int64:
		if reply == 1 {
			return nil, false
		}
	case string: // the check failed: the stored version, "" for none
		if reply == "" {
			if err := admits(op, 0, false); err != nil {
				return err, false
			}
			break
		}
		stored, perr := strconv.ParseUint(reply, 10, 64)
		if perr != nil || stored == 0 {
			return fmt.Errorf("%w: redis at %s: the record's version %q is not a positive decimal number", ErrCorrupt, r.addr, reply), false
		}
		if err := admits(op, stored, true); err != nil {
			return err, false
		}
		// Stored as, say, "07": a version no writer of ours made.
		return fmt.Errorf("%w: redis at %s: the record's version %q is not in canonical form", ErrCorrupt, r.addr, reply), false
	}
	return fmt.Errorf("%w: redis at %s: unexpected script reply %v", ErrCommit, r.addr, reply), false
}

// resendable returns, in order, the indexes of the ops of batch that found
// no script (lost) and may be sent again: those whose key no later op of the
// batch reached. Such a later op ran after the earlier one failed, so sending
// the earlier one now would apply the two out of order; it keeps its
// ErrCommit instead, which is what it would have got had it failed in place.
func resendable(batch []*Op, lost []bool) []int {
	var ran map[string]bool // keys of the ops after i that ran
	var idx []int
	for i := len(batch) - 1; i >= 0; i-- {
		k := batch[i].Key
		switch {
		case !lost[i]:
			if ran == nil {
				ran = make(map[string]bool)
			}
			ran[k] = true
		case !ran[k]:
			idx = append(idx, i)
		}
	}
	for i, j := 0, len(idx)-1; i < j; i, j = i+1, j-1 {
		idx[i], idx[j] = idx[j], idx[i]
	}
	return idx
}
