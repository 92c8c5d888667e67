package store

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// doneTimeout bounds every wait for a Done: a store that loses an op fails
// the test instead of hanging it.
const doneTimeout = 20 * time.Second

// impls are the stores the conformance suite runs against, each opened
// fresh for one test and closed at its end. Redis runs against a
// redis-server of its own per test (skipped where none is installed,
// outside CI).
var impls = []struct {
	name string
	open func(t *testing.T) Store
}{
	{"Memory", func(t *testing.T) Store {
		m := NewMemory()
		t.Cleanup(func() { m.Close() })
		return m
	}},
	{"Bolt", func(t *testing.T) Store { return openBolt(t, t.TempDir(), BoltOptions{}) }},
	{"Redis", func(t *testing.T) Store { return openRedis(t, startRedis(t).url(), RedisOptions{}) }},
}

// keyOrdered reports whether s's Load promises key order: Bolt's and
// Memory's do, Redis's does not.
func keyOrdered(s Store) bool {
	_, unordered := s.(*Redis)
	return !unordered
}

// openBolt opens a Bolt in dir, closed at the end of the test.
func openBolt(t testing.TB, dir string, opts BoltOptions) *Bolt {
	t.Helper()
	b, err := OpenBolt(dir, opts)
	if err != nil {
		t.Fatalf("OpenBolt(%s) = %v", dir, err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close() = %v", err)
		}
	})
	return b
}

// do writes op and waits for its Done, failing the test if Done is not
// called in time or is called twice. It returns op.Err.
func do(t testing.TB, s Store, op *Op) error {
	t.Helper()
	done := make(chan struct{})
	var calls atomic.Int32
	op.Done = func(*Op) {
		if calls.Add(1) == 1 {
			close(done)
		}
	}
	s.Write(op)
	select {
	case <-done:
	case <-time.After(doneTimeout):
		t.Fatalf("Write(%s v%d delete=%v): Done not called within %v", op.Key, op.Version, op.Delete, doneTimeout)
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("Write(%s v%d): Done called %d times; want 1", op.Key, op.Version, n)
	}
	return op.Err
}

func put(key, value string, version uint64) *Op {
	return &Op{Key: key, Value: []byte(value), Version: version}
}

func del(key string, version uint64) *Op {
	return &Op{Key: key, Version: version, Delete: true}
}

// load returns every record of s, values copied, in key order: as loaded
// from a store that promises it, sorted from one that does not.
func load(t testing.TB, s Store) []Record {
	t.Helper()
	var recs []Record
	err := s.Load(func(r Record) error {
		r.Value = bytes.Clone(r.Value)
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if !keyOrdered(s) {
		slices.SortFunc(recs, func(a, b Record) int { return strings.Compare(a.Key, b.Key) })
	}
	return recs
}

func fmtRecords(recs []Record) string {
	var b strings.Builder
	for _, r := range recs {
		fmt.Fprintf(&b, "{%s v%d %q} ", r.Key, r.Version, r.Value)
	}
	return b.String()
}

func wantRecords(t testing.TB, s Store, want ...Record) {
	t.Helper()
	got := load(t, s)
	if fmtRecords(got) != fmtRecords(want) {
		t.Fatalf("Load() = %s; want %s", fmtRecords(got), fmtRecords(want))
	}
}

func rec(key, value string, version uint64) Record {
	return Record{Key: key, Value: []byte(value), Version: version}
}

// TestVersionRules runs the version rules of Op as a sequence of writes,
// each with the error it must get, against every store.
func TestVersionRules(t *testing.T) {
	steps := []struct {
		op   *Op
		want error
	}{
		{put("a", "a2", 2), ErrVersion}, // absent: only version 1 creates
		{put("a", "a1", 1), nil},
		{put("a", "a1'", 1), ErrVersion}, // stored 1: next is 2
		{put("a", "a3", 3), ErrVersion},
		{put("a", "a2", 2), nil},
		{del("a", 1), ErrVersion}, // stored 2
		{del("a", 3), ErrVersion},
		{del("b", 7), nil}, // absent: a delete succeeds whatever its version
		{del("b", 0), nil},
		{put("b", "b1", 1), nil},
		{del("b", 0), nil}, // any version
		{del("a", 2), nil},
		{put("a", "a2 again", 2), ErrVersion},
		{put("a", "a1 again", 1), nil}, // deleted: created anew at 1
		{put("c", "", 1), nil},         // an empty value is a value
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			failed := 0
			for i, st := range steps {
				err := do(t, s, st.op)
				if !errors.Is(err, st.want) || (st.want == nil) != (err == nil) {
					t.Fatalf("step %d: Write(%s v%d delete=%v) = %v; want %v", i, st.op.Key, st.op.Version, st.op.Delete, err, st.want)
				}
				if err != nil {
					failed++
				}
			}
			wantRecords(t, s, rec("a", "a1 again", 1), rec("c", "", 1))
			st := s.Stats()
			if st.Writes != uint64(len(steps)) || st.Failed != uint64(failed) {
				t.Errorf("Stats() = %+v; want Writes %d, Failed %d", st, len(steps), failed)
			}
		})
	}
}

// TestInvalidOps: an op that can never succeed fails with ErrInvalid before
// Write returns, and changes nothing.
func TestInvalidOps(t *testing.T) {
	ops := []*Op{
		put("", "x", 1),
		put(strings.Repeat("k", MaxKeyLen+1), "x", 1),
		del(strings.Repeat("k", MaxKeyLen+1), 0),
		{Key: "k", Value: make([]byte, MaxValueLen+1), Version: 1},
		put("k", "x", 0),
	}
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			for i, op := range ops {
				called := false
				op.Done = func(*Op) { called = true }
				s.Write(op)
				if !called || !errors.Is(op.Err, ErrInvalid) {
					t.Errorf("op %d: Done called before Write returned: %v, Err = %v; want true, ErrInvalid", i, called, op.Err)
				}
			}
			// The limits themselves are fine.
			if err := do(t, s, &Op{Key: strings.Repeat("k", MaxKeyLen), Value: make([]byte, MaxValueLen), Version: 1}); err != nil {
				t.Errorf("Write(key of MaxKeyLen, value of MaxValueLen) = %v; want nil", err)
			}
			if n := len(load(t, s)); n != 1 {
				t.Errorf("Load() found %d records; want 1", n)
			}
		})
	}
}

// TestLoadOrder: Load returns records in key order whatever the order of
// writing (for Redis, which keeps no order, load sorts them, so that only
// completeness is checked), and stops at the first error its callback
// returns.
func TestLoadOrder(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			keys := make([]string, 200)
			for i := range keys {
				keys[i] = fmt.Sprintf("k%03d", i)
			}
			for _, i := range rand.Perm(len(keys)) {
				if err := do(t, s, put(keys[i], "v"+keys[i], 1)); err != nil {
					t.Fatalf("Write(%s) = %v", keys[i], err)
				}
			}
			got := load(t, s)
			if len(got) != len(keys) {
				t.Fatalf("Load() found %d records; want %d", len(got), len(keys))
			}
			for i, r := range got {
				if r.Key != keys[i] || string(r.Value) != "v"+keys[i] || r.Version != 1 {
					t.Fatalf("record %d = {%s v%d %q}; want {%s v1 %q}", i, r.Key, r.Version, r.Value, keys[i], "v"+keys[i])
				}
			}

			stop := errors.New("enough")
			calls := 0
			err := s.Load(func(Record) error {
				if calls++; calls == 10 {
					return stop
				}
				return nil
			})
			if !errors.Is(err, stop) || calls != 10 {
				t.Errorf("Load(stop at 10) = %v after %d calls; want %v after 10", err, calls, stop)
			}
		})
	}
}

// TestValueCopied: the caller may reuse Value once Done is called.
func TestValueCopied(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			buf := []byte("first")
			if err := do(t, s, &Op{Key: "k", Value: buf, Version: 1}); err != nil {
				t.Fatal(err)
			}
			copy(buf, "XXXXX")
			wantRecords(t, s, rec("k", "first", 1))
		})
	}
}

// TestQueuedVersions: writes of one key queued back to back, without
// waiting, apply in order (within one Bolt commit, each sees the one before).
func TestQueuedVersions(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			const n = 50
			var wg sync.WaitGroup
			errs := make([]error, n)
			wg.Add(n)
			for v := uint64(1); v <= n; v++ {
				s.Write(&Op{Key: "k", Value: fmt.Appendf(nil, "v%d", v), Version: v, Done: func(op *Op) {
					errs[op.Version-1] = op.Err
					wg.Done()
				}})
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("write of version %d = %v; want nil", i+1, err)
				}
			}
			wantRecords(t, s, rec("k", fmt.Sprint("v", n), n))
		})
	}
}

// TestDoneOnce: under concurrent writers, some of them conflicting, every
// Done is called exactly once and the counters agree with the outcomes.
func TestDoneOnce(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			const writers, each = 8, 100
			calls := make([]atomic.Int32, writers*each)
			var failed atomic.Uint64
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var done sync.WaitGroup
					for i := range each {
						n := w*each + i
						// Writers w and w^1 race for the same keys: one of
						// each pair's puts fails with ErrVersion.
						op := put(fmt.Sprintf("k%d-%d", w/2, i), "x", 1)
						done.Add(1)
						op.Done = func(op *Op) {
							calls[n].Add(1)
							if op.Err != nil {
								if !errors.Is(op.Err, ErrVersion) && !errors.Is(op.Err, ErrBusy) {
									t.Errorf("Write = %v; want nil, ErrVersion or ErrBusy", op.Err)
								}
								failed.Add(1)
							}
							done.Done()
						}
						s.Write(op)
					}
					done.Wait()
				}()
			}
			wg.Wait()
			for n := range calls {
				if c := calls[n].Load(); c != 1 {
					t.Fatalf("op %d: Done called %d times; want 1", n, c)
				}
			}
			st := s.Stats()
			if st.Writes != writers*each || st.Failed != failed.Load() {
				t.Errorf("Stats() = %+v; want Writes %d, Failed %d", st, writers*each, failed.Load())
			}
			if n := len(load(t, s)); n != writers/2*each {
				t.Errorf("Load() found %d records; want %d", n, writers/2*each)
			}
		})
	}
}

// TestLoadMayWrite: a Load callback may call Write.
func TestLoadMayWrite(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			if err := do(t, s, put("a", "1", 1)); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			err := s.Load(func(r Record) error {
				s.Write(&Op{Key: r.Key, Value: []byte("2"), Version: r.Version + 1, Done: func(op *Op) { done <- op.Err }})
				return nil
			})
			if err != nil {
				t.Fatalf("Load() = %v", err)
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("Write from Load = %v", err)
				}
			case <-time.After(doneTimeout):
				t.Fatal("Write from Load: Done not called")
			}
			wantRecords(t, s, rec("a", "2", 2))
		})
	}
}

// TestClose: Close is idempotent; afterwards Write fails with ErrClosed
// (Done still called, once, before Write returns) and so does Load.
func TestClose(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			if err := do(t, s, put("a", "1", 1)); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			for range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := s.Close(); err != nil {
						t.Errorf("Close() = %v", err)
					}
				}()
			}
			wg.Wait()
			calls := 0
			op := put("b", "1", 1)
			op.Done = func(*Op) { calls++ }
			s.Write(op)
			if calls != 1 || !errors.Is(op.Err, ErrClosed) {
				t.Errorf("Write after Close: Done called %d times before return, Err = %v; want 1, ErrClosed", calls, op.Err)
			}
			if err := s.Load(func(Record) error { return nil }); !errors.Is(err, ErrClosed) {
				t.Errorf("Load after Close = %v; want ErrClosed", err)
			}
			if err := s.Close(); err != nil {
				t.Errorf("Close() again = %v; want nil", err)
			}
		})
	}
}

// TestNilDone: an op without Done is applied, not a panic.
func TestNilDone(t *testing.T) {
	for _, impl := range impls {
		t.Run(impl.name, func(t *testing.T) {
			s := impl.open(t)
			s.Write(put("a", "1", 1))
			if err := do(t, s, put("a", "2", 2)); err != nil { // after the first, in order
				t.Fatalf("Write after a nil-Done write = %v", err)
			}
		})
	}
}
