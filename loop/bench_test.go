package loop

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// nopJob is a Job that does nothing: what the benchmarks measure is the pool.
type nopJob struct{ Token }

func (*nopJob) Run() {}

// doneJob counts down a WaitGroup.
type doneJob struct {
	Token
	wg *sync.WaitGroup
}

func (j *doneJob) Run() { j.wg.Done() }

func BenchmarkWheelScheduleCancel(b *testing.B) {
	w := NewWheel(t0, 0, 0)
	timers := make([]Timer, 1024)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		t := &timers[i&1023]
		w.Schedule(t, t0.Add(time.Duration(i&4095)*time.Millisecond))
		w.Cancel(t)
	}
}

// BenchmarkWheelReschedule moves one of n scheduled timers per op, as a
// connection's idle timeout is pushed back on each request; beside it, the
// same on n runtime timers (time.AfterFunc + Reset), the alternative.
func BenchmarkWheelReschedule(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("wheel/n=%d", n), func(b *testing.B) {
			w := NewWheel(t0, 0, 0)
			timers := make([]Timer, n)
			for i := range timers {
				w.Schedule(&timers[i], t0.Add(60*time.Second+time.Duration(i)*time.Microsecond))
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				w.Schedule(&timers[i%n], t0.Add(60*time.Second+time.Duration(i)*time.Microsecond))
			}
		})
		b.Run(fmt.Sprintf("runtime-timer/n=%d", n), func(b *testing.B) {
			timers := make([]*time.Timer, n)
			for i := range timers {
				timers[i] = time.AfterFunc(time.Hour, func() {})
			}
			defer func() {
				for _, t := range timers {
					t.Stop()
				}
			}()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				timers[i%n].Reset(time.Hour + time.Duration(i)*time.Microsecond)
			}
		})
	}
}

// BenchmarkWheelAdvance measures one Advance by the default resolution, the
// pace the server drives it at, with n timers on the wheel:
//   - periodic: every timer is a 500 ms render tick rescheduling itself, so
//     each Advance fires n/50 of them;
//   - timeouts: every timer is a 60 s timeout, re-armed when it fires, so an
//     Advance mostly passes over timers of later revolutions;
//   - jump: each Advance comes 10 minutes after the last (a stalled
//     process), sweeping every slot and sorting what is due.
func BenchmarkWheelAdvance(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, kind := range []struct {
			name   string
			period time.Duration
			step   time.Duration
		}{
			{"periodic", 500 * time.Millisecond, DefaultResolution},
			{"timeouts", 60 * time.Second, DefaultResolution},
			{"jump", 500 * time.Millisecond, 10 * time.Minute},
		} {
			b.Run(fmt.Sprintf("%s/n=%d", kind.name, n), func(b *testing.B) {
				w := NewWheel(t0, 0, 0)
				now := t0
				timers := make([]Timer, n)
				for i := range timers {
					w.Schedule(&timers[i], w.Spread(now, kind.period, uint64(i)))
				}
				fired := 0
				fire := func(t *Timer) {
					fired++
					w.Schedule(t, NextPeriod(t.Deadline(), now, kind.period))
				}
				b.ReportAllocs()
				for b.Loop() {
					now = now.Add(kind.step)
					w.Advance(now, fire)
				}
				b.ReportMetric(float64(fired)/float64(b.N), "fired/op")
			})
		}
	}
}

// BenchmarkWheelUntil asks, after each Advance, how long the owner may
// sleep (at most 100 ms, ten slots): what a housekeeping loop that wakes
// only when a timer is due pays per wake-up.
func BenchmarkWheelUntil(b *testing.B) {
	for _, n := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("periodic/n=%d", n), func(b *testing.B) {
			const period = 500 * time.Millisecond
			w := NewWheel(t0, 0, 0)
			now := t0
			timers := make([]Timer, n)
			for i := range timers {
				w.Schedule(&timers[i], w.Spread(now, period, uint64(i)))
			}
			fire := func(t *Timer) { w.Schedule(t, NextPeriod(t.Deadline(), now, period)) }
			b.ReportAllocs()
			var slept time.Duration
			for b.Loop() {
				d := w.Until(now, 100*time.Millisecond)
				slept += d
				now = now.Add(max(d, DefaultResolution))
				w.Advance(now, fire)
			}
			b.ReportMetric(float64(slept)/float64(b.N)/1e6, "ms-slept/op")
		})
	}
}

// BenchmarkPoolSubmit submits b.N jobs from one goroutine (retrying when the
// queue is full) and waits for them all to run: Submit plus hand-off
// throughput. Beside it, a goroutine per job, the alternative.
func BenchmarkPoolSubmit(b *testing.B) {
	b.Run("pool", func(b *testing.B) {
		p := NewPool(0, 1024)
		defer p.Close()
		var wg sync.WaitGroup
		j := &doneJob{wg: &wg}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			wg.Add(1)
			for p.Submit(j) == ErrPoolFull {
				runtime.Gosched()
			}
		}
		wg.Wait() // timed: the last jobs must run too
	})
	b.Run("goroutine-per-job", func(b *testing.B) {
		var wg sync.WaitGroup
		j := &doneJob{wg: &wg}
		b.ReportAllocs()
		b.ResetTimer()
		for range b.N {
			wg.Add(1)
			go j.Run()
		}
		wg.Wait()
	})
}

// BenchmarkPoolSubmitParallel submits from GOMAXPROCS goroutines at once, as
// several event loops do, retrying when the queue is full, and waits for every
// job to run; retries/op counts the ErrPoolFull answers.
func BenchmarkPoolSubmitParallel(b *testing.B) {
	p := NewPool(0, 1024)
	defer p.Close()
	var wg sync.WaitGroup
	j := &doneJob{wg: &wg}
	var full atomic.Int64
	wg.Add(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			for p.Submit(j) == ErrPoolFull {
				full.Add(1)
				runtime.Gosched()
			}
		}
	})
	wg.Wait()
	b.ReportMetric(float64(full.Load())/float64(b.N), "retries/op")
}
