package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestBoltPersists: what was acknowledged is there after Close and reopen,
// deletes included, and versions go on from where they were.
func TestBoltPersists(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range []*Op{put("a", "a1", 1), put("b", "b1", 1), put("a", "a2", 2), put("c", "c1", 1), del("b", 1)} {
		if err := do(t, s, op); err != nil {
			t.Fatalf("Write(%s v%d) = %v", op.Key, op.Version, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	s = openBolt(t, dir, BoltOptions{})
	wantRecords(t, s, rec("a", "a2", 2), rec("c", "c1", 1))
	if err := do(t, s, put("a", "a3", 3)); err != nil {
		t.Fatalf("Write(a v3) after reopen = %v", err)
	}
	if err := do(t, s, put("a", "a3'", 3)); !errors.Is(err, ErrVersion) {
		t.Fatalf("Write(a v3) again after reopen = %v; want ErrVersion", err)
	}
}

// blocker is an inTx hook that holds the committer in its first
// transaction until released.
type blocker struct {
	entered, release chan struct{}
	once             sync.Once
}

func newBlocker() *blocker {
	return &blocker{entered: make(chan struct{}), release: make(chan struct{})}
}

func (b *blocker) hook() error {
	first := false
	b.once.Do(func() { first = true })
	if first {
		close(b.entered)
		<-b.release
	}
	return nil
}

// wait returns once the committer is held.
func (b *blocker) wait(t *testing.T) {
	t.Helper()
	select {
	case <-b.entered:
	case <-time.After(doneTimeout):
		t.Fatal("the committer did not start a transaction")
	}
}

// collect counts Dones and keeps their errors.
type collect struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs map[string]error
}

func (c *collect) write(s Store, op *Op) {
	c.wg.Add(1)
	op.Done = func(op *Op) {
		c.mu.Lock()
		if c.errs == nil {
			c.errs = make(map[string]error)
		}
		c.errs[op.Key] = op.Err
		c.mu.Unlock()
		c.wg.Done()
	}
	s.Write(op)
}

func (c *collect) wait(t *testing.T) map[string]error {
	t.Helper()
	ch := make(chan struct{})
	go func() { c.wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(doneTimeout):
		t.Fatal("not every Done was called")
	}
	return c.errs
}

// TestBoltGroupCommit: writes queued while a commit is in progress are
// committed together in the next one.
func TestBoltGroupCommit(t *testing.T) {
	blk := newBlocker()
	s := openBolt(t, t.TempDir(), BoltOptions{hooks: boltHooks{inTx: blk.hook}})
	var c collect
	c.write(s, put("first", "x", 1))
	blk.wait(t)
	const n = 1000
	var wg sync.WaitGroup
	for w := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range n / 10 {
				c.write(s, put(fmt.Sprintf("k%d-%d", w, i), "x", 1))
			}
		}()
	}
	wg.Wait()
	close(blk.release)
	for k, err := range c.wait(t) {
		if err != nil {
			t.Fatalf("Write(%s) = %v", k, err)
		}
	}
	if st := s.Stats(); st.Writes != n+1 || st.Commits != 2 || st.Failed != 0 {
		t.Errorf("Stats() = %+v; want Writes %d in 2 commits, none failed", st, n+1)
	}
	if got := len(load(t, s)); got != n+1 {
		t.Errorf("Load() found %d records; want %d", got, n+1)
	}
}

// TestBoltMaxBatch: a queue longer than MaxBatch takes several commits.
func TestBoltMaxBatch(t *testing.T) {
	blk := newBlocker()
	s := openBolt(t, t.TempDir(), BoltOptions{MaxBatch: 10, hooks: boltHooks{inTx: blk.hook}})
	var c collect
	c.write(s, put("first", "x", 1))
	blk.wait(t)
	for i := range 95 {
		c.write(s, put(fmt.Sprint("k", i), "x", 1))
	}
	close(blk.release)
	c.wait(t)
	if st := s.Stats(); st.Commits != 1+10 {
		t.Errorf("Stats().Commits = %d; want 11 (1, then 95 in groups of at most 10)", st.Commits)
	}
}

// TestBoltBusy: a full queue fails a Write with ErrBusy at once, Done
// called before Write returns; the queued writes still commit.
func TestBoltBusy(t *testing.T) {
	blk := newBlocker()
	s := openBolt(t, t.TempDir(), BoltOptions{QueueLen: 2, hooks: boltHooks{inTx: blk.hook}})
	var c collect
	c.write(s, put("in-tx", "x", 1))
	blk.wait(t)
	c.write(s, put("queued1", "x", 1))
	c.write(s, put("queued2", "x", 1))
	op := put("busy", "x", 1)
	called := false
	op.Done = func(*Op) { called = true }
	s.Write(op)
	if !called || !errors.Is(op.Err, ErrBusy) {
		t.Fatalf("Write to a full queue: Done called before return %v, Err = %v; want true, ErrBusy", called, op.Err)
	}
	close(blk.release)
	for k, err := range c.wait(t) {
		if err != nil {
			t.Errorf("Write(%s) = %v; want nil", k, err)
		}
	}
	if st := s.Stats(); st.Writes != 4 || st.Failed != 1 {
		t.Errorf("Stats() = %+v; want Writes 4, Failed 1", st)
	}
}

// TestBoltCloseDrains: Close commits what is queued before it returns.
func TestBoltCloseDrains(t *testing.T) {
	dir := t.TempDir()
	blk := newBlocker()
	s, err := OpenBolt(dir, BoltOptions{hooks: boltHooks{inTx: blk.hook}})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	c.write(s, put("k0", "x", 1))
	blk.wait(t)
	for i := 1; i < 20; i++ {
		c.write(s, put(fmt.Sprint("k", i), "x", 1))
	}
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	close(blk.release)
	if err := <-closed; err != nil {
		t.Fatalf("Close() = %v", err)
	}
	for k, err := range c.wait(t) {
		if err != nil {
			t.Errorf("Write(%s) = %v; want nil", k, err)
		}
	}
	if got := len(load(t, openBolt(t, dir, BoltOptions{}))); got != 20 {
		t.Errorf("after reopen, Load() found %d records; want 20", got)
	}
}

// TestBoltDiskFull fills a small tmpfs until commits fail with ErrCommit
// (ENOSPC), checks that nothing of the failed groups was kept, then frees
// space and checks that the same store commits again by itself, the failed
// writes included, and that all of it survives a reopen.
func TestBoltDiskFull(t *testing.T) {
	mnt := mountTmpfs(t, 0, "size=512k")
	dir := filepath.Join(mnt, "data")
	s := openBolt(t, dir, BoltOptions{})
	// Leave the store ~64 KiB of room.
	filler := filepath.Join(mnt, "filler")
	var st unix.Statfs_t
	if err := unix.Statfs(mnt, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	if err := os.WriteFile(filler, make([]byte, free-64<<10), 0o600); err != nil {
		t.Fatal(err)
	}

	value := bytes.Repeat([]byte("v"), 1000)
	var acked, failed []string
	for i := 0; len(failed) < 3; i++ {
		if i == 1000 {
			t.Fatalf("1000 writes of 1 KB into 64 KiB of room and %d failed; want some to fail", len(failed))
		}
		key := fmt.Sprintf("k%04d", i)
		switch err := do(t, s, &Op{Key: key, Value: value, Version: 1}); {
		case err == nil:
			if len(failed) > 0 {
				t.Fatalf("Write(%s) succeeded after a failure, with the disk still full", key)
			}
			acked = append(acked, key)
		case errors.Is(err, ErrCommit) && errors.Is(err, syscall.ENOSPC):
			if len(failed) == 0 {
				t.Logf("after %d writes: %v", len(acked), err)
			}
			failed = append(failed, key)
		default:
			t.Fatalf("Write(%s) = %v; want nil, or ErrCommit wrapping ENOSPC", key, err)
		}
	}
	if len(acked) == 0 {
		t.Fatal("no write succeeded before the disk filled up")
	}
	if got := load(t, s); len(got) != len(acked) {
		t.Fatalf("with the disk full, Load() found %d records; want the %d acknowledged", len(got), len(acked))
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	for _, key := range failed { // version 1 again: nothing of them was kept
		if err := do(t, s, &Op{Key: key, Value: value, Version: 1}); err != nil {
			t.Fatalf("Write(%s) once space returned = %v; want nil", key, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openBolt(t, dir, BoltOptions{})
	if got := load(t, s); len(got) != len(acked)+len(failed) {
		t.Fatalf("after reopen, Load() found %d records; want %d", len(got), len(acked)+len(failed))
	}
}

// TestBoltCommitError: a commit that fails (an injected error, standing in
// for a failed page write or fsync) fails every op of its group with
// ErrCommit wrapping the cause, keeps none of them, and the next group
// commits.
func TestBoltCommitError(t *testing.T) {
	injected := errors.New("injected: input/output error")
	var commits atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	s := openBolt(t, t.TempDir(), BoltOptions{hooks: boltHooks{inTx: func() error {
		switch commits.Add(1) {
		case 2: // hold the committer while the next group queues
			close(entered)
			<-release
		case 3:
			return injected
		}
		return nil
	}}})
	if err := do(t, s, put("old", "1", 1)); err != nil {
		t.Fatal(err)
	}
	var c collect
	c.write(s, put("held", "1", 1))
	<-entered
	c.write(s, put("new", "1", 1))
	c.write(s, put("old", "2", 2))
	c.write(s, del("other", 0))
	close(release)
	for k, err := range c.wait(t) {
		if k == "held" {
			if err != nil {
				t.Errorf("Write(held) = %v; want nil", err)
			}
			continue
		}
		if !errors.Is(err, ErrCommit) || !errors.Is(err, injected) {
			t.Errorf("Write(%s) in the failed commit = %v; want ErrCommit wrapping %v", k, err, injected)
		}
	}
	wantRecords(t, s, rec("held", "1", 1), rec("old", "1", 1))
	if err := do(t, s, put("old", "2", 2)); err != nil {
		t.Fatalf("Write after a failed commit = %v; want nil", err)
	}
	if st := s.Stats(); st.Commits != 4 || st.Failed != 3 {
		t.Errorf("Stats() = %+v; want 4 commits, 3 failed", st)
	}
}

// TestBoltUnknownState: a commit that bbolt reports failed but serves (its
// meta page was written before fsync failed) cannot be undone; the store
// fails that group and every later write with ErrCommit, saying to restart.
// After a restart the file is consistent.
func TestBoltUnknownState(t *testing.T) {
	dir := t.TempDir()
	var once sync.Once
	fail := make(chan struct{})
	s, err := OpenBolt(dir, BoltOptions{hooks: boltHooks{afterCommit: func(err error) error {
		select {
		case <-fail:
			once.Do(func() { err = errors.New("injected: fdatasync: input/output error") })
		default:
		}
		return err
	}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := do(t, s, put("a", "1", 1)); err != nil {
		t.Fatal(err)
	}
	close(fail)
	if err := do(t, s, put("b", "1", 1)); !errors.Is(err, ErrCommit) || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("Write in the ambiguous commit = %v; want ErrCommit saying to restart", err)
	}
	if err := do(t, s, put("c", "1", 1)); !errors.Is(err, ErrCommit) || !strings.Contains(err.Error(), "restart") {
		t.Fatalf("Write after the ambiguous commit = %v; want ErrCommit saying to restart", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openBolt(t, dir, BoltOptions{})
	// The ambiguous commit did reach the file here.
	wantRecords(t, s, rec("a", "1", 1), rec("b", "1", 1))
	if err := do(t, s, put("c", "1", 1)); err != nil {
		t.Fatalf("Write after restart = %v", err)
	}
}

// OnCommit is told of each commit with its size and outcome.
func TestBoltOnCommit(t *testing.T) {
	type seen struct {
		writes int
		err    error
	}
	got := make(chan seen, 4)
	s, err := OpenBolt(t.TempDir(), BoltOptions{OnCommit: func(took time.Duration, writes int, err error) {
		if took <= 0 {
			t.Errorf("OnCommit: took %v; want > 0", took)
		}
		got <- seen{writes, err}
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	done := make(chan error, 1)
	s.Write(&Op{Key: "k", Value: []byte("v"), Version: 1, Done: func(op *Op) { done <- op.Err }})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c := <-got; c.writes != 1 || c.err != nil {
		t.Errorf("OnCommit saw %d writes, %v; want 1, nil", c.writes, c.err)
	}
}
