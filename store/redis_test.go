package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// openRedis opens a Redis store at url, closed at the end of the test.
func openRedis(tb testing.TB, url string, opts RedisOptions) *Redis {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), doneTimeout)
	defer cancel()
	r, err := OpenRedis(ctx, url, opts)
	if err != nil {
		tb.Fatalf("OpenRedis(%s) = %v", url, err)
	}
	tb.Cleanup(func() {
		if err := r.Close(); err != nil {
			tb.Errorf("Close() = %v", err)
		}
	})
	return r
}

// rawClient is a plain go-redis client, for looking at and tampering with
// what the store keeps.
func rawClient(tb testing.TB, srv *redisServer) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.addr(), Protocol: 2})
	tb.Cleanup(func() { c.Close() })
	return c
}

// TestRedisOpenUnreachable: OpenRedis fails at once, naming the address,
// when nothing listens there; and on a URL it cannot read.
func TestRedisOpenUnreachable(t *testing.T) {
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	start := time.Now()
	r, err := OpenRedis(context.Background(), "redis://"+addr+"/0", RedisOptions{Timeout: testTimeout})
	if err == nil {
		r.Close()
		t.Fatalf("OpenRedis(nothing listening) = nil error")
	}
	if !strings.Contains(err.Error(), addr) || errors.Unwrap(err) == nil {
		t.Errorf("OpenRedis(nothing listening) = %q; want a wrapped error naming %s", err, addr)
	}
	if took := time.Since(start); took > testTimeout+time.Second {
		t.Errorf("OpenRedis(nothing listening) took %v; want at most Timeout (%v) and a little", took, testTimeout)
	}
	for _, url := range []string{"http://" + addr, "redis://" + addr + "/x"} {
		if _, err := OpenRedis(context.Background(), url, RedisOptions{}); err == nil {
			t.Errorf("OpenRedis(%q) = nil error; want one", url)
		}
	}
	if _, err := OpenRedis(context.Background(), "redis://"+addr, RedisOptions{Senders: -1}); err == nil {
		t.Error("OpenRedis(Senders -1) = nil error; want one")
	}
}

// TestRedisLayout pins what the store keeps in Redis: a hash per record
// under Prefix+"s:"+key with fields v and d, a PUBLISH of the key on
// Prefix+"changes" per change, and nothing seen across prefixes.
func TestRedisLayout(t *testing.T) {
	srv := startRedis(t)
	raw := rawClient(t, srv)
	ctx := context.Background()
	sub := raw.Subscribe(ctx, "app:changes")
	defer sub.Close()
	if _, err := sub.ReceiveTimeout(ctx, watchBound); err != nil { // the subscription reply
		t.Fatal(err)
	}
	s := openRedis(t, srv.url(), RedisOptions{Prefix: "app:"})
	other := openRedis(t, srv.url(), RedisOptions{}) // DefaultRedisPrefix
	value := []byte("bytes \x00\xff of any kind")
	if err := do(t, s, &Op{Key: "k", Value: value, Version: 1}); err != nil {
		t.Fatal(err)
	}
	h, err := raw.HGetAll(ctx, "app:s:k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h["v"] != "1" || h["d"] != string(value) {
		t.Errorf("HGETALL app:s:k = %q; want v=1, d=%q", h, value)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "k" {
		t.Errorf("message on app:changes = %v, %v; want k", msg, err)
	}
	if n := len(load(t, other)); n != 0 {
		t.Errorf("a store with prefix %q loads %d records written under %q; want 0", DefaultRedisPrefix, n, "app:")
	}
	if err := do(t, s, del("k", 1)); err != nil {
		t.Fatal(err)
	}
	if n, err := raw.Exists(ctx, "app:s:k").Result(); err != nil || n != 0 {
		t.Errorf("EXISTS app:s:k after delete = %d, %v; want 0", n, err)
	}
	if msg, err := sub.ReceiveMessage(ctx); err != nil || msg.Payload != "k" {
		t.Errorf("message on app:changes after delete = %v, %v; want k", msg, err)
	}
}

// TestRedisGet: Get finds what is stored, ErrNotFound for what is not, and
// ErrCorrupt for what no writer of ours made; a Write or Load meeting the
// latter fails with ErrCorrupt too.
func TestRedisGet(t *testing.T) {
	srv := startRedis(t)
	s := openRedis(t, srv.url(), RedisOptions{})
	ctx := context.Background()
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(absent) = %v; want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(\"\") = %v; want ErrNotFound", err)
	}
	if err := do(t, s, put("k", "one", 1)); err != nil {
		t.Fatal(err)
	}
	if err := do(t, s, put("k", "two", 2)); err != nil {
		t.Fatal(err)
	}
	if r, err := s.Get(ctx, "k"); err != nil || r.Key != "k" || r.Version != 2 || string(r.Value) != "two" {
		t.Errorf("Get(k) = {%s v%d %q}, %v; want {k v2 \"two\"}", r.Key, r.Version, r.Value, err)
	}
	if err := do(t, s, del("k", 2)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(deleted) = %v; want ErrNotFound", err)
	}

	raw := rawClient(t, srv)
	raw.HSet(ctx, DefaultRedisPrefix+"s:bad", "v", "x1", "d", "?")
	raw.Set(ctx, DefaultRedisPrefix+"s:str", "not a hash", 0)
	for _, key := range []string{"bad", "str"} {
		if _, err := s.Get(ctx, key); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Get(%s) = %v; want ErrCorrupt", key, err)
		}
	}
	if err := do(t, s, put("str", "x", 1)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Write(a key holding a string) = %v; want ErrCorrupt", err)
	}
	if err := do(t, s, put("bad", "x", 1)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Write(v1 over version %q) = %v; want ErrCorrupt", "x1", err)
	}
	if err := s.Load(func(Record) error { return nil }); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Load() over damaged records = %v; want ErrCorrupt", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v; want ErrClosed", err)
	}
}

// TestRedisTwoNodes: two stores (two nodes) race to write the same records
// version after version. For each version exactly one wins; the loser gets
// ErrVersion; every record holds the winner's value with its version,
// never one node's version with the other's bytes.
func TestRedisTwoNodes(t *testing.T) {
	srv := startRedis(t)
	nodes := []*Redis{openRedis(t, srv.url(), RedisOptions{}), openRedis(t, srv.url(), RedisOptions{})}
	const keys, versions = 200, 5
	value := func(node int, key string, v uint64) string { return fmt.Sprintf("node%d %s v%d", node, key, v) }
	for v := uint64(1); v <= versions; v++ {
		var c [2]collect
		var wg sync.WaitGroup
		for n, s := range nodes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := range keys {
					key := fmt.Sprintf("k%d", k)
					c[n].write(s, put(key, value(n, key, v), v))
				}
			}()
		}
		wg.Wait()
		errs := [2]map[string]error{c[0].wait(t), c[1].wait(t)}
		recs := load(t, nodes[0])
		if len(recs) != keys {
			t.Fatalf("version %d: Load() found %d records; want %d", v, len(recs), keys)
		}
		for _, r := range recs {
			e0, e1 := errs[0][r.Key], errs[1][r.Key]
			winner := 0
			switch {
			case e0 == nil && errors.Is(e1, ErrVersion):
			case e1 == nil && errors.Is(e0, ErrVersion):
				winner = 1
			default:
				t.Fatalf("version %d of %s: node 0 = %v, node 1 = %v; want one nil, one ErrVersion", v, r.Key, e0, e1)
			}
			if want := value(winner, r.Key, v); r.Version != v || string(r.Value) != want {
				t.Fatalf("%s = v%d %q; want v%d %q (node %d won)", r.Key, r.Version, r.Value, v, want, winner)
			}
		}
	}
}

// TestRedisSendersKeepOrder: with several senders, writes of one record
// queued back to back still apply in order.
func TestRedisSendersKeepOrder(t *testing.T) {
	srv := startRedis(t)
	s := openRedis(t, srv.url(), RedisOptions{Senders: 4})
	const keys, versions = 20, 30
	var wg sync.WaitGroup
	var failed atomic.Int32
	for v := uint64(1); v <= versions; v++ {
		for k := range keys {
			wg.Add(1)
			s.Write(&Op{Key: fmt.Sprint("k", k), Value: []byte("x"), Version: v, Done: func(op *Op) {
				if op.Err != nil {
					failed.Add(1)
				}
				wg.Done()
			}})
		}
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Fatalf("%d of %d writes failed; want 0", n, keys*versions)
	}
	for _, r := range load(t, s) {
		if r.Version != versions {
			t.Errorf("%s at v%d; want v%d", r.Key, r.Version, versions)
		}
	}
}

// TestRedisScriptsLost: after SCRIPT FLUSH (as after a restart of Redis),
// a batch is sent again behind SCRIPT LOAD and succeeds: two round trips.
func TestRedisScriptsLost(t *testing.T) {
	srv := startRedis(t)
	s := openRedis(t, srv.url(), RedisOptions{Senders: 1})
	if err := rawClient(t, srv).ScriptFlush(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	before := s.Stats()
	if err := do(t, s, put("k", "x", 1)); err != nil {
		t.Fatalf("Write after SCRIPT FLUSH = %v; want nil", err)
	}
	if err := do(t, s, put("k", "y", 2)); err != nil {
		t.Fatalf("second Write after SCRIPT FLUSH = %v; want nil", err)
	}
	if got := s.Stats().Commits - before.Commits; got != 3 {
		t.Errorf("round trips for two writes after SCRIPT FLUSH = %d; want 3 (one sent again)", got)
	}
	wantRecords(t, s, rec("k", "y", 2))
}

// TestResendable: of the ops that found no script, those a later op of the
// same key overtook (it ran) are not sent again; order is kept.
func TestResendable(t *testing.T) {
	ops := []*Op{put("a", "", 1), put("b", "", 1), put("a", "", 2), del("c", 0), put("b", "", 2), put("c", "", 1)}
	for _, tc := range []struct {
		lost []bool
		want []int
	}{
		{[]bool{true, true, true, true, true, true}, []int{0, 1, 2, 3, 4, 5}},
		{[]bool{false, false, false, false, false, false}, nil},
		// a2 ran after a1 found no script: a1 stays failed. b1 and b2 both
		// lost: both go again, in order. c's delete lost, c1 ran: no.
		{[]bool{true, true, false, true, true, false}, []int{1, 4}},
		{[]bool{false, false, true, false, false, true}, []int{2, 5}},
	} {
		if got := resendable(ops, tc.lost); !slices.Equal(got, tc.want) {
			t.Errorf("resendable(lost %v) = %v; want %v", tc.lost, got, tc.want)
		}
	}
}

// TestRedisCommitFails: a round trip that fails fails every op of its batch
// with ErrCommit and changes nothing; OnCommit sees it; the next batch
// succeeds.
func TestRedisCommitFails(t *testing.T) {
	srv := startRedis(t)
	var fail atomic.Bool
	var seen []error
	var mu sync.Mutex
	s := openRedis(t, srv.url(), RedisOptions{
		Senders: 1,
		OnCommit: func(_ time.Duration, _ int, err error) {
			mu.Lock()
			seen = append(seen, err)
			mu.Unlock()
		},
		hooks: redisHooks{beforeExec: func() error {
			if fail.Load() {
				return errors.New("injected")
			}
			return nil
		}},
	})
	fail.Store(true)
	var c collect
	for i := range 10 {
		c.write(s, put(fmt.Sprint("k", i), "x", 1))
	}
	for k, err := range c.wait(t) {
		if !errors.Is(err, ErrCommit) {
			t.Errorf("Write(%s) in a failing round trip = %v; want ErrCommit", k, err)
		}
	}
	fail.Store(false)
	if err := do(t, s, put("k0", "y", 1)); err != nil {
		t.Fatalf("Write after the failure = %v; want nil", err)
	}
	wantRecords(t, s, rec("k0", "y", 1))
	mu.Lock()
	defer mu.Unlock()
	if len(seen) < 2 || seen[0] == nil || seen[len(seen)-1] != nil {
		t.Errorf("OnCommit errors = %v; want the injected ones, then nil", seen)
	}
}

// TestRedisBusyAndCloseDrains: with the sender held, writes past QueueLen
// fail with ErrBusy at once; Close waits for those queued, which then
// succeed; Watch ends with ErrClosed; later calls fail with ErrClosed.
func TestRedisBusyAndCloseDrains(t *testing.T) {
	srv := startRedis(t)
	blk := newBlocker()
	r, err := OpenRedis(context.Background(), srv.url(), RedisOptions{QueueLen: 4, Senders: 1, hooks: redisHooks{beforeExec: blk.hook}})
	if err != nil {
		t.Fatal(err)
	}
	var c collect
	c.write(r, put("first", "x", 1))
	blk.wait(t)
	watchDone := make(chan error, 1)
	go func() { watchDone <- r.Watch(context.Background(), func(string) {}, func() {}) }()
	for i := range 6 {
		c.write(r, put(fmt.Sprint("k", i), "x", 1))
	}
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	close(blk.release)
	if err := <-closed; err != nil {
		t.Fatalf("Close() = %v", err)
	}
	errs := c.wait(t)
	for i := range 6 {
		k := fmt.Sprint("k", i)
		if want := error(nil); i >= 4 {
			want = ErrBusy
			if !errors.Is(errs[k], want) {
				t.Errorf("Write(%s) past QueueLen = %v; want ErrBusy", k, errs[k])
			}
		} else if errs[k] != nil {
			t.Errorf("Write(%s) queued before Close = %v; want nil", k, errs[k])
		}
	}
	select {
	case err := <-watchDone:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Watch() ended by Close = %v; want ErrClosed", err)
		}
	case <-time.After(doneTimeout):
		t.Fatal("Watch did not return after Close")
	}
	if err := r.Watch(context.Background(), nil, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Watch after Close = %v; want ErrClosed", err)
	}
	check := openRedis(t, srv.url(), RedisOptions{})
	if n := len(load(t, check)); n != 5 {
		t.Errorf("records after Close = %d; want 5 (first, k0..k3)", n)
	}
}

// TestRedisLoad10k loads 10,000 records and reports the time it takes.
func TestRedisLoad10k(t *testing.T) {
	srv := startRedis(t)
	s := openRedis(t, srv.url(), RedisOptions{})
	const n = 10_000
	start := time.Now()
	if err := fill(s, n, prepValueLen, 256); err != nil {
		t.Fatal(err)
	}
	wrote := time.Since(start)
	start = time.Now()
	seen := make(map[string]bool, n)
	err := s.Load(func(r Record) error {
		if seen[r.Key] {
			return fmt.Errorf("%s loaded twice", r.Key)
		}
		seen[r.Key] = true
		if r.Version != 1 || len(r.Value) != prepValueLen {
			return fmt.Errorf("%s = v%d, %d bytes; want v1, %d bytes", r.Key, r.Version, len(r.Value), prepValueLen)
		}
		return nil
	})
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("Load() found %d records; want %d", len(seen), n)
	}
	st := s.Stats()
	t.Logf("wrote %d records in %v (%d round trips); loaded them in %v (%.1f µs/record)",
		n, wrote, st.Commits, took, float64(took.Microseconds())/n)
}

// BenchmarkRedisWrite is BenchmarkBoltWrite against a local redis-server
// (no persistence), for a few sender counts: writes/s are writes answered
// by Redis, round-trips/s the pipelines sent.
func BenchmarkRedisWrite(b *testing.B) {
	srv := startRedis(b)
	for _, senders := range []int{1, 2, 4} {
		for _, writers := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("senders=%d/writers=%d", senders, writers), func(b *testing.B) {
				s := openRedis(b, srv.url(), RedisOptions{Senders: senders})
				before := s.Stats()
				benchWrite(b, s, writers)
				st := s.Stats()
				trips := float64(st.Commits - before.Commits)
				b.ReportMetric(trips/b.Elapsed().Seconds(), "round-trips/s")
				b.ReportMetric(float64(st.Writes-before.Writes)/trips, "writes/round-trip")
			})
		}
	}
}
