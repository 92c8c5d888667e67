package loop_test

import (
	"fmt"
	"time"

	"github.com/synthcast/synthcast/loop"
)

// A stream rendered every tick: its Timer is embedded, Value points back to
// it, and the callback reschedules it from the deadline that fired.
func ExampleWheel_periodic() {
	type stream struct {
		name  string
		timer loop.Timer
	}
	const tick = 500 * time.Millisecond
	start := time.Unix(0, 0) // in the server: time.Now()
	w := loop.NewWheel(start, 10*time.Millisecond, 512)

	a, b := &stream{name: "a"}, &stream{name: "b"}
	a.timer.Value, b.timer.Value = a, b
	w.Schedule(&a.timer, start.Add(tick))                           // attached at start
	w.Schedule(&b.timer, start.Add(120*time.Millisecond).Add(tick)) // attached 120 ms later

	now := start
	render := func(t *loop.Timer) {
		s := t.Value.(*stream)
		fmt.Printf("%v: render %s\n", now.Sub(start), s.name)
		w.Schedule(t, loop.NextPeriod(t.Deadline(), now, tick))
	}
	for range 130 { // 1.3 s, one Advance per resolution
		now = now.Add(10 * time.Millisecond)
		w.Advance(now, render)
	}
	// Output:
	// 500ms: render a
	// 620ms: render b
	// 1s: render a
	// 1.12s: render b
}

// A connection's idle timeout, pushed back on every request and cancelled on
// close: O(1) each, no allocation.
func ExampleWheel_timeout() {
	type conn struct {
		id   int
		idle loop.Timer
	}
	const keepAlive = 60 * time.Second
	start := time.Unix(0, 0)
	w := loop.NewWheel(start, 0, 0) // the defaults: 10 ms × 512 slots

	c1, c2 := &conn{id: 1}, &conn{id: 2}
	c1.idle.Value, c2.idle.Value = c1, c2
	w.Schedule(&c1.idle, start.Add(keepAlive))
	w.Schedule(&c2.idle, start.Add(keepAlive))

	w.Schedule(&c1.idle, start.Add(30*time.Second).Add(keepAlive)) // c1 sent a request at 30 s
	w.Advance(start.Add(61*time.Second), func(t *loop.Timer) {
		fmt.Printf("close idle conn %d\n", t.Value.(*conn).id)
	})
	w.Cancel(&c1.idle) // c1 closed by its peer
	fmt.Println("timers left:", w.Len())
	// Output:
	// close idle conn 2
	// timers left: 0
}

// renderJob renders a stream in frames; the embedded Token makes it
// cancellable, and submitting the pointer allocates nothing.
type renderJob struct {
	loop.Token
	frames, done int
}

func (j *renderJob) Run() {
	for i := 0; i < j.frames && !j.Cancelled(); i++ {
		j.done++ // render and encode one frame
	}
}

func ExamplePool() {
	p := loop.NewPool(2, 64)
	kept, dropped := &renderJob{frames: 19}, &renderJob{frames: 19}
	dropped.Cancel() // its last listener left before it ran
	for _, j := range []*renderJob{kept, dropped} {
		if err := p.Submit(j); err != nil {
			fmt.Println("submit:", err) // ErrPoolFull: skip this tick, count it
		}
	}
	p.Close()
	s := p.Stats()
	fmt.Printf("kept rendered %d frames, dropped %d; ran %d, skipped %d\n", kept.done, dropped.done, s.Ran, s.Skipped)
	// Output: kept rendered 19 frames, dropped 0; ran 1, skipped 1
}
