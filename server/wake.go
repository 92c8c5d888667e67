package server

import (
	"context"
	"sync"

	"github.com/panjf2000/gnet/v2"
)

// Waking the connections whose changes a commit completed. One group commit
// answers dozens of connections at once; a gnet Wake each would be a trigger
// (an eventfd write and a loop wake-up) per connection. Instead each event
// loop has a queue: the store's callback appends the connection and, if the
// queue was empty, hands the loop one task that answers every connection
// queued by the time it runs, as audio fan-out does with one Execute per loop.

// wakeQueue is one event loop's connections to answer.
type wakeQueue struct {
	s     *transport
	el    gnet.EventLoop
	mu    sync.Mutex
	conns []*conn // mu
	spare []*conn // the task's, swapped with conns: loop only
}

// wake queues c, whose change completed, to be answered on its loop. Any
// goroutine.
func (s *transport) wake(c *conn) {
	q := s.wakeQueue(c)
	q.mu.Lock()
	q.conns = append(q.conns, c)
	first := len(q.conns) == 1
	q.mu.Unlock()
	if first {
		if err := q.el.Execute(bgCtx, q); err != nil {
			_ = c.gc.Wake(nil) // the engine is stopping: the slow way, or nothing
		}
	}
}

// Run answers every connection queued: on the loop, as OnTraffic would when
// woken. Loop goroutine only.
func (q *wakeQueue) Run(context.Context) error {
	q.mu.Lock()
	conns := q.conns
	q.conns = q.spare[:0]
	q.mu.Unlock()
	for i, c := range conns {
		if !c.closed {
			if action := q.s.OnTraffic(c.gc); action == gnet.Close {
				_ = c.gc.Close()
			}
		}
		conns[i] = nil
	}
	q.spare = conns[:0]
	return nil
}

// wakeQueue returns the queue of c's loop, made on first use. Called from
// the store's callbacks for c, which come one at a time (one change in
// flight per connection), so c.wq needs no lock.
func (s *transport) wakeQueue(c *conn) *wakeQueue {
	if c.wq != nil {
		return c.wq
	}
	el := c.gc.EventLoop()
	i := s.loopIndex(el)
	s.loopsMu.Lock()
	defer s.loopsMu.Unlock()
	for len(s.wakeQs) <= i {
		s.wakeQs = append(s.wakeQs, nil)
	}
	if s.wakeQs[i] == nil {
		s.wakeQs[i] = &wakeQueue{s: s, el: el}
	}
	c.wq = s.wakeQs[i]
	return c.wq
}
