package loop

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Wheel geometry. A Wheel covers Resolution × Slots of time in one revolution;
// a timer further away than that stays in its slot and is passed over (one
// comparison) on each revolution until its turn comes.
const (
	// DefaultResolution is the slot width NewWheel uses when given zero.
	// 10 ms is fine enough for connection timeouts (10 s, 60 s) to be exact to
	// within 0.1%, and for the 500 ms render tick to be spread over 50 slots,
	// yet coarse enough that an Advance every resolution costs one slot.
	DefaultResolution = 10 * time.Millisecond

	// DefaultSlots is the slot count NewWheel uses when given zero: with
	// DefaultResolution one revolution is 5.12 s, so a 500 ms period never
	// wraps, a 10 s header timeout is passed over once and a 60 s idle timeout
	// eleven times, at 8 bytes of memory per slot.
	DefaultSlots = 512

	// MaxSlots bounds a Wheel's slot array (8 MiB) and the cost of the one
	// sweep over every slot that an Advance after a long jump makes.
	MaxSlots = 1 << 20
)

// A Timer is an entry of a Wheel. Its zero value is an unscheduled timer ready
// for use. It is intrusive: the caller owns the memory, typically by embedding
// a Timer in the struct the timer is about, so scheduling, rescheduling and
// cancelling link and unlink it in O(1) and allocate nothing.
//
// A Timer must not be copied after first use. It belongs to one Wheel at a time
// and follows that Wheel's concurrency rule: its methods, like the Wheel's, are
// for the goroutine that owns the Wheel.
type Timer struct {
	_ noCopy

	next  *Timer
	pprev **Timer // the pointer that points at this timer: a slot head, the firing head or the previous timer's next
	w     *Wheel  // the wheel this timer is scheduled on; nil when not scheduled
	when  int64   // deadline in nanoseconds since w.epoch
	tick  int64   // the tick it is filed under: max(when/res, w.cur at scheduling)
	at    time.Time

	// Value is the caller's: typically a pointer back to the struct that embeds
	// the Timer, so that the Advance callback can find it. Storing a pointer
	// does not allocate. The Wheel never reads or writes it.
	Value any
}

// Scheduled reports whether t is scheduled on a Wheel: it was scheduled and
// has been neither fired nor cancelled since.
func (t *Timer) Scheduled() bool { return t.w != nil }

// Deadline returns the time last passed to Schedule for t, whether or not t is
// still scheduled, or the zero Time if t was never scheduled. Inside the
// Advance callback it is the deadline that fired, the base for the next one
// of a periodic timer (see NextPeriod).
func (t *Timer) Deadline() time.Time { return t.at }

// link files t at the head of the list *head.
func (t *Timer) link(head **Timer) {
	t.next = *head
	if t.next != nil {
		t.next.pprev = &t.next
	}
	t.pprev = head
	*head = t
}

// unlink takes t out of the list it is on.
func (t *Timer) unlink() {
	*t.pprev = t.next
	if t.next != nil {
		t.next.pprev = t.pprev
	}
	t.next, t.pprev = nil, nil
}

// A Wheel is a hashed timing wheel: a ring of Slots lists, each Resolution
// wide, of intrusive Timers. A timer due in tick k (k = (deadline − start) /
// Resolution) is filed in slot k mod Slots and keeps k, so a timer more than
// one revolution away is simply passed over until the revolution of k comes
// (the "rounds" of Netty's HashedWheelTimer, kept as an absolute tick).
//
// Cost: Schedule, Cancel and rescheduling are O(1) and allocation-free.
// Advance costs one step per slot it crosses — at most Slots, however far time
// jumped — plus one per timer filed in those slots, due or not, plus a sort of
// the due timers after a jump of more than a revolution; an Advance that stays
// within the tick of the previous one and finds nothing due is O(1). Call Advance about once per Resolution: less often makes timers late,
// more often buys nothing.
//
// A Wheel never reads the clock: every time is a parameter, and times are
// compared with time.Time.Sub, so pass times from one clock (all from
// time.Now, or all synthetic in tests).
//
// A Wheel is not safe for concurrent use: the goroutine that owns it (an event
// loop, or any goroutine holding the lock that guards it) makes every call on
// it and on its Timers.
type Wheel struct {
	_ noCopy

	epoch   time.Time // tick 0 starts here
	res     int64     // slot width, ns
	mask    int64     // len(slots) − 1
	slots   []*Timer
	cur     int64       // the tick the last Advance reached; every scheduled timer has tick ≥ cur
	curMin  int64       // lower bound of the deadlines filed at tick cur (math.MaxInt64 if none)
	n       int         // scheduled timers, including those collected and not yet fired
	fire    *Timer      // timers the running Advance found due, in firing order
	firing  bool        // Advance is running callbacks
	scratch []sortEntry // sortFiring's buffer, empty between calls
}

// NewWheel returns an empty Wheel whose time starts at now. A zero resolution
// or slots selects DefaultResolution or DefaultSlots; slots is rounded up to a
// power of two. NewWheel panics if either is negative or slots exceeds
// MaxSlots.
func NewWheel(now time.Time, resolution time.Duration, slots int) *Wheel {
	if resolution < 0 || slots < 0 || slots > MaxSlots {
		panic("loop: NewWheel: resolution or slots out of range")
	}
	if resolution == 0 {
		resolution = DefaultResolution
	}
	if slots == 0 {
		slots = DefaultSlots
	}
	n := 1
	for n < slots {
		n <<= 1
	}
	return &Wheel{
		epoch:  now,
		res:    int64(resolution),
		mask:   int64(n - 1),
		slots:  make([]*Timer, n),
		curMin: math.MaxInt64,
	}
}

// Resolution returns the width of one slot: the granularity of firing order.
func (w *Wheel) Resolution() time.Duration { return time.Duration(w.res) }

// Len returns the number of timers scheduled on w, counting those that the
// running Advance has found due but not yet fired.
func (w *Wheel) Len() int { return w.n }

// since returns the nanoseconds from w's epoch to t, saturated at the int64
// range by time.Time.Sub.
func (w *Wheel) since(t time.Time) int64 { return int64(t.Sub(w.epoch)) }

// tickOf returns the tick of a time since w's epoch, never before w.cur.
func (w *Wheel) tickOf(d int64) int64 {
	if d >= 0 {
		if k := d / w.res; k > w.cur {
			return k
		}
	}
	return w.cur
}

// Schedule sets t to fire at the first Advance whose now is not before at.
// If t is already scheduled on w it is moved: it fires once, at the new
// deadline. A deadline already past is legal and fires at the next Advance.
// Called from the Advance callback, Schedule never makes t fire within that
// same Advance, whatever at is; this is how a periodic timer reschedules
// itself (see NextPeriod).
//
// Schedule panics if t is scheduled on another Wheel.
func (w *Wheel) Schedule(t *Timer, at time.Time) {
	switch t.w {
	case nil:
		w.n++
	case w:
		t.unlink()
	default:
		panic("loop: Wheel.Schedule: timer is scheduled on another Wheel")
	}
	when := w.since(at)
	tick := w.tickOf(when)
	t.w, t.at, t.when, t.tick = w, at, when, tick
	t.link(&w.slots[tick&w.mask])
	if tick == w.cur && when < w.curMin {
		w.curMin = when
	}
}

// Cancel unschedules t and reports whether it was scheduled on w. Cancelling a
// timer that has fired, was never scheduled or was already cancelled is a
// no-op returning false, as is one scheduled on another Wheel. Called from the
// Advance callback, Cancel stops a timer that the same Advance found due but
// has not fired yet: it will not fire.
func (w *Wheel) Cancel(t *Timer) bool {
	if t.w != w || w == nil {
		return false
	}
	t.unlink()
	t.w = nil
	w.n--
	return true
}

// Advance moves w's time to now and calls due, on the calling goroutine, once
// for every timer whose deadline is not after now. Each due timer is
// unscheduled just before its call, so due may schedule it again.
//
// Precision: a timer never fires before its deadline, and fires at the first
// Advance whose now is at or after it (not rounded to the resolution), so with
// Advance called every Resolution a timer fires at most one Resolution late.
//
// Order: timers fire in deadline order to the resolution: a timer whose
// deadline falls in an earlier slot interval fires first; timers of one
// interval fire in an unspecified order. A timer scheduled with a deadline
// before the interval of the last Advance counts as due in that interval.
//
// The callback may Schedule and Cancel any timer of w, the firing one
// included. A timer scheduled or rescheduled during an Advance waits for the
// next one, even if already due, so a callback cannot keep an Advance busy for
// ever; a timer found due but cancelled or moved before its turn does not fire.
// due must not call Advance (Advance panics if it does). If due panics, the
// panic propagates and the timers not fired yet stay scheduled, due at the
// next Advance.
//
// Time may jump: after a long stall Advance sweeps each slot once, not once
// per elapsed tick, and sorts what it found, so it costs O(Slots + k log k)
// for k due timers. Time may go back: nothing fires that is not due at the
// earlier now, and w keeps its position.
func (w *Wheel) Advance(now time.Time, due func(*Timer)) {
	if w.firing {
		panic("loop: Wheel.Advance called from its own callback")
	}
	d := w.since(now)
	to := w.tickOf(d)
	if to == w.cur && d < w.curMin {
		return // nothing in the current slot is due yet
	}
	if w.n == 0 {
		w.cur, w.curMin = to, math.MaxInt64
		return
	}

	from, sorted := w.cur, true
	if to-from > w.mask {
		// More than one revolution: visit each slot once, at its last tick
		// not after to. Timers of several revolutions meet in one slot, so
		// the collected list is sorted afterwards.
		from, sorted = to-w.mask, false
	}
	tail := &w.fire
	w.curMin = math.MaxInt64
	for tick := from; tick <= to; tick++ {
		for t := w.slots[tick&w.mask]; t != nil; {
			next := t.next
			if t.tick <= tick && t.when <= d {
				t.unlink()
				t.pprev, *tail, tail = tail, t, &t.next
			} else if t.tick == to && t.when < w.curMin {
				w.curMin = t.when
			}
			t = next
		}
	}
	w.cur = to
	if w.fire == nil {
		return
	}
	if !sorted {
		w.sortFiring()
	}

	w.firing = true
	defer w.endFiring()
	for w.fire != nil {
		t := w.fire
		t.unlink()
		t.w = nil
		w.n--
		due(t)
	}
}

// Until returns how long after now the owner may wait before its next
// Advance has a timer to fire, at most limit: zero if a timer is due at now
// already, the time to the earliest deadline if one falls within limit of
// now, else limit. An owner that sleeps between Advances uses it to wake for
// the next deadline instead of every Resolution.
//
// It sees only the timers scheduled when it is called: a timer scheduled
// afterwards with a deadline before now+Until is not waited for, and fires
// at the first Advance after it. So an owner whose timers are always
// scheduled at least some horizon ahead passes a limit within that horizon,
// or calls Until again after each Schedule.
//
// Cost: one step per slot from the current one to now+limit (at most Slots)
// plus one per timer filed there; it allocates nothing. Not from the Advance
// callback.
func (w *Wheel) Until(now time.Time, limit time.Duration) time.Duration {
	if limit <= 0 {
		return 0
	}
	if w.n == 0 {
		return limit
	}
	d := w.since(now)
	end := d + int64(limit)
	if end < d { // overflow near the end of the range
		end = math.MaxInt64
	}
	best := end
	// A timer due before end is filed at a tick in [cur, tickOf(end)]: visit
	// those slots (each once, if that is more than a revolution) and take the
	// least deadline met. best starts at end, so a timer met there that is
	// due later (one of a later revolution) changes nothing.
	to := min(w.tickOf(end), w.cur+w.mask)
	for tick := w.cur; tick <= to; tick++ {
		for t := w.slots[tick&w.mask]; t != nil; t = t.next {
			best = min(best, t.when)
		}
	}
	if best <= d {
		return 0
	}
	return time.Duration(best - d)
}

// endFiring ends an Advance's callbacks. If a callback panicked, the timers
// still on the firing list go back to the current slot, due at the next
// Advance.
func (w *Wheel) endFiring() {
	w.firing = false
	for w.fire != nil {
		t := w.fire
		t.unlink()
		t.tick = w.cur
		t.link(&w.slots[w.cur&w.mask])
		w.curMin = min(w.curMin, t.when)
	}
}

// sortFiring sorts the firing list by deadline. The list's order is copied
// into w.scratch as (deadline, timer) pairs, sorted there, and relinked: a sort
// of the list in place would chase cold pointers O(k log k) times, a hundred
// times slower at 100,000 timers. scratch keeps its capacity, so only a jump
// with more timers on the wheel than any before allocates.
func (w *Wheel) sortFiring() {
	s := w.scratch[:0]
	if cap(s) < w.n {
		s = make([]sortEntry, 0, w.n) // k ≤ n: one allocation, not a growth series
	}
	for t := w.fire; t != nil; t = t.next {
		s = append(s, sortEntry{t.when, t})
	}
	slices.SortFunc(s, func(a, b sortEntry) int { return cmp.Compare(a.when, b.when) })
	p := &w.fire
	for _, e := range s {
		*p, e.t.pprev = e.t, p
		p = &e.t.next
	}
	*p = nil
	clear(s) // hold no caller memory
	w.scratch = s[:0]
}

type sortEntry struct {
	when int64
	t    *Timer
}

// Spread returns a first deadline for a timer of the given period that
// recurs at a phase chosen by key: the earliest time after now (and at most
// one period after it) whose offset from w's start, modulo period, is a hash
// of key. Timers given distinct keys are spread evenly over the period, and
// so over its slots, even if they are all scheduled at one moment (at
// start-up, or when a registry is restored), so the work of one period is not
// one burst; the same key always gets the same phase.
//
// Spread is not needed when timers are created at scattered moments:
// scheduling each at now.Add(period) spreads them by their creation time.
// Either way, keep the phase afterwards by rescheduling from the deadline that
// fired, with NextPeriod. Spread panics if period is not positive.
func (w *Wheel) Spread(now time.Time, period time.Duration, key uint64) time.Time {
	if period <= 0 {
		panic("loop: Wheel.Spread: non-positive period")
	}
	p := int64(period)
	phase := int64(mix64(key) % uint64(p))
	d := w.since(now)
	// The offset x of the next phase point after d: x ≡ phase (mod p), d < x ≤ d+p.
	r := (d%p - phase) % p // in (−p, p): no overflow near the ends of the range
	if r < 0 {
		r += p
	}
	return now.Add(time.Duration(p - r))
}

// NextPeriod returns the next deadline of a periodic timer whose last deadline
// was prev: prev + k·period for the least k ≥ 1 that is after now. Periods
// missed during a stall are skipped, not fired in a burst, and the phase is
// kept. In an Advance callback: w.Schedule(t, NextPeriod(t.Deadline(), now, p)).
// NextPeriod panics if period is not positive.
func NextPeriod(prev, now time.Time, period time.Duration) time.Time {
	if period <= 0 {
		panic("loop: NextPeriod: non-positive period")
	}
	next := prev.Add(period)
	if next.After(now) {
		return next
	}
	return next.Add(now.Sub(next) / period * period).Add(period)
}

// mix64 is the SplitMix64 finaliser: a bijection that spreads sequential keys.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// noCopy lets go vet's copylocks check report copies of the structs that
// embed it, whose intrusive links must not be duplicated.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
