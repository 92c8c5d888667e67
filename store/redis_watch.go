package store

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
)

// Timing of Watch's connection.
const (
	// watchIdle is how long a subscription may stay silent before Watch
	// pings it: a dropped connection that no packet tells of (a network
	// partition, a dead host) is found within watchIdle plus Timeout.
	// go-redis's own PubSub.Channel checks every 3 s, likewise.
	watchIdle = 3 * time.Second
	// watchBackoffMin and watchBackoffMax bound the wait between attempts
	// to reach a Redis that refuses connections: quick to notice a restart,
	// at most one dial a second while it is down.
	watchBackoffMin = 50 * time.Millisecond
	watchBackoffMax = time.Second
)

// Watch subscribes to Prefix+"changes" and reports, until ctx ends or the
// store is closed: changed(key) for every key a write or delete published
// (by any node, this one included), and resync() each time the subscription
// is confirmed, first and after every reconnection. Pub/sub delivers at most
// once and keeps nothing for a subscriber that is away, so a caller re-reads
// everything it holds on resync(); after that, changed is called for every
// change published while the subscription lasts. A key may be reported
// more than once, and for a write the caller made itself.
//
// go-redis's PubSub reconnects and resubscribes by itself on the next read
// after its connection fails (go-redis#866), and Redis confirms every
// SUBSCRIBE with a subscription reply, which is what calls resync() here
// (the way go-redis#1070 was settled). Watch reads the PubSub itself rather
// than through PubSub.Channel, which drops a message its reader has not
// taken within a minute (go-redis#887, #2267) and so could lose a change
// without a resync. A subscription silent for watchIdle is pinged; one that
// does not answer within Timeout is closed and replaced, which resyncs.
// Context cancellation does not interrupt a go-redis read (go-redis#2556),
// so ctx's end closes the PubSub instead.
//
// Callbacks run on the goroutine that called Watch, one at a time; they
// must not block for long (messages wait in Redis's output buffer for this
// client meanwhile, and Redis drops a subscriber whose buffer grows past
// its client-output-buffer-limit, which Watch then sees as a reconnection).
// Watch returns nil when ctx ends, ErrClosed if the store is or gets
// closed. Several Watch calls may run at once, each with its own
// connection.
func (r *Redis) Watch(ctx context.Context, changed func(key string), resync func()) error {
	r.mu.RLock()
	if r.closed {
		r.mu.RUnlock()
		return ErrClosed
	}
	r.watching.Add(1)
	r.mu.RUnlock()
	defer r.watching.Done()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(r.unwatch, cancel)
	defer stop()
	for wctx.Err() == nil {
		r.subscription(wctx, changed, resync)
	}
	if ctx.Err() == nil {
		return ErrClosed
	}
	return nil
}

// subscription runs one PubSub until ctx ends or the PubSub goes silent
// (see Watch).
func (r *Redis) subscription(ctx context.Context, changed func(key string), resync func()) {
	// Subscribe sends SUBSCRIBE now if it can; if not, the first read dials
	// and subscribes. Its error is the first read's, too.
	ps := r.client.Subscribe(ctx, r.channel)
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()

	idle := watchIdle
	if r.hooks.watchIdle != 0 {
		idle = r.hooks.watchIdle
	}
	pinged := false
	backoff := time.Duration(0)
	for {
		wait := idle
		if pinged {
			wait = r.timeout
		}
		msg, err := ps.ReceiveTimeout(ctx, wait)
		if ctx.Err() != nil {
			return
		}
		var ne net.Error
		switch {
		case err == nil:
		case errors.As(err, &ne) && ne.Timeout():
			if pinged {
				return // silent past its ping: replace it
			}
			// A PING that cannot be written makes go-redis reconnect.
			pinged = ps.Ping(ctx) == nil
			continue
		default:
			// The connection failed (go-redis closed it; the next read dials
			// and resubscribes), or the dial did: wait a little.
			backoff = min(max(2*backoff, watchBackoffMin), watchBackoffMax)
			if !sleepCtx(ctx, backoff) {
				return
			}
			continue
		}
		pinged, backoff = false, 0
		switch msg := msg.(type) {
		case *redis.Subscription:
			if msg.Kind == "subscribe" {
				resync()
			}
		case *redis.Message:
			changed(msg.Payload)
		}
	}
}

// sleepCtx waits for d or until ctx ends, and reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
