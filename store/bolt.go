package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime/debug"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Defaults for BoltOptions.
const (
	// DefaultQueueLen lets a burst of 16 Ki writes wait while a commit is
	// under way (the committer then takes them MaxBatch at a time) before
	// Write says ErrBusy. An op is a pointer: the queue costs 128 KiB.
	DefaultQueueLen = 16384
	// DefaultMaxBatch caps one commit at 4 Ki ops: about 600 KiB of ~150-byte
	// records, a few milliseconds of page writes, so one huge group does not
	// hold every op in it behind a long fsync.
	DefaultMaxBatch = 4096
	// DefaultLockTimeout is how long OpenBolt waits for another process to
	// let go of the data directory. A restart under systemd overlaps the old
	// process's exit by a moment; a second server on the same directory is a
	// mistake to report, not to wait out.
	DefaultLockTimeout = time.Second
)

// BoltOptions configures OpenBolt. The zero value gives the defaults.
type BoltOptions struct {
	// QueueLen is how many writes may wait for the committer; a Write
	// beyond it fails with ErrBusy. Zero means DefaultQueueLen.
	QueueLen int
	// MaxBatch is the most writes one commit takes. Zero means
	// DefaultMaxBatch.
	MaxBatch int
	// LockTimeout is how long OpenBolt waits for another process to release
	// the data directory before it fails with ErrLocked. Zero means
	// DefaultLockTimeout.
	LockTimeout time.Duration
	// OnCommit, if set, is told of every commit the committer makes: how
	// long it took (the transaction, its page writes and fsyncs), how many
	// writes it carried, and its error. It runs on the committer goroutine
	// before the writes' Done calls, so it must be quick and must not block
	// (a metrics histogram, not a log line per commit).
	OnCommit func(took time.Duration, writes int, err error)

	hooks boltHooks // tests only
}

// boltHooks let tests stand in for a failing disk and hold the committer
// still. Nil hooks do nothing.
type boltHooks struct {
	// inTx runs in the committer inside each write transaction, after the
	// ops are applied and before the commit. An error rolls the transaction
	// back as a failed page write would; blocking holds the committer.
	inTx func() error
	// afterCommit sees each commit's error (nil on success) and returns the
	// one the store acts on: an error after a successful commit stands in
	// for a commit whose meta page reached the file before fsync failed.
	afterCommit func(error) error
}

func (o BoltOptions) withDefaults() BoltOptions {
	if o.QueueLen == 0 {
		o.QueueLen = DefaultQueueLen
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = DefaultMaxBatch
	}
	if o.LockTimeout == 0 {
		o.LockTimeout = DefaultLockTimeout
	}
	return o
}

// Validate reports the first option that is out of range.
func (o BoltOptions) Validate() error {
	switch {
	case o.QueueLen < 0:
		return fmt.Errorf("store: QueueLen %d is negative", o.QueueLen)
	case o.MaxBatch < 0:
		return fmt.Errorf("store: MaxBatch %d is negative", o.MaxBatch)
	case o.LockTimeout < 0:
		return fmt.Errorf("store: LockTimeout %v is negative", o.LockTimeout)
	}
	return nil
}

// Record layout inside the bbolt file: one bucket, recordsBucket; under each
// key (the caller's string) the value is the record's version as 8 bytes
// big-endian, then the caller's bytes. A fixed header keeps the version check
// a single Get and a slice, and costs 8 of the ~150 bytes a record takes.
//
// Pages split at bbolt's default fill (50%). Keys are random tokens, so
// inserts land all over the tree; measured at 100,000 records of 100 bytes,
// leaves end 67% full at 50% and only 33% full at 90% (a page split full
// takes the next insert and splits again, leaving a near-empty page each
// time): 233 against 469 bytes of file per record.
const (
	versionLen = 8
	// allocSize is how far bbolt grows the file past what a commit needs,
	// once it is over this size (below it, bbolt doubles). bbolt's 16 MiB
	// measured 336 bytes of file per record at 100,000 records against 233
	// with 1 MiB, which costs one truncate+fsync per ~4,500 new records.
	allocSize = 1 << 20
)

// recordsBucket is the one bucket; a bbolt file without it is not ours.
var recordsBucket = []byte("records")

// Bolt is the embedded Store: a bbolt database, DataFile in its directory,
// written by one committer goroutine in group commits. Write queues an op on
// a bounded channel; the committer takes the first op waiting and whatever
// else is queued (up to MaxBatch), applies them in one read-write
// transaction, each with its own version check, commits (two fdatasyncs),
// and only then calls every op's Done. An op whose version check fails is
// failed alone; a commit that fails fails every op in it with ErrCommit and
// keeps none of them, and the next group is tried afresh, so the store
// recovers by itself once the disk has room again.
//
// One case cannot be undone: a commit whose meta page reached the file but
// whose fsync then failed. bbolt then serves that commit in memory, though
// the disk may or may not have it. The store fails that group with
// ErrCommit, as it must not claim durability, and from then on fails every
// write with ErrCommit without trying it (saying so in the error), since
// acknowledging writes on top of a state it cannot vouch for would be worse.
// A restart reads whichever state the disk kept; both are consistent.
//
// The data directory is locked (flock) for the life of the Bolt, and so is
// the file, for bbolt's own tools. All methods are safe from any goroutine.
type Bolt struct {
	c    counters
	db   *bolt.DB
	path string   // the data file
	lock *os.File // the data directory, flocked

	// mu orders Write's send against Close's close(queue): Write holds it
	// for reading, so writers do not exclude each other, only Close.
	mu      sync.RWMutex
	closed  bool
	queue   chan *Op
	stopped chan struct{} // closed when the committer has returned

	closeOnce sync.Once
	closeErr  error

	// Committer goroutine only.
	maxBatch int
	onCommit func(time.Duration, int, error)
	hooks    boltHooks
	batch    []*Op
	errs     []error
	arena    []byte // keys and values of the transaction in progress
	broken   error  // set once the file's state is unknown: see Bolt
}

// OpenBolt opens the store in dir, creating dir (mode 0750) and an empty
// database if they do not exist, and starts its committer. It fails with an
// error wrapping ErrLocked if another process (or another Bolt) has dir,
// ErrCorrupt if the data file cannot be read as a database or a record in it
// cannot be walked (see verify), and otherwise with an error naming the path and what is
// wrong with it. It never starts empty in place of a file it cannot read.
func OpenBolt(dir string, opts BoltOptions) (*Bolt, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	f, err := openFile(dir, opts.LockTimeout)
	if err != nil {
		return nil, err
	}
	f.db.AllocSize = allocSize
	b := &Bolt{
		db:       f.db,
		path:     f.path,
		lock:     f.lock,
		queue:    make(chan *Op, opts.QueueLen),
		stopped:  make(chan struct{}),
		maxBatch: opts.MaxBatch,
		hooks:    opts.hooks,
		onCommit: opts.OnCommit,
		batch:    make([]*Op, 0, min(opts.MaxBatch, 256)),
	}
	if err := b.verify(); err != nil {
		b.db.Close()
		b.lock.Close()
		return nil, err
	}
	go b.run()
	return b, nil
}

// verify walks every record (see scan) with faults caught, so a damaged
// page is an error, not a crash. bbolt's own tx.Check is not run: it checks
// on a goroutine of its own, where a panic on a damaged page (seen about
// once in 25 runs of TestBoltCorruptRandom) kills the process instead of
// refusing the file. A damaged freelist the walk does not touch shows at
// the first commit, whose panic is recovered and fails the store (see Bolt).
func (b *Bolt) verify() error {
	return b.scan(nil)
}

// Write queues op for the next group commit and returns at once; Done is
// called once the group is committed, or before Write returns if op is
// invalid (ErrInvalid), the queue is full (ErrBusy) or the store is closed
// (ErrClosed). Safe from any goroutine, an event loop included: it never
// waits for I/O or for room.
func (b *Bolt) Write(op *Op) {
	if err := check(op); err != nil {
		b.c.finish(op, err)
		return
	}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		b.c.finish(op, ErrClosed)
		return
	}
	select {
	case b.queue <- op:
		b.mu.RUnlock()
	default:
		b.mu.RUnlock()
		b.c.finish(op, ErrBusy)
	}
}

// Load calls fn for every record in key order within one read transaction.
// A record too short for its version header, with version 0 or out of key
// order fails Load with ErrCorrupt, naming the record's position (never its
// key: keys are tokens). rec.Value points into the file's read-only mapping.
// fn must not call Close.
func (b *Bolt) Load(fn func(rec Record) error) (err error) {
	b.mu.RLock()
	closed := b.closed
	b.mu.RUnlock()
	if closed {
		return ErrClosed
	}
	err = b.scan(fn)
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

// scan walks the records bucket in key order, checking each record, and
// calls fn (if not nil) for each. A fault or panic while reading the file is
// reported as ErrCorrupt; one raised by fn is passed on.
func (b *Bolt) scan(fn func(rec Record) error) (err error) {
	n := 0
	inFn := false
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			if inFn {
				panic(r)
			}
			err = fmt.Errorf("%w: %s: reading record %d: %v", ErrCorrupt, b.path, n, r)
		}
	}()
	return b.db.View(func(tx *bolt.Tx) error {
		bkt := tx.Bucket(recordsBucket)
		if bkt == nil {
			return fmt.Errorf("%w: %s: no %q bucket: not a synthcast data file", ErrCorrupt, b.path, recordsBucket)
		}
		var prev []byte
		c := bkt.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			switch {
			case v == nil:
				return fmt.Errorf("%w: %s: record %d is a bucket, not a value", ErrCorrupt, b.path, n)
			case len(v) < versionLen:
				return fmt.Errorf("%w: %s: record %d is %d bytes, shorter than its %d-byte version header", ErrCorrupt, b.path, n, len(v), versionLen)
			case n > 0 && bytes.Compare(prev, k) >= 0:
				return fmt.Errorf("%w: %s: record %d is out of key order", ErrCorrupt, b.path, n)
			}
			ver := binary.BigEndian.Uint64(v)
			if ver == 0 {
				return fmt.Errorf("%w: %s: record %d has version 0", ErrCorrupt, b.path, n)
			}
			if fn != nil {
				inFn = true
				err := fn(Record{Key: string(k), Value: v[versionLen:len(v):len(v)], Version: ver})
				inFn = false
				if err != nil {
					return fmt.Errorf("store: load stopped by its caller at record %d: %w", n, err)
				}
			}
			prev = k
			n++
		}
		return nil
	})
}

// Stats returns b's counters. Commits counts every commit attempted, failed
// ones included; CommitNs is the time from the start of each transaction to
// the end of its commit.
func (b *Bolt) Stats() Stats { return b.c.stats() }

// Close stops accepting writes, waits for the committer to commit every op
// already queued and closes the database and the directory lock. It is
// idempotent; every call returns the first call's error. It must not be
// called from a Done or a Load callback.
func (b *Bolt) Close() error {
	b.mu.Lock()
	if !b.closed {
		b.closed = true
		close(b.queue)
	}
	b.mu.Unlock()
	<-b.stopped
	b.closeOnce.Do(func() {
		b.closeErr = b.db.Close()
		if err := b.lock.Close(); err != nil && b.closeErr == nil {
			b.closeErr = err
		}
		if b.closeErr != nil {
			b.closeErr = fmt.Errorf("store: closing %s: %w", b.path, b.closeErr)
		}
	})
	return b.closeErr
}

// run is the committer: one group per turn until the queue is closed and
// empty.
func (b *Bolt) run() {
	defer close(b.stopped)
	// A fault on the mapped file becomes a panic that commit recovers,
	// instead of killing the process.
	debug.SetPanicOnFault(true)
	groups(b.queue, b.batch, b.maxBatch, b.commit)
}

// commit applies batch in one transaction and reports every op's outcome.
func (b *Bolt) commit(batch []*Op) {
	if b.broken != nil {
		for _, op := range batch {
			b.c.finish(op, b.broken)
		}
		return
	}
	if cap(b.errs) < len(batch) {
		b.errs = make([]error, len(batch), b.maxBatch)
	}
	b.errs = b.errs[:len(batch)]
	defer clear(b.errs)
	b.reserve(batch)
	start := time.Now()
	txid, err := b.update(batch)
	if h := b.hooks.afterCommit; h != nil {
		err = h(err)
	}
	took := time.Since(start)
	b.c.commit(took.Nanoseconds())
	if b.onCommit != nil {
		b.onCommit(took, len(batch), err)
	}
	if cap(b.arena) > 8<<20 {
		b.arena = nil // a burst of large values: do not keep its buffer
	}
	if err != nil {
		err = b.failed(err, txid)
		for _, op := range batch {
			b.c.finish(op, err)
		}
		return
	}
	for i, op := range batch {
		b.c.finish(op, b.errs[i])
	}
}

// reserve makes room in the arena for every key and value of batch, so that
// the slices handed to bbolt (which keeps them until the commit) never move.
func (b *Bolt) reserve(batch []*Op) {
	n := 0
	for _, op := range batch {
		n += len(op.Key) + versionLen + len(op.Value)
	}
	if cap(b.arena) < n {
		b.arena = make([]byte, 0, n)
	}
	b.arena = b.arena[:0]
}

// update runs the write transaction for batch, setting b.errs, and returns
// its id and the error of the transaction as a whole. A panic inside bbolt
// (a fault on a damaged file) is returned as an error.
func (b *Bolt) update(batch []*Op) (txid int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: panic in the write transaction: %v", ErrCorrupt, b.path, r)
			b.broken = fmt.Errorf("%w: %w; restart to recover", ErrCommit, err)
		}
	}()
	err = b.db.Update(func(tx *bolt.Tx) error {
		txid = tx.ID()
		bkt := tx.Bucket(recordsBucket)
		if bkt == nil {
			return fmt.Errorf("%w: %s: no %q bucket", ErrCorrupt, b.path, recordsBucket)
		}
		for i, op := range batch {
			b.errs[i] = b.apply(bkt, op)
		}
		if h := b.hooks.inTx; h != nil {
			return h()
		}
		return nil
	})
	return txid, err
}

// apply checks op's version against the bucket and makes its change in the
// transaction. The returned error is op's own; a failed commit overrides it.
func (b *Bolt) apply(bkt *bolt.Bucket, op *Op) error {
	start := len(b.arena)
	b.arena = append(b.arena, op.Key...)
	key := b.arena[start:len(b.arena):len(b.arena)]
	var stored uint64
	v := bkt.Get(key)
	found := v != nil
	if found {
		if len(v) < versionLen {
			return fmt.Errorf("%w: %s: the stored record is %d bytes, shorter than its version header", ErrCorrupt, b.path, len(v))
		}
		stored = binary.BigEndian.Uint64(v)
	}
	if err := admits(op, stored, found); err != nil {
		return err
	}
	var err error
	if op.Delete {
		if found {
			err = bkt.Delete(key)
		}
	} else {
		start = len(b.arena)
		b.arena = binary.BigEndian.AppendUint64(b.arena, op.Version)
		b.arena = append(b.arena, op.Value...)
		err = bkt.Put(key, b.arena[start:len(b.arena):len(b.arena)])
	}
	if err != nil {
		return fmt.Errorf("%w: %s: %w", ErrCommit, b.path, err)
	}
	return nil
}

// failed turns the error of a failed transaction into the error each of its
// ops gets, and marks the store broken if bbolt now serves the failed
// commit (its meta page reached the file: see Bolt).
func (b *Bolt) failed(err error, txid int) error {
	if b.broken != nil {
		return b.broken // set by update's recover
	}
	cur, verr := b.committedTxid()
	switch {
	case verr != nil:
		b.broken = fmt.Errorf("%w: %s: a commit failed (%w) and the store cannot read its state back (%w); it acknowledges nothing more: restart to recover", ErrCommit, b.path, err, verr)
		return b.broken
	case txid != 0 && cur >= txid:
		b.broken = fmt.Errorf("%w: %s: transaction %d failed after its meta page was written (%w); the file may or may not hold it, so this store acknowledges nothing more: restart to recover", ErrCommit, b.path, txid, err)
		return b.broken
	}
	return fmt.Errorf("%w: %s: %w", ErrCommit, b.path, err)
}

// committedTxid is the id of the last transaction bbolt serves as
// committed.
func (b *Bolt) committedTxid() (txid int, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	err = b.db.View(func(tx *bolt.Tx) error {
		txid = tx.ID()
		return nil
	})
	return txid, err
}

var _ Store = (*Bolt)(nil)
