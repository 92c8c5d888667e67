package loop

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// The randomized tests run a Wheel beside a reference model: a plain table of
// every timer's state with the deadlines compared directly. Random schedules,
// cancels and advances (forward in small and large strides, backward, with
// ops from inside callbacks) must leave both in agreement: an Advance fires
// exactly the timers due when it began and left alone since, each once, in
// order of their slot, and never one scheduled or moved during it.

// modelTimer is the model's view of one timer.
type modelTimer struct {
	scheduled bool
	at        time.Time
	tick      int64  // the slot tick it is due in: max(floor((at−start)/res), cur)
	seq       uint64 // bumped by every Schedule and effective Cancel
}

type wheelModel struct {
	tb     testing.TB
	intn   func(n int) int // the source of every random choice
	w      *Wheel
	res    int64
	rev    int64 // one revolution, ns
	now    time.Time
	cur    int64 // the tick the wheel is at
	seq    uint64
	timers []Timer
	m      []modelTimer

	// During an Advance.
	advNow  time.Time
	dueSeq  map[int]uint64 // timers due when the Advance began, at their seq
	fired   map[int]bool
	lastTik int64
}

func newWheelModel(tb testing.TB, intn func(int) int, res time.Duration, slots, timers int) *wheelModel {
	h := &wheelModel{
		tb:     tb,
		intn:   intn,
		w:      NewWheel(t0, res, slots),
		res:    int64(res),
		now:    t0,
		timers: make([]Timer, timers),
		m:      make([]modelTimer, timers),
	}
	h.rev = h.res * int64(len(h.w.slots))
	for i := range h.timers {
		h.timers[i].Value = i
	}
	return h
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (h *wheelModel) randDeadline() time.Time {
	var off int64
	switch h.intn(5) {
	case 0: // overdue, or within the current slot
		off = int64(h.intn(int(4*h.res))) - 2*h.res
	case 1:
		off = int64(h.intn(int(h.rev)))
	case 2: // several revolutions on
		off = int64(h.intn(int(5 * h.rev)))
	case 3: // on a slot boundary
		off = int64(h.intn(8)) * h.res
	case 4:
		off = 0
	}
	return h.now.Add(time.Duration(off))
}

func (h *wheelModel) randNow() time.Time {
	var d int64
	switch h.intn(10) {
	case 0: // back
		d = -int64(h.intn(int(3 * h.res)))
	case 1: // a jump of up to ten revolutions
		d = int64(h.intn(int(10 * h.rev)))
	case 2:
		d = 0
	case 3:
		d = h.res
	default:
		d = int64(h.intn(int(2 * h.res)))
	}
	return h.now.Add(time.Duration(d))
}

func (h *wheelModel) schedule(i int, at time.Time) {
	h.w.Schedule(&h.timers[i], at)
	h.seq++
	tick := max(floorDiv(int64(at.Sub(t0)), h.res), h.cur)
	h.m[i] = modelTimer{scheduled: true, at: at, tick: tick, seq: h.seq}
}

func (h *wheelModel) cancel(i int) {
	got := h.w.Cancel(&h.timers[i])
	if want := h.m[i].scheduled; got != want {
		h.tb.Fatalf("Cancel(timer %d) = %v; want %v", i, got, want)
	}
	if got {
		h.seq++
		h.m[i].scheduled = false
		h.m[i].seq = h.seq
	}
}

// mutate schedules or cancels a random timer.
func (h *wheelModel) mutate() {
	i := h.intn(len(h.timers))
	if h.intn(3) == 0 {
		h.cancel(i)
	} else {
		h.schedule(i, h.randDeadline())
	}
}

func (h *wheelModel) advance(now time.Time) {
	h.now = now
	h.cur = max(h.cur, floorDiv(int64(now.Sub(t0)), h.res))
	h.advNow = now
	h.dueSeq = make(map[int]uint64)
	h.fired = make(map[int]bool)
	h.lastTik = math.MinInt64
	for i, m := range h.m {
		if m.scheduled && !m.at.After(now) {
			h.dueSeq[i] = m.seq
		}
	}
	h.w.Advance(now, h.due)
	for i, seq := range h.dueSeq {
		if h.m[i].seq == seq && !h.fired[i] {
			h.tb.Fatalf("Advance(t0+%v) did not fire timer %d due at t0+%v", now.Sub(t0), i, h.m[i].at.Sub(t0))
		}
	}
	h.check()
}

func (h *wheelModel) due(t *Timer) {
	i := t.Value.(int)
	m := &h.m[i]
	switch seq, wasDue := h.dueSeq[i]; {
	case h.fired[i]:
		h.tb.Fatalf("Advance(t0+%v) fired timer %d twice", h.advNow.Sub(t0), i)
	case !wasDue:
		h.tb.Fatalf("Advance(t0+%v) fired timer %d, not due when it began (deadline t0+%v, scheduled %v)",
			h.advNow.Sub(t0), i, m.at.Sub(t0), m.scheduled)
	case seq != m.seq || !m.scheduled:
		h.tb.Fatalf("Advance(t0+%v) fired timer %d, cancelled or moved since it began", h.advNow.Sub(t0), i)
	case t.Scheduled():
		h.tb.Fatalf("timer %d is still Scheduled() in its callback", i)
	case m.tick < h.lastTik:
		h.tb.Fatalf("Advance(t0+%v) fired timer %d of tick %d after one of tick %d", h.advNow.Sub(t0), i, m.tick, h.lastTik)
	}
	h.lastTik = m.tick
	h.fired[i] = true
	m.scheduled = false
	for n := h.intn(3); n > 0; n-- {
		if h.intn(4) == 0 {
			h.schedule(i, h.randDeadline()) // the firing timer itself
		} else {
			h.mutate()
		}
	}
}

// check compares every timer's state with the model.
func (h *wheelModel) check() {
	n := 0
	for i := range h.timers {
		m := &h.m[i]
		if m.scheduled {
			n++
		}
		if got := h.timers[i].Scheduled(); got != m.scheduled {
			h.tb.Fatalf("timer %d: Scheduled() = %v; want %v", i, got, m.scheduled)
		}
		if got := h.timers[i].Deadline(); !got.Equal(m.at) {
			h.tb.Fatalf("timer %d: Deadline() = %v; want %v", i, got, m.at)
		}
	}
	if got := h.w.Len(); got != n {
		h.tb.Fatalf("Len() = %d; want %d", got, n)
	}
	// Until agrees with the earliest deadline, for limits within and past
	// a revolution.
	limit := time.Duration(h.intn(int(3*h.rev))) + 1
	want := limit
	for i := range h.m {
		if h.m[i].scheduled {
			want = min(want, max(h.m[i].at.Sub(h.now), 0))
		}
	}
	if got := h.w.Until(h.now, limit); got != want {
		h.tb.Fatalf("Until(now, %v) = %v; want %v", limit, got, want)
	}
}

func (h *wheelModel) step() {
	if h.intn(3) == 0 {
		h.advance(h.randNow())
	} else {
		h.mutate()
	}
}

func TestWheelRandomAgainstModel(t *testing.T) {
	for _, tc := range []struct {
		slots, timers int
		res           time.Duration
	}{
		{1, 10, ms(10)}, // every timer in one slot
		{8, 64, ms(10)},
		{64, 200, ms(10)},
		{16, 100, 7}, // a 7 ns resolution: deadlines land mid-slot
	} {
		for seed := uint64(1); seed <= 8; seed++ {
			rng := rand.New(rand.NewPCG(seed, uint64(tc.slots)))
			h := newWheelModel(t, func(n int) int { return rng.IntN(n) }, tc.res, tc.slots, tc.timers)
			for range 3000 {
				h.step()
			}
			// Drain: everything left fires once time passes all deadlines.
			h.advance(h.now.Add(time.Duration(20 * h.rev)))
		}
	}
}

// byteSource turns fuzz input into choices; exhausted, it answers 0.
type byteSource struct {
	b    []byte
	done bool
}

func (s *byteSource) intn(n int) int {
	if n <= 1 {
		return 0
	}
	if len(s.b) == 0 {
		s.done = true
		return 0
	}
	var buf [4]byte
	k := copy(buf[:], s.b)
	s.b = s.b[k:]
	return int(binary.LittleEndian.Uint32(buf[:]) % uint32(n))
}

// FuzzWheel drives the model comparison from fuzz input.
func FuzzWheel(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("schedule, cancel, advance: the wheel and the model must agree"))
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 255, 254, 253, 252, 251, 250})
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &byteSource{b: data}
		h := newWheelModel(t, src.intn, ms(10), 8, 16)
		for !src.done {
			h.step()
		}
		h.advance(h.now.Add(time.Duration(20 * h.rev)))
	})
}
