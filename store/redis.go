package store

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	neturl "net/url"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// Defaults for RedisOptions.
const (
	// DefaultRedisPrefix starts every key synthcast puts in Redis, so that one
	// Redis can serve other programs (or other clusters, with other prefixes).
	DefaultRedisPrefix = "synthcast:"
	// DefaultRedisMaxBatch caps one round trip at 1 Ki writes: about 200 KiB
	// of scripts for ~150-byte records, a few milliseconds of Redis's time, so
	// one batch stays far inside DefaultRedisTimeout and does not hold other
	// clients of the single-threaded Redis for long.
	DefaultRedisMaxBatch = 1024
	// DefaultRedisSenders is how many batches may be in flight at once. One:
	// with redis-server beside the writers on 2 cores, BenchmarkRedisWrite
	// measured 104-142k writes/s with 1 sender against 91-119k with 2 and
	// 46-78k with 4 at 16 writers (more senders cut the same writes into
	// smaller batches), and 156-207k against 190-229k at 256. More may pay
	// where the round trip is long (Redis on another host) and Redis has
	// CPU to spare.
	DefaultRedisSenders = 1
	// DefaultRedisTimeout bounds each round trip (a batch of writes, a Get, a
	// step of Load, a dial). A healthy Redis answers a full batch in a few
	// milliseconds; a second covers a fork or a slow fsync, and is as long as
	// a client asking for a change should wait for its 503.
	DefaultRedisTimeout = time.Second
)

// RedisOptions configures OpenRedis. The zero value gives the defaults.
type RedisOptions struct {
	// Prefix starts every key and the channel name: a record is the hash
	// Prefix+"s:"+key, changes go out on Prefix+"changes". Every node of a
	// cluster must use the same Prefix. Empty means DefaultRedisPrefix.
	Prefix string
	// QueueLen is how many writes may wait for the senders, shared among
	// them (each has QueueLen/Senders, at least 1); a Write to a sender whose
	// share is full fails with ErrBusy. Zero means DefaultQueueLen.
	QueueLen int
	// MaxBatch is the most writes one round trip carries. Zero means
	// DefaultRedisMaxBatch.
	MaxBatch int
	// Senders is how many goroutines send batches, each on its own
	// connection; a key always goes to the same one, so writes of one record
	// keep their order. Zero means DefaultRedisSenders.
	Senders int
	// Timeout bounds each round trip to Redis, dials included: a batch that
	// gets no answer in time fails with ErrCommit. Zero means
	// DefaultRedisTimeout.
	Timeout time.Duration
	// OnCommit, if set, is told of every round trip of writes: how long it
	// took, how many writes it carried, and its error (nil when Redis
	// answered, whatever each write's own verdict). It runs on a sender
	// goroutine before the writes' Done calls, so it must be quick and must
	// not block.
	OnCommit func(took time.Duration, writes int, err error)

	hooks redisHooks // tests only
}

// redisHooks let tests fail a round trip without stopping Redis. Nil hooks
// do nothing.
type redisHooks struct {
	// beforeExec runs in a sender before each round trip; an error fails the
	// round trip, unsent, as an unreachable Redis would.
	beforeExec func() error
	// watchIdle, if not zero, stands in for the constant watchIdle.
	watchIdle time.Duration
}

func (o RedisOptions) withDefaults() RedisOptions {
	if o.Prefix == "" {
		o.Prefix = DefaultRedisPrefix
	}
	if o.QueueLen == 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultRedisMaxBatch
	}
	if o.Senders == 0 {
		o.Senders = DefaultRedisSenders
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultRedisTimeout
	}
	return o
}

// Validate reports the first option that is out of range.
func (o RedisOptions) Validate() error {
	switch {
	case o.QueueLen < 0:
		return fmt.Errorf("store: QueueLen %d is negative", o.QueueLen)
	case o.MaxBatch < 0:
		return fmt.Errorf("store: MaxBatch %d is negative", o.MaxBatch)
	case o.Senders < 0:
		return fmt.Errorf("store: Senders %d is negative", o.Senders)
	case o.Timeout < 0:
		return fmt.Errorf("store: Timeout %v is negative", o.Timeout)
	}
	return nil
}

// The write scripts. Each checks the stored version and makes its change
// in one atomic step, and PUBLISHes the caller's key (without the prefix)
// on the channel when it changed something. Versions travel as decimal
// strings and are compared as strings, never converted to Lua numbers
// (doubles, exact only to 2^53); the caller computes the version the stored
// one must equal.
//
// put: KEYS[1] the record's hash; ARGV: the stored version required ("" for
// none), the new version, the value, the channel, the key. delete: KEYS[1];
// ARGV: the stored version required ("" for any), the channel, the key.
// Both return 1 on success, or the stored version ("" when there is none)
// when the check fails, so that the caller can say what it found.
const (
	putLua = `local cur = redis.call('HGET', KEYS[1], 'v') or ''
if cur ~= ARGV[1] then return cur end
redis.call('HSET', KEYS[1], 'v', ARGV[2], 'd', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1`
	delLua = `local cur = redis.call('HGET', KEYS[1], 'v')
if cur and ARGV[1] ~= '' and cur ~= ARGV[1] then return cur end
if redis.call('DEL', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1`
)

// The scripts with their SHA-1, computed once; they hold no connection.
var (
	putScript = redis.NewScript(putLua)
	delScript = redis.NewScript(delLua)
)

// Redis is a Shared store for a cluster of nodes over one Redis server:
// Redis holds the truth, and every node reads and writes it.
//
// # Layout
//
// A record is a hash under Prefix+"s:"+key with two fields, "v" (its
// version in decimal) and "d" (the value's bytes). Every put and delete is
// one Lua script that checks the stored version as Op says, makes the
// change and PUBLISHes the key (without the prefix) on Prefix+"changes", all
// atomically: two nodes writing one record never interleave, and a record
// is never half written.
//
// # Writes
//
// Write queues an op on a bounded queue and returns; one of Senders
// goroutines (chosen by the key, so one record's writes keep their order)
// takes the ops waiting, up to MaxBatch, sends their scripts in one
// pipeline, one round trip, and calls each op's Done with its own verdict:
// nil, ErrVersion, or ErrCommit (ErrCorrupt if the record's key holds
// something no writer of ours made). A round trip that fails (Redis down, a
// broken connection, no answer within Timeout) fails every op of its batch
// with ErrCommit, and the next batch is tried afresh on a new connection, so
// the store recovers by itself when Redis is back (within about a second:
// after a run of failed dials go-redis probes once a second). A Redis that
// restarted has lost its scripts: the ops of a batch that find them missing
// are sent again at once, behind SCRIPT LOAD, all but any that a later op of
// the batch on the same record overtook, which fail with ErrCommit.
//
// ErrCommit from a round trip that failed after it was sent is uncertain:
// Redis may have applied some of the batch before the connection broke or
// the answer came too late. The caller treats the write as failed (503,
// nothing changed on its side); what Redis holds is then newer than the
// caller thinks, which its next write of that record finds out as
// ErrVersion, and Watch reports the key as changed. Writes are never
// retried blindly (go-redis's own retries are off): a replayed script
// would report ErrVersion for a write that did happen.
//
// # Durability
//
// A write is acknowledged once Redis has executed it; what that survives is
// Redis's configuration. With appendonly yes and appendfsync always, Redis
// writes and fsyncs its AOF before it answers, so an acknowledged write
// survives a crash of Redis or of the machine. With appendfsync everysec
// (Redis's default for AOF) the file is written before the answer but
// fsynced about once a second: a crash of the machine can lose the last
// second or two of acknowledged writes, and so can a crash of Redis alone
// while a slow disk makes it postpone its writes (it does so for up to two
// seconds). With AOF off, a restart of Redis loses everything since its
// last RDB snapshot. Writes acknowledged by a primary can also be lost in a
// failover to a replica that had not received them; Redis does not wait
// for replicas here.
//
// Pub/sub channels are not per database: clusters that share one Redis
// must differ by Prefix, not only by the URL's DB.
//
// All methods are safe from any goroutine.
type Redis struct {
	c        counters
	client   *redis.Client
	addr     string // host:port, for errors; never the URL, which may hold a password
	keys     string // Prefix+"s:": what a key is stored under
	channel  string // Prefix+"changes"
	timeout  time.Duration
	maxBatch int
	onCommit func(time.Duration, int, error)
	hooks    redisHooks
	seed     maphash.Seed // spreads keys over senders

	// mu orders Write's send and Watch's start against Close: they hold it
	// for reading, Close for writing.
	mu       sync.RWMutex
	closed   bool
	senders  []*redisSender
	sending  sync.WaitGroup // the senders' goroutines
	watching sync.WaitGroup // the Watch calls in progress
	unwatch  context.Context
	stop     context.CancelFunc // ends every Watch, at Close

	closeOnce sync.Once
	closeErr  error
}

// OpenRedis connects to the Redis at url (redis://[user:password@]HOST:PORT/DB,
// as go-redis's ParseURL reads it), checks that it answers and loads the
// write scripts, then starts the senders. It fails, naming HOST:PORT but not
// the password, if Redis cannot be reached within ctx and Timeout: a node
// does not start without the store that holds the truth. The URL's options
// are kept (rediss:// for TLS, pool sizes) except those the store sets
// itself: timeouts (from Timeout), retries (none) and protocol (RESP2).
func OpenRedis(ctx context.Context, url string, opts RedisOptions) (*Redis, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	ro, err := redis.ParseURL(url)
	if err != nil {
		// A *url.Error quotes the URL, password included: keep its cause.
		var uerr *neturl.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("store: redis URL: %w", err)
	}
	configure(ro, opts.Timeout)
	r := &Redis{
		client:   redis.NewClient(ro),
		addr:     ro.Addr,
		keys:     opts.Prefix + "s:",
		channel:  opts.Prefix + "changes",
		timeout:  opts.Timeout,
		maxBatch: opts.MaxBatch,
		onCommit: opts.OnCommit,
		hooks:    opts.hooks,
		seed:     maphash.MakeSeed(),
	}
	if err := r.loadScripts(ctx); err != nil {
		r.client.Close()
		return nil, err
	}
	r.unwatch, r.stop = context.WithCancel(context.Background())
	share := max(opts.QueueLen/opts.Senders, 1)
	for range opts.Senders {
		s := &redisSender{
			r:     r,
			queue: make(chan *Op, share),
			pipe:  r.client.Pipeline(),
			batch: make([]*Op, 0, min(opts.MaxBatch, 256)),
		}
		r.senders = append(r.senders, s)
		r.sending.Add(1)
		go s.run()
	}
	return r, nil
}

// configure sets the client options the store relies on, over what the URL
// said.
func configure(ro *redis.Options, timeout time.Duration) {
	// Deadlines: a round trip's context carries Timeout, and go-redis heeds
	// it only with ContextTimeoutEnabled; the socket timeouts cover what has
	// no context deadline (the PubSub's writes).
	ro.ContextTimeoutEnabled = true
	ro.DialTimeout = timeout
	ro.ReadTimeout = timeout
	ro.WriteTimeout = timeout
	ro.PoolTimeout = timeout
	// go-redis retries a pipeline whose connection broke or timed out after
	// it was sent; a version-checked script run twice reports ErrVersion for
	// a write that happened. Fail instead, once, with ErrCommit.
	ro.MaxRetries = -1
	// One dial per attempt: a refused connection fails the batch at once
	// rather than after go-redis's four back-offs, and the next batch dials
	// again.
	ro.DialerRetries = 1
	// RESP2: pub/sub messages arrive as plain replies, not RESP3 pushes, so
	// they never pass through go-redis's push-notification processor (where
	// go-redis#3839 dropped messages), and the maintenance notifications of
	// Redis Enterprise (RESP3 only) stay off.
	ro.Protocol = 2
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
}

// loadScripts pings Redis and loads both scripts, checking that Redis's
// digests are the ones EVALSHA will name.
func (r *Redis) loadScripts(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("store: redis at %s is not answering: %w", r.addr, err)
	}
	for _, s := range []*redis.Script{putScript, delScript} {
		sha, err := s.Load(ctx, r.client).Result()
		if err != nil {
			return fmt.Errorf("store: redis at %s: loading a script: %w", r.addr, err)
		}
		if sha != s.Hash() {
			return fmt.Errorf("store: redis at %s: SCRIPT LOAD gave digest %s, not %s", r.addr, sha, s.Hash())
		}
	}
	return nil
}

// Write queues op for its sender's next round trip and returns at once;
// Done is called once Redis has answered (or the round trip failed), or
// before Write returns if op is invalid (ErrInvalid), the sender's queue is
// full (ErrBusy) or the store is closed (ErrClosed). Safe from any
// goroutine, an event loop included: it never waits for I/O or for room.
func (r *Redis) Write(op *Op) {
	if err := check(op); err != nil {
		r.c.finish(op, err)
		return
	}
	s := r.senders[0]
	if len(r.senders) > 1 {
		s = r.senders[maphash.String(r.seed, op.Key)%uint64(len(r.senders))]
	}
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		r.c.finish(op, ErrClosed)
		return
	}
	select {
	case s.queue <- op:
		r.mu.RUnlock()
	default:
		r.mu.RUnlock()
		r.c.finish(op, ErrBusy)
	}
}

// Stats returns r's counters. Commits counts round trips of writes, failed
// ones included (a batch sent again after Redis lost its scripts counts
// twice); CommitNs is their total time, from the start of each round trip to
// its last answer.
func (r *Redis) Stats() Stats { return r.c.stats() }

// Close stops accepting writes, waits until every op already queued has
// been sent and answered (or has failed), ends every Watch, and closes the
// connections. It is idempotent; every call returns the first call's error.
// It must not be called from a Done, Load or Watch callback.
func (r *Redis) Close() error {
	r.mu.Lock()
	if !r.closed {
		r.closed = true
		for _, s := range r.senders {
			close(s.queue)
		}
		r.stop()
	}
	r.mu.Unlock()
	r.sending.Wait()
	r.watching.Wait()
	r.closeOnce.Do(func() {
		if err := r.client.Close(); err != nil {
			r.closeErr = fmt.Errorf("store: closing the connections to redis at %s: %w", r.addr, err)
		}
	})
	return r.closeErr
}

// isClosed reports whether Close has been called.
func (r *Redis) isClosed() bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.closed
}

var _ Shared = (*Redis)(nil)
