package loop

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// funcJob is a Job running f; embedding Token gives it Cancelled.
type funcJob struct {
	Token
	f func()
}

func (j *funcJob) Run() { j.f() }

// gate is a job that says when it has started and runs until released.
type gate struct {
	Token
	started chan struct{}
	release chan struct{}
}

func newGate() *gate {
	return &gate{started: make(chan struct{}), release: make(chan struct{})}
}

func (g *gate) Run() {
	close(g.started)
	<-g.release
}

// busy submits a gate to p and waits until a worker runs it.
func busy(t *testing.T, p *Pool) *gate {
	t.Helper()
	g := newGate()
	if err := p.Submit(g); err != nil {
		t.Fatalf("Submit(gate) = %v; want nil", err)
	}
	<-g.started
	return g
}

func checkStats(t *testing.T, p *Pool, want PoolStats) {
	t.Helper()
	if got := p.Stats(); got != want {
		t.Errorf("Stats() = %+v; want %+v", got, want)
	}
}

func TestNewPoolPanicsOnNegative(t *testing.T) {
	for _, args := range [][2]int{{-1, 0}, {1, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewPool(%d, %d) did not panic", args[0], args[1])
				}
			}()
			NewPool(args[0], args[1]).Close()
		}()
	}
}

func TestPoolRunsAllInOrder(t *testing.T) {
	p := NewPool(1, 100) // one worker: FIFO order is observable
	var got []int
	jobs := make([]funcJob, 100)
	for i := range jobs {
		jobs[i].f = func() { got = append(got, i) }
		if err := p.Submit(&jobs[i]); err != nil {
			t.Fatalf("Submit(job %d) = %v; want nil", i, err)
		}
	}
	p.Close() // waits: got is ours from here
	if len(got) != len(jobs) {
		t.Fatalf("ran %d jobs; want %d", len(got), len(jobs))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("job %d ran in position %d; want submission order", v, i)
		}
	}
	checkStats(t, p, PoolStats{Submitted: 100, Ran: 100})
}

func TestPoolManyWorkersRunAll(t *testing.T) {
	p := NewPool(0, 1000) // GOMAXPROCS workers
	var n atomic.Int64
	jobs := make([]funcJob, 1000)
	for i := range jobs {
		jobs[i].f = func() { n.Add(1) }
		if err := p.Submit(&jobs[i]); err != nil {
			t.Fatalf("Submit(job %d) = %v; want nil", i, err)
		}
	}
	p.Close()
	if n.Load() != 1000 {
		t.Fatalf("ran %d jobs; want 1000", n.Load())
	}
}

// TestPoolFull: with the worker busy and the queue full, Submit returns
// ErrPoolFull at once; it would hang here if it blocked.
func TestPoolFull(t *testing.T) {
	p := NewPool(1, 2)
	g := busy(t, p)
	var ran atomic.Int64
	jobs := make([]funcJob, 3)
	for i := range jobs {
		jobs[i].f = func() { ran.Add(1) }
	}
	for i := range 2 {
		if err := p.Submit(&jobs[i]); err != nil {
			t.Fatalf("Submit(job %d) with room = %v; want nil", i, err)
		}
	}
	if err := p.Submit(&jobs[2]); err != ErrPoolFull {
		t.Fatalf("Submit to a full queue = %v; want ErrPoolFull", err)
	}
	checkStats(t, p, PoolStats{Submitted: 3, Rejected: 1, Running: 1, Queued: 2})
	close(g.release)
	p.Close()
	if ran.Load() != 2 {
		t.Errorf("ran %d queued jobs; want 2 (the rejected one never runs)", ran.Load())
	}
	checkStats(t, p, PoolStats{Submitted: 3, Rejected: 1, Ran: 3})
}

// TestPoolNoQueue: a zero queue accepts only what an idle worker takes.
func TestPoolNoQueue(t *testing.T) {
	p := NewPool(1, 0)
	g := newGate()
	// Accepted only once the worker has started and waits for a job.
	for p.Submit(g) == ErrPoolFull {
		runtime.Gosched()
	}
	<-g.started
	var j funcJob
	j.f = func() {}
	if err := p.Submit(&j); err != ErrPoolFull {
		t.Fatalf("Submit with the only worker busy and no queue = %v; want ErrPoolFull", err)
	}
	close(g.release)
	p.Close()
}

func TestPoolSubmitAfterClose(t *testing.T) {
	p := NewPool(2, 4)
	p.Close()
	p.Close() // idempotent
	var j funcJob
	j.f = func() { t.Error("a job submitted after Close ran") }
	if err := p.Submit(&j); err != ErrPoolClosed {
		t.Fatalf("Submit after Close = %v; want ErrPoolClosed", err)
	}
	checkStats(t, p, PoolStats{})
}

func TestPoolSkipsCancelledQueued(t *testing.T) {
	p := NewPool(1, 4)
	g := busy(t, p)
	var ranA, ranB bool
	a := &funcJob{f: func() { ranA = true }}
	b := &funcJob{f: func() { ranB = true }}
	if err := p.Submit(a); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(b); err != nil {
		t.Fatal(err)
	}
	a.Cancel() // while queued
	close(g.release)
	p.Close()
	if ranA || !ranB {
		t.Errorf("cancelled job ran = %v, other job ran = %v; want false, true", ranA, ranB)
	}
	checkStats(t, p, PoolStats{Submitted: 3, Ran: 2, Skipped: 1})
}

// unitJob does up to units steps, checking for cancellation before each, as
// a renderer does between frames. Step pause signals reached and waits for
// resume.
type unitJob struct {
	Token
	units, pause int
	done         int
	reached      chan struct{}
	resume       chan struct{}
}

func (j *unitJob) Run() {
	for i := 0; i < j.units && !j.Cancelled(); i++ {
		if i == j.pause {
			close(j.reached)
			<-j.resume
		}
		j.done++
	}
}

func TestPoolCancelBetweenUnits(t *testing.T) {
	p := NewPool(1, 1)
	j := &unitJob{units: 100, pause: 3, reached: make(chan struct{}), resume: make(chan struct{})}
	if err := p.Submit(j); err != nil {
		t.Fatal(err)
	}
	<-j.reached
	j.Cancel() // during unit 3
	close(j.resume)
	p.Close()
	if j.done != 4 {
		t.Errorf("job did %d units; want 4 (units 0-3, then it saw the cancellation)", j.done)
	}
	checkStats(t, p, PoolStats{Submitted: 1, Ran: 1})
}

// TestPoolCloseWaits: Close returns only once every queued job has finished,
// even jobs that were still waiting behind blocked ones when it was called.
func TestPoolCloseWaits(t *testing.T) {
	p := NewPool(2, 64)
	gates := []*gate{busy(t, p), busy(t, p)}
	var closed atomic.Bool
	var done, early atomic.Int64
	jobs := make([]funcJob, 64)
	for i := range jobs {
		jobs[i].f = func() {
			if closed.Load() {
				early.Add(1)
			}
			done.Add(1)
		}
		if err := p.Submit(&jobs[i]); err != nil {
			t.Fatal(err)
		}
	}
	closeReturned := make(chan struct{})
	go func() {
		p.Close()
		closed.Store(true)
		close(closeReturned)
	}()
	for _, g := range gates {
		close(g.release)
	}
	<-closeReturned
	if done.Load() != 64 || early.Load() != 0 {
		t.Errorf("when Close returned %d of 64 jobs had run, %d after it; want 64, 0", done.Load(), early.Load())
	}
	checkStats(t, p, PoolStats{Submitted: 66, Ran: 66})
}

// TestPoolConcurrentSubmitClose races submitters against Close: no panic (a
// send on a closed channel would be one), every accepted job runs, and every
// Submit after Close is refused.
func TestPoolConcurrentSubmitClose(t *testing.T) {
	p := NewPool(2, 8)
	var ran atomic.Int64
	const submitters = 8
	var accepted [submitters]int64
	var started, finished sync.WaitGroup
	started.Add(submitters)
	finished.Add(submitters)
	for s := range submitters {
		go func() {
			defer finished.Done()
			j := &funcJob{f: func() { ran.Add(1) }}
			for i := 0; ; i++ {
				if i == 50 {
					started.Done()
				}
				switch err := p.Submit(j); err {
				case nil:
					accepted[s]++
				case ErrPoolFull:
					runtime.Gosched()
				case ErrPoolClosed:
					if i < 50 {
						t.Errorf("Submit = ErrPoolClosed before Close")
						started.Done()
					}
					return
				default:
					t.Errorf("Submit = %v", err)
					return
				}
			}
		}()
	}
	started.Wait()
	p.Close()
	finished.Wait()
	var total int64
	for _, n := range accepted {
		total += n
	}
	s := p.Stats()
	if ran.Load() != total || s.Submitted != uint64(total) || s.Ran != uint64(total) || s.Queued != 0 || s.Running != 0 {
		t.Errorf("accepted %d, ran %d, Stats() = %+v; want all accepted jobs run", total, ran.Load(), s)
	}
}

func TestPoolPanicRecovered(t *testing.T) {
	p := NewPool(1, 4)
	var gotValue any
	var gotStack string
	var gotJob Job
	p.SetPanicFunc(func(job Job, v any, stack []byte) {
		gotJob, gotValue, gotStack = job, v, string(stack)
	})
	bad := &funcJob{f: func() { panic("renderer exploded") }}
	var goodRan bool
	good := &funcJob{f: func() { goodRan = true }}
	if err := p.Submit(bad); err != nil {
		t.Fatal(err)
	}
	if err := p.Submit(good); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if !goodRan {
		t.Error("the job after a panicking one did not run: the worker died")
	}
	if gotJob != bad || gotValue != "renderer exploded" {
		t.Errorf("PanicFunc got job %p, value %v; want %p, %q", gotJob, gotValue, bad, "renderer exploded")
	}
	if !strings.Contains(gotStack, "TestPoolPanicRecovered") {
		t.Errorf("PanicFunc stack does not show the panicking job:\n%s", gotStack)
	}
	checkStats(t, p, PoolStats{Submitted: 2, Ran: 2, Panicked: 1})
}

// panicCancelled is a job whose Cancelled panics, as a nil job would.
type panicCancelled struct{}

func (*panicCancelled) Run()            {}
func (*panicCancelled) Cancelled() bool { panic("no token") }

func TestPoolPanicInCancelled(t *testing.T) {
	p := NewPool(1, 4)
	var nilJob *funcJob // Cancelled dereferences nil
	var goodRan bool
	good := &funcJob{f: func() { goodRan = true }}
	for _, j := range []Job{&panicCancelled{}, nilJob, good} {
		if err := p.Submit(j); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if !goodRan {
		t.Error("the job after panicking ones did not run")
	}
	checkStats(t, p, PoolStats{Submitted: 3, Ran: 3, Panicked: 2})
}

// TestPoolGoexit: a job that ends its goroutine does not shrink the pool.
func TestPoolGoexit(t *testing.T) {
	p := NewPool(1, 4)
	var goodRan bool
	for _, j := range []Job{&funcJob{f: runtime.Goexit}, &funcJob{f: func() { goodRan = true }}} {
		if err := p.Submit(j); err != nil {
			t.Fatal(err)
		}
	}
	p.Close()
	if !goodRan {
		t.Error("the job after a Goexit did not run: the worker was not replaced")
	}
	checkStats(t, p, PoolStats{Submitted: 2, Ran: 2})
}

func TestTokenConcurrent(t *testing.T) {
	var tok Token
	if tok.Cancelled() {
		t.Fatal("zero Token is cancelled")
	}
	done := make(chan struct{})
	go func() { // a worker polling between units while the owner cancels
		for range 1000 {
			_ = tok.Cancelled()
		}
		close(done)
	}()
	tok.Cancel()
	tok.Cancel() // idempotent
	<-done
	if !tok.Cancelled() {
		t.Fatal("Token not cancelled after Cancel")
	}
}

func TestPoolErrorsAreDistinct(t *testing.T) {
	if errors.Is(ErrPoolFull, ErrPoolClosed) || ErrPoolFull.Error() == ErrPoolClosed.Error() {
		t.Error("ErrPoolFull and ErrPoolClosed are not distinct")
	}
}
