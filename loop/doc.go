// Package loop holds the two pieces of machinery that keep work off and on
// time around synthcast's event loops: a timing wheel that says what is due,
// and a worker pool that does the work. It knows nothing of audio, HTTP or
// sockets and imports only the standard library.
//
// # Wheel
//
// A Wheel is a hashed timing wheel (after Netty's HashedWheelTimer and
// nats-server's thw) of intrusive Timers: the caller embeds a Timer in its own
// struct, so Schedule, reschedule and Cancel are O(1) and allocate nothing,
// which suits timers that are moved far more often than they fire, such as a
// connection's idle timeout pushed back on every request. One level of slots,
// not a hierarchy: a timer more than a revolution away keeps its absolute tick
// and is passed over once per revolution, a comparison, until it is due.
//
// Time is a parameter. The Wheel never reads the clock: Advance(now, due)
// fires every timer whose deadline is not after now, so tests drive it with
// synthetic time, and a process stopped for minutes costs one sweep of the
// slots, not one step per missed tick. Until(now, limit) tells an owner that
// sleeps between Advances how long it may: to the next deadline, at most
// limit.
//
// Periodic work (a stream rendered every tick) reschedules its timer from the
// Advance callback with NextPeriod, which keeps the phase and skips missed
// periods. Timers created at scattered moments are spread over the period by
// their creation time; Wheel.Spread gives a hashed phase to timers created in
// a batch, so one period's work is not one burst.
//
// # Pool
//
// A Pool runs Jobs on a fixed number of worker goroutines from a bounded
// queue. Submit never blocks: a full queue is ErrPoolFull, for the caller to
// decide on. A Job is cancellable through an embedded Token: a worker skips a
// job cancelled while queued, and a running job checks between its units of
// work. Panics in jobs are recovered and counted; the worker lives on.
//
// # Invariants
//
//   - A Wheel and its Timers are not safe for concurrent use: one goroutine
//     owns them (an event loop), or every call is made under one lock. The
//     Advance callback runs on the calling goroutine and may Schedule and
//     Cancel, but not Advance.
//   - Schedule, Cancel and Advance in steady state allocate nothing.
//   - Pool methods and Token methods are safe from any goroutine. Submit never
//     blocks and allocates nothing for a pointer-shaped Job, so an event loop
//     may call it. Close waits for the queued jobs and must not be called from
//     a job.
//
// # Non-goals
//
// No clock, ticker or goroutine of the Wheel's own: the owner decides when to
// call Advance. No priorities, deadlines, results or retries in the Pool, no
// growing or shrinking of workers, and no blocking Submit: back-pressure is
// the caller's decision. No knowledge of what the work is.
package loop
