package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Bounds of the waits in these tests. Each is far above what a healthy
// loopback Redis needs (a write is reported to a watcher within a
// millisecond), so a miss means a lost message, not a slow machine.
const (
	// watchBound: a change reaches another node's Watch.
	watchBound = 5 * time.Second
	// recoverBound: a store and a Watch are back after redis-server
	// restarts (pool probes once a second, Watch backs off to a second).
	recoverBound = 15 * time.Second
	// testTimeout is the stores' round-trip Timeout in the outage tests.
	testTimeout = 500 * time.Millisecond
)

// watcher runs Watch on s until the end of the test, passing what it
// reports into channels.
type watcher struct {
	changed chan string
	resync  chan struct{}
	done    chan error
}

func watch(t *testing.T, s Shared) *watcher {
	t.Helper()
	w := &watcher{changed: make(chan string, 4096), resync: make(chan struct{}, 64), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		w.done <- s.Watch(ctx,
			func(key string) { w.changed <- key },
			func() { w.resync <- struct{}{} })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-w.done:
			if err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("Watch() = %v; want nil", err)
			}
		case <-time.After(doneTimeout):
			t.Errorf("Watch did not return within %v of its context's end", doneTimeout)
		}
	})
	return w
}

// waitResync waits for a resync within bound.
func (w *watcher) waitResync(t *testing.T, bound time.Duration, why string) {
	t.Helper()
	select {
	case <-w.resync:
	case <-time.After(bound):
		t.Fatalf("%s: no resync within %v", why, bound)
	}
}

// waitChanged waits for key to be reported within bound, skipping others,
// and returns how long it took.
func (w *watcher) waitChanged(t *testing.T, key string, bound time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	timeout := time.After(bound)
	for {
		select {
		case k := <-w.changed:
			if k == key {
				return time.Since(start)
			}
		case <-timeout:
			t.Fatalf("change of %s not reported within %v", key, bound)
		}
	}
}

// drain empties w's channels.
func (w *watcher) drain() {
	for {
		select {
		case <-w.changed:
		case <-w.resync:
		default:
			return
		}
	}
}

// TestRedisWatch: a write through one node reaches another node's Watch
// (and the writer's own), a delete too; a delete of an absent key changes
// nothing and publishes nothing.
func TestRedisWatch(t *testing.T) {
	srv := startRedis(t)
	a := openRedis(t, srv.url(), RedisOptions{})
	b := openRedis(t, srv.url(), RedisOptions{})
	wa, wb := watch(t, a), watch(t, b)
	wa.waitResync(t, watchBound, "first subscription")
	wb.waitResync(t, watchBound, "first subscription")
	start := time.Now()
	if err := do(t, a, put("k", "1", 1)); err != nil {
		t.Fatal(err)
	}
	acked := time.Since(start)
	wb.waitChanged(t, "k", watchBound)
	t.Logf("a write by A: acknowledged in %v, reported to B's Watch %v after Write", acked, time.Since(start))
	wa.waitChanged(t, "k", watchBound)
	if err := do(t, b, del("absent", 0)); err != nil {
		t.Fatal(err)
	}
	if err := do(t, b, del("k", 1)); err != nil {
		t.Fatal(err)
	}
	select {
	case k := <-wa.changed:
		if k != "k" {
			t.Errorf("after deleting an absent key, then k: A's Watch reported %q first; want k", k)
		}
	case <-time.After(watchBound):
		t.Fatalf("delete of k not reported within %v", watchBound)
	}
}

// TestRedisWatchSilent: a subscription that goes silent (Redis stopped,
// as behind a partition no packet tells of) is pinged after its idle time
// and replaced when the ping goes unanswered, which resyncs once Redis
// answers again; a quiet but healthy one is pinged and kept, without a
// resync.
func TestRedisWatchSilent(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for pings")
	}
	srv := startRedis(t)
	const idle = 100 * time.Millisecond
	s := openRedis(t, srv.url(), RedisOptions{Timeout: 200 * time.Millisecond, hooks: redisHooks{watchIdle: idle}})
	w := watch(t, s)
	w.waitResync(t, watchBound, "first subscription")
	select {
	case <-w.resync:
		t.Fatal("a quiet, healthy subscription was replaced")
	case <-time.After(10 * idle): // several pings answered
	}
	srv.signal(syscall.SIGSTOP)
	time.Sleep(5 * idle) // Redis silent past idle + Timeout: no event to wait on
	srv.signal(syscall.SIGCONT)
	w.waitResync(t, watchBound, "after Redis went silent")
	if err := do(t, s, put("k", "x", 1)); err != nil {
		t.Fatal(err)
	}
	w.waitChanged(t, "k", watchBound)
}

// TestRedisOutage: Redis stops answering (SIGSTOP), then dies (SIGKILL)
// and comes back empty on the same port. Meanwhile writes fail with
// ErrCommit within the round-trip timeout, not later; Watch resyncs once
// it has resubscribed; writes succeed again without any help; and a batch
// that timed out was nonetheless applied once Redis went on, the uncertain
// case ErrCommit documents.
func TestRedisOutage(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for reconnections")
	}
	srv := startRedis(t)
	opts := RedisOptions{Timeout: testTimeout}
	a, b := openRedis(t, srv.url(), opts), openRedis(t, srv.url(), opts)
	wb := watch(t, b)
	wb.waitResync(t, watchBound, "first subscription")
	if err := do(t, a, put("before", "x", 1)); err != nil {
		t.Fatal(err)
	}
	wb.waitChanged(t, "before", watchBound)

	// failFast writes key and checks it fails with ErrCommit within the
	// timeout (plus scheduling slack).
	failFast := func(key, phase string) {
		t.Helper()
		start := time.Now()
		err := do(t, a, put(key, "x", 1))
		took := time.Since(start)
		if !errors.Is(err, ErrCommit) {
			t.Fatalf("%s: Write = %v; want ErrCommit", phase, err)
		}
		if took > testTimeout+time.Second {
			t.Fatalf("%s: Write failed after %v; want within Timeout (%v) and a little", phase, took, testTimeout)
		}
		t.Logf("%s: Write failed in %v: %v", phase, took, err)
	}

	srv.signal(syscall.SIGSTOP)
	failFast("late", "stopped")
	srv.signal(syscall.SIGCONT)
	// The stopped Redis had the script in its socket buffer: it ran it
	// on waking, though the write was reported failed.
	deadline := time.Now().Add(watchBound)
	for {
		if r, err := a.Get(context.Background(), "late"); err == nil && r.Version == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the timed-out write of late was not applied within %v of SIGCONT", watchBound)
		}
		time.Sleep(10 * time.Millisecond) // polling Redis's state: no event to wait on
	}

	srv.kill()
	wb.drain()
	failFast("down-1", "killed")
	failFast("down-2", "killed")
	if _, err := a.Get(context.Background(), "before"); err == nil || errors.Is(err, ErrNotFound) {
		t.Errorf("Get while Redis is down = %v; want a network error", err)
	}

	srv.restart() // empty: no persistence, and its scripts are gone
	start := time.Now()
	wb.waitResync(t, recoverBound, "after the restart")
	t.Logf("Watch resynced %v after the restart", time.Since(start))
	failures := 0
	for {
		err := do(t, a, put("after", "x", 1))
		if err == nil {
			break
		}
		if !errors.Is(err, ErrCommit) {
			t.Fatalf("Write after the restart = %v; want nil or ErrCommit", err)
		}
		if failures++; time.Since(start) > recoverBound {
			t.Fatalf("writes still fail %v after the restart: %v", recoverBound, err)
		}
		time.Sleep(50 * time.Millisecond) // a caller's retry
	}
	t.Logf("writes succeed again %v after the restart (%d failed meanwhile)", time.Since(start), failures)
	wb.waitChanged(t, "after", watchBound)
	if err := do(t, a, put("after", "y", 2)); err != nil {
		t.Fatalf("second Write after the restart = %v; want nil", err)
	}
}

// TestRedisDurable runs Redis with appendonly yes and appendfsync always,
// kills it (SIGKILL) while eight writers are busy, restarts it on the same
// directory and checks that every acknowledged write is there, intact.
// Writes that failed with ErrCommit may or may not be there (see Redis).
func TestRedisDurable(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts redis-server")
	}
	srv := startRedis(t, "--appendonly", "yes", "--appendfsync", "always")
	s := openRedis(t, srv.url(), RedisOptions{Timeout: testTimeout})
	const writers, killAt = 8, 2000
	var (
		mu     sync.Mutex
		acked  = make(map[string]uint64)
		tried  = make(map[string]uint64)
		acks   atomic.Int64
		wg     sync.WaitGroup
		killed = make(chan struct{})
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				// A new key each time, and every fifth a new version of the
				// writer's own key.
				key, ver := fmt.Sprintf("w%d-%d", w, i), uint64(1)
				if i%5 == 4 {
					key = fmt.Sprintf("w%d", w)
					mu.Lock()
					ver = acked[key] + 1
					mu.Unlock()
				}
				mu.Lock()
				tried[key] = ver
				mu.Unlock()
				err := do(t, s, &Op{Key: key, Value: crashValue(key, ver), Version: ver})
				switch {
				case err == nil:
					mu.Lock()
					acked[key] = ver
					mu.Unlock()
					acks.Add(1)
				case errors.Is(err, ErrCommit):
					select {
					case <-killed:
						return
					default:
						t.Errorf("Write(%s v%d) before the kill = %v", key, ver, err)
						return
					}
				default:
					t.Errorf("Write(%s v%d) = %v; want nil or ErrCommit", key, ver, err)
					return
				}
			}
		}()
	}
	for acks.Load() < killAt {
		time.Sleep(time.Millisecond) // polling the writers' progress
	}
	close(killed)
	srv.kill()
	wg.Wait()
	srv.restart()

	check := openRedis(t, srv.url(), RedisOptions{})
	stored := make(map[string]uint64)
	err := check.Load(func(r Record) error {
		if want := crashValue(r.Key, r.Version); !bytes.Equal(r.Value, want) {
			return fmt.Errorf("%s v%d holds %q; want %q", r.Key, r.Version, r.Value, want)
		}
		stored[r.Key] = r.Version
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	uncertain := 0
	for k, v := range acked {
		if stored[k] < v {
			t.Errorf("%s acknowledged at v%d, stored at v%d", k, v, stored[k])
		}
	}
	for k, v := range stored {
		if v > acked[k] {
			if v != tried[k] {
				t.Errorf("%s stored at v%d, never written", k, v)
			}
			uncertain++
		}
	}
	t.Logf("%d writes of %d keys acknowledged before the kill, all there; %d failed writes landed nonetheless", acks.Load(), len(acked), uncertain)
}
