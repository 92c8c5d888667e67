package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// loadScanCount is the COUNT hint of each SCAN step of Load, and so about
// how many HGETALLs one pipelined round trip carries: 1,000 records of
// ~150 bytes is ~200 KiB of replies, a millisecond or two of Redis's time
// per step.
const loadScanCount = 1000

// Get reads the record under key in one round trip (HGETALL), bounded by
// ctx and Timeout. It fails with an error wrapping ErrNotFound if there is
// none, ErrCorrupt if the hash under key is not a record, ErrClosed after
// Close, and otherwise with Redis's or the network's error. The Value is
// the caller's to keep. Safe from any goroutine; it waits for the network,
// so never from an event loop.
func (r *Redis) Get(ctx context.Context, key string) (Record, error) {
	if r.isClosed() {
		return Record{}, ErrClosed
	}
	if key == "" || len(key) > MaxKeyLen {
		return Record{}, fmt.Errorf("%w: a key of %d bytes is never stored", ErrNotFound, len(key))
	}
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	h, err := r.client.HGetAll(ctx, r.keys+key).Result()
	if err != nil {
		return Record{}, r.readErr("reading a record", err)
	}
	if len(h) == 0 {
		return Record{}, ErrNotFound
	}
	return r.record(key, h, "the record")
}

// Load calls fn for every record, in no particular order (Redis keeps
// none): it walks the keyspace with SCAN MATCH Prefix+"s:*" and reads each
// step's records with one pipelined round trip of HGETALLs. SCAN may return
// a key twice; Load remembers the keys it has passed to fn (about 50 bytes
// each) and skips repeats, so fn sees each key at most once. Records written
// or deleted during Load may or may not be seen; fn may call Write. A hash
// that is not a record (no positive decimal version, no value) fails Load
// with ErrCorrupt, naming its position but not its key; a key of another
// type under the prefix, likewise. After Close, Load fails with ErrClosed.
func (r *Redis) Load(fn func(rec Record) error) error {
	if r.isClosed() {
		return ErrClosed
	}
	match := escapeGlob(r.keys) + "*"
	seen := make(map[string]struct{})
	var cursor uint64
	n := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		keys, next, err := r.client.Scan(ctx, cursor, match, loadScanCount).Result()
		cancel()
		if err != nil {
			return r.readErr("loading", err)
		}
		fresh := keys[:0]
		for _, k := range keys {
			if _, dup := seen[k]; !dup {
				seen[k] = struct{}{}
				fresh = append(fresh, k)
			}
		}
		if err := r.loadKeys(fresh, &n, fn); err != nil {
			return err
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// loadKeys reads the records under keys (full Redis keys) in one round trip
// and calls fn for each still there; n counts the records passed to fn.
func (r *Redis) loadKeys(keys []string, n *int, fn func(rec Record) error) error {
	if len(keys) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	pipe := r.client.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = pipe.HGetAll(ctx, k)
	}
	_, _ = pipe.Exec(ctx) // each cmd holds its own error
	for i, cmd := range cmds {
		h, err := cmd.Result()
		if err != nil {
			return r.readErr(fmt.Sprintf("loading record %d", *n), err)
		}
		if len(h) == 0 {
			continue // deleted since SCAN saw it
		}
		rec, err := r.record(keys[i][len(r.keys):], h, fmt.Sprintf("record %d", *n))
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return fmt.Errorf("store: load stopped by its caller at record %d: %w", *n, err)
		}
		*n++
	}
	return nil
}

// record checks the fields of the hash h stored under key and makes a
// Record of them; what names the record in an error (never its key: keys
// are tokens).
func (r *Redis) record(key string, h map[string]string, what string) (Record, error) {
	v, okv := h["v"]
	d, okd := h["d"]
	ver, err := strconv.ParseUint(v, 10, 64)
	switch {
	case !okv || !okd:
		return Record{}, fmt.Errorf("%w: redis at %s: %s lacks its %q or %q field", ErrCorrupt, r.addr, what, "v", "d")
	case err != nil || ver == 0:
		return Record{}, fmt.Errorf("%w: redis at %s: %s has version %q, not a positive decimal number", ErrCorrupt, r.addr, what, v)
	}
	return Record{Key: key, Value: []byte(d), Version: ver}, nil
}

// readErr wraps the error of a read: ErrClosed once the store is closed,
// ErrCorrupt for a key that holds no hash, else Redis's or the network's
// error with the address.
func (r *Redis) readErr(doing string, err error) error {
	switch {
	case r.isClosed():
		return ErrClosed
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		return fmt.Errorf("%w: redis at %s: %s: a key under the prefix holds something other than a hash", ErrCorrupt, r.addr, doing)
	}
	return fmt.Errorf("store: redis at %s: %s: %w", r.addr, doing, err)
}

// escapeGlob escapes the characters that SCAN's MATCH pattern gives a
// meaning, so that a prefix matches only itself.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\^`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
