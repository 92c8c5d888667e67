package loop

import (
	"errors"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Errors returned by Pool.Submit.
var (
	// ErrPoolFull means the queue was full: the job was not accepted. The
	// caller decides whether to drop the work, retry on a later tick, or shed
	// load; Submit never waits for room.
	ErrPoolFull = errors.New("loop: pool queue full")
	// ErrPoolClosed means Close had been called: the job was not accepted.
	ErrPoolClosed = errors.New("loop: pool closed")
)

// A Job is work for a Pool.
//
// Run does the work on a worker goroutine. A long job does it in units (a
// frame, a block) and returns early once Cancelled reports true.
//
// Cancelled reports whether the job's owner no longer wants it. A worker calls
// it before Run and skips the job, without calling Run, if it reports true;
// Run calls it between units. It is called from worker goroutines while the
// owner may cancel, so it must be safe for concurrent use: embed a Token to
// get it.
//
// Because a cancelled job may be skipped, Run must not hold cleanup that has
// to happen: that belongs to whoever cancels. Submit a pointer (or other
// pointer-shaped value) so that submitting allocates nothing.
type Job interface {
	Run()
	Cancelled() bool
}

// A Token is a job's cancellation flag, embedded in the job's struct to give
// it the Cancelled method of Job. Its zero value is not cancelled. Cancel and
// Cancelled are safe from any goroutine, allocate nothing and never block.
// Cancellation is final: work that is wanted again is a new job.
type Token struct {
	cancelled atomic.Bool // atomic.Bool carries go vet's no-copy marker
}

// Cancel marks the token cancelled: a job not yet started is skipped, one
// running sees it at its next Cancelled check.
func (t *Token) Cancel() { t.cancelled.Store(true) }

// Cancelled reports whether Cancel has been called.
func (t *Token) Cancelled() bool { return t.cancelled.Load() }

// A PanicFunc is told of a job that panicked: the job, the value it panicked
// with and the stack of the panic. It runs on the worker goroutine before the
// worker takes its next job; it must not panic itself.
type PanicFunc func(job Job, value any, stack []byte)

// PoolStats are a Pool's counters. Each is read atomically, but together they
// are not one snapshot; Stats reads the completion counters first, so that
// Submitted ≥ Ran + Skipped holds in every value it returns. Once Close has
// returned, Submitted == Ran + Skipped.
type PoolStats struct {
	Submitted uint64 // jobs Submit accepted
	Rejected  uint64 // Submit calls refused with ErrPoolFull (not those refused with ErrPoolClosed)
	Ran       uint64 // jobs not skipped whose Run has returned or panicked (or whose Cancelled panicked)
	Skipped   uint64 // jobs found cancelled by the worker that dequeued them, never run
	Panicked  uint64 // runs that panicked, also counted in Ran
	Running   int    // jobs in Run now
	Queued    int    // jobs accepted and waiting for a worker
}

// A Pool runs Jobs on a fixed set of worker goroutines fed by a bounded FIFO
// queue. Submit never blocks; Close drains the queue and stops the workers.
// All methods are safe from any goroutine.
//
// A panic in a job is recovered, counted and reported to the PanicFunc, and the
// worker goes on with the next job: one bad job (a renderer tripping on a
// parameter corner case) must cost its own stream, not the server and every
// other stream with it. A job that calls runtime.Goexit ends its worker, which
// is replaced at once.
type Pool struct {
	// mu orders Submit's send against Close's close(jobs): Submit holds it for
	// reading, so Submits do not exclude each other, only Close.
	mu      sync.RWMutex
	closed  bool
	jobs    chan Job
	wg      sync.WaitGroup
	onPanic atomic.Pointer[PanicFunc]

	submitted atomic.Uint64
	rejected  atomic.Uint64
	ran       atomic.Uint64
	skipped   atomic.Uint64
	panicked  atomic.Uint64
	running   atomic.Int64
}

// NewPool starts a Pool of workers goroutines (GOMAXPROCS if zero) with room
// for queue jobs waiting. A zero queue means no waiting room: Submit succeeds
// only while a worker is idle. NewPool panics if either is negative. The
// workers run until Close.
func NewPool(workers, queue int) *Pool {
	if workers < 0 || queue < 0 {
		panic("loop: NewPool: negative workers or queue")
	}
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	p := &Pool{jobs: make(chan Job, queue)}
	p.wg.Add(workers)
	for range workers {
		go p.worker()
	}
	return p
}

// SetPanicFunc sets the function told of jobs that panic, replacing any
// earlier one; nil removes it. It may be called at any time from any
// goroutine; a panic that happens before it is set is only counted.
func (p *Pool) SetPanicFunc(f PanicFunc) {
	if f == nil {
		p.onPanic.Store(nil)
		return
	}
	p.onPanic.Store(&f)
}

// Submit queues job and returns nil, or returns ErrPoolFull if the queue is
// full and ErrPoolClosed if Close has been called; a job not accepted will
// never run. Submit never waits for room or for a worker, and it allocates
// nothing when job is pointer-shaped. Safe from any goroutine, an event loop
// included, and concurrently with Close.
func (p *Pool) Submit(job Job) error {
	p.mu.RLock()
	if p.closed {
		p.mu.RUnlock()
		return ErrPoolClosed
	}
	p.submitted.Add(1) // before the send: a worker must not count a job Submitted has not
	select {
	case p.jobs <- job:
		p.mu.RUnlock()
		return nil
	default:
		p.submitted.Add(^uint64(0))
		p.mu.RUnlock()
		p.rejected.Add(1)
		return ErrPoolFull
	}
}

// Close stops accepting jobs, lets the workers run the jobs already queued
// (skipping cancelled ones) and returns once they have all finished and the
// workers have exited. It is idempotent, and safe from any goroutine and
// concurrently with Submit, except from a job of p, which would wait for
// itself for ever.
func (p *Pool) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.jobs)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Stats returns p's counters. Safe from any goroutine.
func (p *Pool) Stats() PoolStats {
	var s PoolStats
	s.Ran = p.ran.Load()
	s.Skipped = p.skipped.Load()
	s.Panicked = p.panicked.Load()
	s.Running = int(p.running.Load())
	s.Queued = len(p.jobs)
	s.Submitted = p.submitted.Load()
	s.Rejected = p.rejected.Load()
	return s
}

func (p *Pool) worker() {
	exited := false
	defer func() {
		if !exited {
			// A job called runtime.Goexit, which nothing can recover:
			// keep the pool at strength. The WaitGroup is still above zero
			// here, so this Add is legal even while Close waits.
			p.wg.Add(1)
			go p.worker()
		}
		p.wg.Done()
	}()
	for job := range p.jobs {
		p.execute(job)
	}
	exited = true
}

// execute runs one dequeued job, or skips it if cancelled. Any panic from the
// job's methods, Cancelled included, is recovered here.
func (p *Pool) execute(job Job) {
	started := false
	defer func() {
		v := recover()
		if started {
			p.running.Add(-1)
		}
		if v != nil {
			p.panicked.Add(1)
			if f := p.onPanic.Load(); f != nil {
				(*f)(job, v, debug.Stack())
			}
		}
		if started || v != nil {
			p.ran.Add(1)
		} else {
			p.skipped.Add(1)
		}
	}()
	if job.Cancelled() {
		return
	}
	started = true
	p.running.Add(1)
	job.Run()
}
