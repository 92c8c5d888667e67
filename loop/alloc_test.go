//go:build !race

// The race detector allocates on its own account, so these run without it.

package loop

import (
	"testing"
	"time"
)

// TestWheelSteadyStateAllocs: an Advance that fires periodic timers, which
// reschedule themselves, while connection timeouts are pushed back and
// cancelled, and the Until after it, allocate nothing.
func TestWheelSteadyStateAllocs(t *testing.T) {
	const (
		period  = 500 * time.Millisecond
		streams = 1000
		conns   = 1000
	)
	w := NewWheel(t0, 0, 0)
	now := t0
	ticks := make([]Timer, streams)
	for i := range ticks {
		w.Schedule(&ticks[i], w.Spread(now, period, uint64(i)))
	}
	timeouts := make([]Timer, conns)
	for i := range timeouts {
		w.Schedule(&timeouts[i], now.Add(60*time.Second))
	}
	fired := 0
	fire := func(tm *Timer) {
		fired++
		w.Schedule(tm, NextPeriod(tm.Deadline(), now, period))
	}
	i := 0
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(DefaultResolution)
		w.Advance(now, fire)
		_ = w.Until(now, 100*time.Millisecond) // how long the owner may sleep
		c := &timeouts[i%conns]
		w.Schedule(c, now.Add(60*time.Second)) // a request arrived: push back
		if i%7 == 0 {
			w.Cancel(c)
			w.Schedule(c, now.Add(10*time.Second))
		}
		i++
	})
	if allocs != 0 {
		t.Errorf("steady-state Advance+Until+Schedule+Cancel: %v allocs/run; want 0", allocs)
	}
	if fired < 1000*streams/50 {
		t.Errorf("fired %d timers in 1001 Advances; want about %d", fired, 1001*streams/50)
	}
}

// TestWheelJumpAllocs: the sweep and sort after a jump allocate nothing.
func TestWheelJumpAllocs(t *testing.T) {
	w := NewWheel(t0, 0, 64)
	now := t0
	timers := make([]Timer, 1000)
	for i := range timers {
		w.Schedule(&timers[i], now.Add(time.Duration(i*7919%1000)*time.Second))
	}
	fire := func(tm *Timer) { w.Schedule(tm, now.Add(time.Duration(tm.when%1000)*time.Second)) }
	allocs := testing.AllocsPerRun(20, func() {
		now = now.Add(time.Hour)
		w.Advance(now, fire)
	})
	if allocs != 0 {
		t.Errorf("Advance after a jump: %v allocs/run; want 0", allocs)
	}
}

// TestPoolSubmitAllocs: Submit of a pointer job, accepted or refused, and the
// worker's run of it allocate nothing.
func TestPoolSubmitAllocs(t *testing.T) {
	p := NewPool(1, 64)
	defer p.Close()
	j := &nopJob{}
	allocs := testing.AllocsPerRun(10000, func() {
		_ = p.Submit(j) // nil, or ErrPoolFull when the worker falls behind
	})
	if allocs != 0 {
		t.Errorf("Submit: %v allocs/run; want 0", allocs)
	}
	if s := p.Stats(); s.Submitted == 0 {
		t.Errorf("no Submit accepted: Stats() = %+v", s)
	}
}

func TestTokenAllocs(t *testing.T) {
	j := &nopJob{}
	allocs := testing.AllocsPerRun(100, func() {
		j.Cancel()
		_ = j.Cancelled()
	})
	if allocs != 0 {
		t.Errorf("Token Cancel+Cancelled: %v allocs/run; want 0", allocs)
	}
}
