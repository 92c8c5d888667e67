package loop

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// t0 is the synthetic start of every test wheel: a fixed instant with no
// monotonic reading, so tests never depend on the clock.
var t0 = time.Unix(1_700_000_000, 0)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

// recorder collects the timers an Advance fires, in order.
type recorder struct{ fired []*Timer }

func (r *recorder) due(t *Timer) { r.fired = append(r.fired, t) }

// advance runs w.Advance(now) and returns what fired.
func advance(w *Wheel, now time.Time) []*Timer {
	var r recorder
	w.Advance(now, r.due)
	return r.fired
}

func names(ts []*Timer) string {
	var b strings.Builder
	for i, t := range ts {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(t.Value.(string))
	}
	return b.String()
}

func TestNewWheelGeometry(t *testing.T) {
	for _, tc := range []struct {
		res       time.Duration
		slots     int
		wantRes   time.Duration
		wantSlots int
	}{
		{0, 0, DefaultResolution, DefaultSlots},
		{time.Millisecond, 1, time.Millisecond, 1},
		{time.Millisecond, 100, time.Millisecond, 128},
		{time.Second, 512, time.Second, 512},
		{1, MaxSlots, 1, MaxSlots},
	} {
		w := NewWheel(t0, tc.res, tc.slots)
		if w.Resolution() != tc.wantRes || len(w.slots) != tc.wantSlots {
			t.Errorf("NewWheel(t0, %v, %d) = resolution %v, %d slots; want %v, %d",
				tc.res, tc.slots, w.Resolution(), len(w.slots), tc.wantRes, tc.wantSlots)
		}
	}
	for _, tc := range []struct {
		res   time.Duration
		slots int
	}{{-1, 0}, {0, -1}, {0, MaxSlots + 1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewWheel(t0, %v, %d) did not panic", tc.res, tc.slots)
				}
			}()
			NewWheel(t0, tc.res, tc.slots)
		}()
	}
}

// TestWheelFiresAtDeadlineNotBefore checks the precision contract: a timer
// fires at the first Advance at or after its deadline, not rounded to the
// resolution, and never before.
func TestWheelFiresAtDeadlineNotBefore(t *testing.T) {
	for _, deadline := range []time.Duration{
		0, 1, ms(10) - 1, ms(10), ms(10) + 1, ms(25), ms(159), ms(160), ms(161), ms(1234) + 567,
	} {
		w := NewWheel(t0, ms(10), 16) // one revolution: 160 ms
		var tm Timer
		w.Schedule(&tm, t0.Add(deadline))
		// Step in uneven strides up to just before the deadline.
		for at := time.Duration(0); at < deadline; at += ms(3) + 7 {
			if got := advance(w, t0.Add(at)); len(got) != 0 {
				t.Fatalf("deadline %v: Advance(%v) fired early", deadline, at)
			}
		}
		if got := advance(w, t0.Add(deadline-1)); deadline > 0 && len(got) != 0 {
			t.Fatalf("deadline %v: Advance(deadline-1ns) fired early", deadline)
		}
		if got := advance(w, t0.Add(deadline)); len(got) != 1 || got[0] != &tm {
			t.Fatalf("deadline %v: Advance(deadline) fired %d timers; want 1", deadline, len(got))
		}
		if tm.Scheduled() || w.Len() != 0 {
			t.Errorf("deadline %v: after firing Scheduled() = %v, Len() = %d; want false, 0", deadline, tm.Scheduled(), w.Len())
		}
		if got := advance(w, t0.Add(deadline+time.Hour)); len(got) != 0 {
			t.Errorf("deadline %v: fired again later", deadline)
		}
	}
}

func TestWheelCancel(t *testing.T) {
	w := NewWheel(t0, ms(10), 16)
	var a, b Timer
	a.Value, b.Value = "a", "b"
	if w.Cancel(&a) {
		t.Error("Cancel(never scheduled) = true; want false")
	}
	w.Schedule(&a, t0.Add(ms(50)))
	w.Schedule(&b, t0.Add(ms(50)))
	if got := w.Cancel(&a); !got {
		t.Error("Cancel(scheduled) = false; want true")
	}
	if w.Cancel(&a) {
		t.Error("second Cancel = true; want false")
	}
	if a.Scheduled() || !b.Scheduled() || w.Len() != 1 {
		t.Errorf("after Cancel: a.Scheduled() = %v, b.Scheduled() = %v, Len() = %d; want false, true, 1",
			a.Scheduled(), b.Scheduled(), w.Len())
	}
	if got := names(advance(w, t0.Add(time.Second))); got != "b" {
		t.Errorf("fired %q; want %q", got, "b")
	}
	if w.Cancel(&b) {
		t.Error("Cancel(fired) = true; want false")
	}
	other := NewWheel(t0, ms(10), 16)
	other.Schedule(&a, t0.Add(ms(50)))
	if w.Cancel(&a) {
		t.Error("Cancel of a timer scheduled on another wheel = true; want false")
	}
	if !a.Scheduled() || other.Len() != 1 {
		t.Error("Cancel on the wrong wheel disturbed the timer")
	}
}

func TestWheelScheduleOnOtherWheelPanics(t *testing.T) {
	w1, w2 := NewWheel(t0, 0, 0), NewWheel(t0, 0, 0)
	var tm Timer
	w1.Schedule(&tm, t0.Add(time.Second))
	defer func() {
		if recover() == nil {
			t.Error("Schedule of a timer scheduled on another wheel did not panic")
		}
	}()
	w2.Schedule(&tm, t0.Add(time.Second))
}

func TestWheelReschedule(t *testing.T) {
	w := NewWheel(t0, ms(10), 16)
	var a Timer
	a.Value = "a"
	w.Schedule(&a, t0.Add(ms(500)))
	w.Schedule(&a, t0.Add(ms(30))) // earlier
	if w.Len() != 1 || a.Deadline() != t0.Add(ms(30)) {
		t.Fatalf("after moving: Len() = %d, Deadline() = %v; want 1, t0+30ms", w.Len(), a.Deadline().Sub(t0))
	}
	if got := advance(w, t0.Add(ms(29))); len(got) != 0 {
		t.Fatal("fired before the new deadline")
	}
	if got := names(advance(w, t0.Add(ms(30)))); got != "a" {
		t.Fatalf("at the new deadline fired %q; want %q", got, "a")
	}
	if got := advance(w, t0.Add(ms(600))); len(got) != 0 {
		t.Fatal("fired again at the old deadline")
	}

	w.Schedule(&a, t0.Add(ms(700)))
	w.Schedule(&a, t0.Add(ms(5000))) // later, many revolutions away
	if got := advance(w, t0.Add(ms(4999))); len(got) != 0 {
		t.Fatal("fired at the old deadline after being moved later")
	}
	if got := names(advance(w, t0.Add(ms(5000)))); got != "a" {
		t.Fatalf("at the later deadline fired %q; want %q", got, "a")
	}
}

func TestWheelManyRounds(t *testing.T) {
	w := NewWheel(t0, ms(10), 16) // 160 ms revolution
	var near, far Timer
	near.Value, far.Value = "near", "far"
	w.Schedule(&far, t0.Add(10*time.Second+ms(3))) // 62 revolutions on
	w.Schedule(&near, t0.Add(ms(3)))               // same slot
	var fired []*Timer
	var at time.Duration
	for ; at < 10*time.Second+ms(3); at += ms(10) {
		fired = append(fired, advance(w, t0.Add(at))...)
	}
	if got := names(fired); got != "near" {
		t.Fatalf("before far's deadline fired %q; want %q", got, "near")
	}
	if got := names(advance(w, t0.Add(at))); got != "far" {
		t.Fatalf("at %v fired %q; want %q", at, got, "far")
	}
}

func TestWheelOrderAcrossSlots(t *testing.T) {
	w := NewWheel(t0, ms(10), 64)
	timers := make([]Timer, 5)
	// Scheduled out of order, in distinct slots, fired in one Advance.
	for i, d := range []int{45, 5, 35, 15, 25} {
		timers[i].Value = string(rune('0' + d/10))
		w.Schedule(&timers[i], t0.Add(ms(d)))
	}
	if got := names(advance(w, t0.Add(ms(100)))); got != "0 1 2 3 4" {
		t.Errorf("fired %q; want %q", got, "0 1 2 3 4")
	}
}

// TestWheelPeriodic reschedules a timer from its own callback, as a stream's
// render tick does, with irregular Advance strides.
func TestWheelPeriodic(t *testing.T) {
	const period = 500 * time.Millisecond
	w := NewWheel(t0, ms(10), 16) // revolution shorter than the period
	var tm Timer
	w.Schedule(&tm, t0.Add(period))
	var deadlines []time.Duration
	var now time.Time
	fire := func(tt *Timer) {
		if tt.Deadline().After(now) {
			t.Fatalf("fired at %v before its deadline %v", now.Sub(t0), tt.Deadline().Sub(t0))
		}
		deadlines = append(deadlines, tt.Deadline().Sub(t0))
		w.Schedule(tt, NextPeriod(tt.Deadline(), now, period))
	}
	strides := []time.Duration{ms(7), ms(10), ms(13), 1, ms(250), ms(499), ms(501), ms(1001)}
	now = t0
	for i := 0; now.Sub(t0) < 60*time.Second; i++ {
		now = now.Add(strides[i%len(strides)])
		w.Advance(now, fire)
	}
	if len(deadlines) < 80 { // 120 periods, less those skipped by strides over a period
		t.Fatalf("only %d firings in 60 s of 500 ms periods", len(deadlines))
	}
	for i, d := range deadlines {
		if d%period != 0 {
			t.Fatalf("firing %d had deadline %v, off the period grid", i, d)
		}
		if i > 0 && d <= deadlines[i-1] {
			t.Fatalf("firing %d had deadline %v, not after the previous %v", i, d, deadlines[i-1])
		}
	}
	if !tm.Scheduled() || w.Len() != 1 {
		t.Errorf("periodic timer Scheduled() = %v, Len() = %d; want true, 1", tm.Scheduled(), w.Len())
	}
}

// TestWheelJump advances hours at once: every due timer fires once, in
// deadline order, and a jump of centuries with a 1 ns resolution (1e19 ticks)
// returns, which it would not if Advance stepped through elapsed ticks.
func TestWheelJump(t *testing.T) {
	w := NewWheel(t0, ms(10), 64)
	timers := make([]Timer, 1000)
	for i := range timers {
		// Deadlines over 10 minutes, scheduled in a scrambled order.
		j := (i * 7919) % len(timers)
		timers[j].Value = j
		w.Schedule(&timers[j], t0.Add(time.Duration(j)*ms(600)+time.Duration(j%7)))
	}
	var got []int
	w.Advance(t0.Add(time.Hour), func(tm *Timer) { got = append(got, tm.Value.(int)) })
	if len(got) != len(timers) || w.Len() != 0 {
		t.Fatalf("jump fired %d timers, Len() = %d; want %d, 0", len(got), w.Len(), len(timers))
	}
	for i, v := range got {
		if v != i {
			t.Fatalf("jump fired timer %d at position %d; want deadline order", v, i)
		}
	}

	fine := NewWheel(t0, 1, 1024)
	var a, b Timer
	fine.Schedule(&a, t0.Add(time.Hour))
	fine.Schedule(&b, t0.Add(200*365*24*time.Hour))
	if n := len(advance(fine, t0.Add(100*365*24*time.Hour))); n != 1 {
		t.Fatalf("century jump fired %d timers; want 1", n)
	}
	if n := len(advance(fine, t0.Add(250*365*24*time.Hour))); n != 1 {
		t.Fatalf("second century jump fired %d timers; want 1", n)
	}
}

func TestWheelBackwards(t *testing.T) {
	w := NewWheel(t0, ms(10), 16)
	var a, past Timer
	a.Value, past.Value = "a", "past"
	advance(w, t0.Add(time.Second))
	w.Schedule(&a, t0.Add(ms(1500)))
	w.Schedule(&past, t0.Add(ms(200))) // before the wheel's position
	for _, back := range []time.Duration{ms(100), 0, -time.Hour} {
		if got := advance(w, t0.Add(back)); len(got) != 0 {
			t.Fatalf("Advance(t0%+v) after t0+1s fired %q; want nothing", back, names(got))
		}
	}
	// Still before a's deadline, but after past's: only past is due.
	if got := names(advance(w, t0.Add(ms(500)))); got != "past" {
		t.Fatalf("Advance(t0+500ms) fired %q; want %q", got, "past")
	}
	if got := advance(w, t0.Add(ms(1499))); len(got) != 0 {
		t.Fatalf("Advance(t0+1499ms) fired %q; want nothing", names(got))
	}
	if got := names(advance(w, t0.Add(ms(1500)))); got != "a" {
		t.Fatalf("Advance(t0+1500ms) fired %q; want %q", got, "a")
	}
	// A wheel whose clock is set before its start.
	var early Timer
	early.Value = "early"
	w2 := NewWheel(t0, ms(10), 16)
	w2.Schedule(&early, t0.Add(-time.Minute))
	if got := advance(w2, t0.Add(-time.Hour)); len(got) != 0 {
		t.Fatalf("Advance(t0-1h) fired %q; want nothing", names(got))
	}
	if got := names(advance(w2, t0.Add(-time.Minute))); got != "early" {
		t.Fatalf("Advance(t0-1m) fired %q; want %q", got, "early")
	}
}

// TestWheelCallbackCancelsPending: a timer found due but cancelled by an
// earlier callback of the same Advance does not fire.
func TestWheelCallbackCancelsPending(t *testing.T) {
	w := NewWheel(t0, ms(10), 16)
	var a, b Timer
	a.Value, b.Value = &b, &a // each cancels the other
	w.Schedule(&a, t0.Add(ms(5)))
	w.Schedule(&b, t0.Add(ms(5)))
	n := 0
	w.Advance(t0.Add(ms(20)), func(tm *Timer) {
		n++
		if !w.Cancel(tm.Value.(*Timer)) {
			t.Error("Cancel of a due, not yet fired timer = false; want true")
		}
	})
	if n != 1 || w.Len() != 0 || a.Scheduled() || b.Scheduled() {
		t.Errorf("fired %d, Len() = %d; want 1 fired, 0 left", n, w.Len())
	}
}

// TestWheelCallbackSchedulesDue: a timer scheduled from a callback with a
// deadline already past waits for the next Advance, so a callback that always
// re-arms its timer at now cannot make Advance loop for ever.
func TestWheelCallbackSchedulesDue(t *testing.T) {
	w := NewWheel(t0, ms(10), 16)
	var a, b Timer
	a.Value, b.Value = "a", "b"
	w.Schedule(&a, t0.Add(ms(5)))
	now := t0.Add(ms(20))
	var fired []string
	due := func(tm *Timer) {
		fired = append(fired, tm.Value.(string))
		w.Schedule(tm, now)                // itself, due now
		w.Schedule(&b, t0.Add(-time.Hour)) // another, long overdue
	}
	w.Advance(now, due)
	if got := strings.Join(fired, " "); got != "a" {
		t.Fatalf("first Advance fired %q; want %q", got, "a")
	}
	fired = nil
	w.Advance(now, due) // the same now
	if len(fired) != 2 {
		t.Fatalf("second Advance at the same now fired %q; want a and b", fired)
	}
}

func TestWheelAdvanceFromCallbackPanics(t *testing.T) {
	w := NewWheel(t0, ms(10), 16)
	var a Timer
	w.Schedule(&a, t0)
	defer func() {
		if recover() == nil {
			t.Error("Advance from its callback did not panic")
		}
	}()
	w.Advance(t0, func(*Timer) { w.Advance(t0, func(*Timer) {}) })
}

// TestWheelCallbackPanic: a panicking callback leaves the wheel usable and
// the timers it did not reach scheduled.
func TestWheelCallbackPanic(t *testing.T) {
	w := NewWheel(t0, ms(10), 16)
	timers := make([]Timer, 4)
	for i := range timers {
		timers[i].Value = i
		w.Schedule(&timers[i], t0.Add(ms(10*i)))
	}
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v; want boom", v)
			}
		}()
		w.Advance(t0.Add(time.Second), func(tm *Timer) {
			if tm.Value.(int) == 1 {
				panic("boom")
			}
		})
	}()
	if w.Len() != 2 || !timers[2].Scheduled() || !timers[3].Scheduled() {
		t.Fatalf("after a panic Len() = %d; want the 2 unfired timers still scheduled", w.Len())
	}
	var got []int
	w.Advance(t0.Add(time.Second), func(tm *Timer) { got = append(got, tm.Value.(int)) })
	if len(got) != 2 || w.Len() != 0 {
		t.Fatalf("the Advance after a panic fired %v; want [2 3]", got)
	}
}

func TestSpread(t *testing.T) {
	const period = 500 * time.Millisecond
	w := NewWheel(t0, ms(10), 64)
	now := t0.Add(ms(1234) + 567)
	const keys = 10000
	var perSlot [50]int
	for k := uint64(0); k < keys; k++ {
		at := w.Spread(now, period, k)
		if !at.After(now) || at.Sub(now) > period {
			t.Fatalf("Spread(now, %v, %d) = now%+v; want in (now, now+period]", period, k, at.Sub(now))
		}
		later := w.Spread(now.Add(7*time.Second+ms(3)), period, k)
		if d := later.Sub(at); d%period != 0 {
			t.Fatalf("key %d: phase moved by %v between calls", k, d%period)
		}
		perSlot[at.Sub(t0)%period/ms(10)]++
	}
	// Sequential keys spread evenly: each 10 ms slot of the period holds
	// keys/50 = 200 of them, give or take sampling noise.
	for i, n := range perSlot {
		if n < 140 || n > 260 {
			t.Errorf("slot %d of the period holds %d of %d keys; want about 200", i, n, keys)
		}
	}
	// Exactly on a phase point, the next one is a full period away.
	at := w.Spread(now, period, 42)
	if got := w.Spread(at, period, 42); got.Sub(at) != period {
		t.Errorf("Spread at a phase point = +%v; want +%v", got.Sub(at), period)
	}
}

func TestNextPeriod(t *testing.T) {
	const p = 500 * time.Millisecond
	for _, tc := range []struct {
		prev, now, want time.Duration
	}{
		{0, 0, ms(500)},
		{0, ms(499), ms(500)},
		{0, ms(500), ms(1000)}, // strictly after now
		{0, ms(501), ms(1000)},
		{ms(7), ms(2000), ms(2007)},
		{ms(7), ms(2007), ms(2507)},
		{0, time.Hour, time.Hour + p},
		{ms(3), -time.Hour, ms(503)}, // time went back: the next period still
	} {
		if got := NextPeriod(t0.Add(tc.prev), t0.Add(tc.now), p).Sub(t0); got != tc.want {
			t.Errorf("NextPeriod(t0+%v, t0+%v, %v) = t0+%v; want t0+%v", tc.prev, tc.now, p, got, tc.want)
		}
	}
}

func TestTimerDeadline(t *testing.T) {
	w := NewWheel(t0, ms(10), 16)
	var a Timer
	if !a.Deadline().IsZero() || a.Scheduled() {
		t.Fatal("zero Timer has a deadline or is scheduled")
	}
	at := t0.Add(ms(42))
	w.Schedule(&a, at)
	if !a.Deadline().Equal(at) {
		t.Errorf("Deadline() = %v; want %v", a.Deadline(), at)
	}
	w.Advance(at, func(tm *Timer) {
		if !tm.Deadline().Equal(at) {
			t.Errorf("in the callback Deadline() = %v; want %v", tm.Deadline(), at)
		}
	})
	if !a.Deadline().Equal(at) {
		t.Errorf("after firing Deadline() = %v; want %v", a.Deadline(), at)
	}
}

// TestUntil checks Until against the earliest deadline found by brute
// force, for random timer sets, times and limits, within one revolution and
// past it.
func TestUntil(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		w := NewWheel(t0, ms(10), 16) // 160 ms a revolution: limits cross it
		now := t0.Add(time.Duration(rng.Int64N(int64(time.Second))))
		w.Advance(now, func(*Timer) {})
		timers := make([]Timer, rng.IntN(6))
		for i := range timers {
			// Deadlines from 50 ms before now (due at once) to 2 s after.
			w.Schedule(&timers[i], now.Add(time.Duration(rng.Int64N(int64(2050*time.Millisecond)))-ms(50)))
		}
		at := now.Add(time.Duration(rng.Int64N(int64(ms(30)))))
		limit := time.Duration(rng.Int64N(int64(time.Second))) + 1
		want := limit
		for i := range timers {
			want = min(want, max(timers[i].Deadline().Sub(at), 0))
		}
		if got := w.Until(at, limit); got != want {
			t.Fatalf("round %d: Until(now+%v, %v) = %v; want %v (%d timers)", round, at.Sub(now), limit, got, want, len(timers))
		}
	}
}

func TestUntilEdges(t *testing.T) {
	w := NewWheel(t0, ms(10), 64)
	if got := w.Until(t0, ms(100)); got != ms(100) {
		t.Errorf("empty wheel: Until(t0, 100ms) = %v; want 100ms", got)
	}
	if got := w.Until(t0, 0); got != 0 {
		t.Errorf("Until(t0, 0) = %v; want 0", got)
	}
	var a, b Timer
	w.Schedule(&a, t0.Add(ms(35)))
	w.Schedule(&b, t0.Add(time.Hour))
	for _, tc := range []struct{ at, limit, want time.Duration }{
		{0, ms(100), ms(35)},
		{ms(30), ms(100), ms(5)},
		{ms(35), ms(100), 0},       // due now
		{ms(50), ms(100), 0},       // overdue
		{0, ms(20), ms(20)},        // beyond the limit
		{0, ms(35), ms(35)},        // exactly at the limit
		{0, math.MaxInt64, ms(35)}, // no overflow
	} {
		if got := w.Until(t0.Add(tc.at), tc.limit); got != tc.want {
			t.Errorf("Until(t0+%v, %v) = %v; want %v", tc.at, tc.limit, got, tc.want)
		}
	}
	w.Cancel(&a)
	if got := w.Until(t0, ms(100)); got != ms(100) {
		t.Errorf("after Cancel: Until(t0, 100ms) = %v; want 100ms (the other timer is an hour away)", got)
	}
}
