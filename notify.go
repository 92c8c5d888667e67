package main

// The systemd notify protocol (sd_notify(3)), spoken with go-systemd's
// daemon package: READY=1 once the server serves, WATCHDOG=1 while its
// timing wheel advances, STATUS= a one-line summary, STOPPING=1 at shutdown.
// Outside systemd (NOTIFY_SOCKET unset) every call does nothing.

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/synthcast/synthcast/server"
)

const (
	// statusEvery is how often STATUS= is refreshed. `systemctl status` is
	// read by a person, for whom counts five seconds old are current; each
	// refresh is one datagram.
	statusEvery = 5 * time.Second

	// maxCheckEvery is the longest time between two looks at the wheel: a
	// stall is reported, and a wheel that moves again is pinged for, within
	// a second. A short watchdog checks more often (see checkEvery).
	maxCheckEvery = time.Second

	// minCheckEvery is the shortest: the wheel itself advances when a stream
	// timer is due and at least every 100 ms, so looking more often tells
	// little new.
	minCheckEvery = 10 * time.Millisecond

	// stallAfterNoWatchdog is how long the wheel may stand still before
	// STATUS= says so when systemd asked for no watchdog pings: half of the
	// unit's WatchdogSec=30s, the threshold the watchdog would use.
	stallAfterNoWatchdog = 15 * time.Second
)

// wheelSource is what the notifier watches: *server.Server.
type wheelSource interface {
	// LastAdvance is when the timing wheel last finished an advance, or the
	// zero time before the first.
	LastAdvance() time.Time
	Stats() server.Stats
}

// notifier speaks the notify protocol for main. Ready, Status and Stopping
// are safe from any goroutine; run (or tick) from one goroutine at a time.
// A notifier with a nil send, which systemdNotifier returns outside systemd,
// sends nothing and its run returns at once.
//
// The watchdog: while the wheel advances, WATCHDOG=1 goes every pingEvery
// (half of $WATCHDOG_USEC, as sd_watchdog_enabled(3) advises). Once the
// wheel has stood still for pingEvery, the pings stop and STATUS= says why,
// once; systemd then kills and restarts the service. When the wheel moves
// again, the pings resume at once.
type notifier struct {
	send      func(state string) error // one datagram to the service manager; nil: not under systemd
	log       *slog.Logger
	now       func() time.Time // run's clock; tick is given the time instead
	pingEvery time.Duration    // 0: systemd asked for no watchdog pings

	mu       sync.Mutex // orders datagrams, so that tick sends none after STOPPING=1
	stopping bool       // Stopping was called: tick sends nothing more
	failing  bool       // the last send failed; logged once until one succeeds

	// The loop's state, owned by the goroutine that calls tick.
	seen       time.Time // LastAdvance at the last check
	seenAt     time.Time // the check at which seen was first read: the wheel stood still since
	stalled    bool      // the stall was reported and pings are withheld
	nextPing   time.Time
	nextStatus time.Time
}

// systemdNotifier returns the notifier for this process: it sends to
// $NOTIFY_SOCKET with daemon.SdNotify and pings the watchdog when
// $WATCHDOG_USEC asks for it (and $WATCHDOG_PID, if set, is this process:
// daemon.SdWatchdogEnabled). Without $NOTIFY_SOCKET it does nothing. The
// variables are left set: synthcast starts no program that could inherit
// them.
func systemdNotifier(log *slog.Logger) *notifier {
	if os.Getenv("NOTIFY_SOCKET") == "" {
		return &notifier{log: log, now: time.Now}
	}
	wd, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		log.Warn("ignoring the systemd watchdog", "err", err)
		wd = 0
	}
	send := func(state string) error {
		_, err := daemon.SdNotify(false, state)
		return err
	}
	return newNotifier(send, log, time.Now, wd)
}

// newNotifier returns a notifier that sends with send, reads the time from
// now and pings a watchdog of timeout watchdog (0: none).
func newNotifier(send func(string) error, log *slog.Logger, now func() time.Time, watchdog time.Duration) *notifier {
	return &notifier{send: send, log: log, now: now, pingEvery: watchdog / 2}
}

// Ready tells systemd that the server serves: READY=1, with summary as its
// STATUS=. Call it once every listener accepts and the store is open.
func (n *notifier) Ready(summary string) { n.notify("READY=1\nSTATUS=" + oneLine(summary)) }

// Status sets the one-line status `systemctl status` shows.
func (n *notifier) Status(line string) { n.notify("STATUS=" + oneLine(line)) }

// Stopping tells systemd that the server is shutting down: STOPPING=1. The
// watchdog loop sends nothing after it.
func (n *notifier) Stopping() {
	if n.send == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.stopping = true
	n.sendLocked("STOPPING=1\nSTATUS=shutting down")
}

func (n *notifier) notify(state string) {
	if n.send == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sendLocked(state)
}

// sendLocked sends state; n.mu is held. A failure is logged once, until a
// send succeeds again: the service manager may be gone for good.
func (n *notifier) sendLocked(state string) {
	err := n.send(state)
	switch {
	case err != nil && !n.failing:
		n.log.Warn("notifying systemd", "err", err)
	case err == nil && n.failing:
		n.log.Info("notifying systemd works again")
	}
	n.failing = err != nil
}

// run checks src every checkEvery until ctx is done: it pings the watchdog
// and refreshes STATUS= (see tick). Outside systemd it returns at once.
func (n *notifier) run(ctx context.Context, src wheelSource) {
	if n.send == nil {
		return
	}
	t := time.NewTicker(n.checkEvery())
	defer t.Stop()
	for {
		n.tick(n.now(), src)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkEvery is run's period: maxCheckEvery, or a quarter of the watchdog
// timeout if that is shorter (but not below minCheckEvery), so that pings due
// every half of it are never sent more than three quarters of it apart.
func (n *notifier) checkEvery() time.Duration {
	if n.pingEvery == 0 {
		return maxCheckEvery
	}
	return max(minCheckEvery, min(maxCheckEvery, n.pingEvery/2))
}

// stallAfter is how long the wheel may stand still before its pings stop.
func (n *notifier) stallAfter() time.Duration {
	if n.pingEvery > 0 {
		return n.pingEvery
	}
	return stallAfterNoWatchdog
}

// tick is one check at now of a server that reports src: it notes whether
// the wheel advanced since the last check, reports a stall (once) or a
// recovery, pings the watchdog if a ping is due and the wheel moves, and
// refreshes STATUS= if due. The first tick pings at once; the first STATUS=
// comes statusEvery later, so Ready's line stays up that long.
//
// LastAdvance is only compared with the value read at the last check, never
// subtracted from now: the hub stamps it with the wall clock, which may be
// stepped (a step back would make a stopped wheel look fresh for as long as
// the step, a step forward a moving one look stopped), while now comes from
// run's monotonic clock.
func (n *notifier) tick(now time.Time, src wheelSource) {
	last := src.LastAdvance()
	if n.seenAt.IsZero() {
		n.nextStatus = now.Add(statusEvery)
	}
	if n.seenAt.IsZero() || !last.Equal(n.seen) {
		n.seen, n.seenAt = last, now
	}
	still := now.Sub(n.seenAt)

	n.mu.Lock()
	defer n.mu.Unlock()
	if n.send == nil || n.stopping {
		return
	}
	switch {
	case !n.stalled && still >= n.stallAfter():
		n.stalled = true
		msg := "the timing wheel has not advanced for " + still.String()
		if n.pingEvery > 0 {
			msg += "; watchdog pings withheld"
		}
		n.log.Error(msg)
		n.sendLocked("STATUS=stalled: " + msg)
	case n.stalled && still < n.stallAfter():
		n.stalled = false
		n.log.Warn("the timing wheel advances again")
		n.nextStatus = now
	}
	if n.stalled {
		return
	}
	if n.pingEvery > 0 && !now.Before(n.nextPing) {
		n.sendLocked("WATCHDOG=1")
		n.nextPing = now.Add(n.pingEvery)
	}
	if !now.Before(n.nextStatus) {
		n.sendLocked("STATUS=" + statusLine(src.Stats()))
		n.nextStatus = now.Add(statusEvery)
	}
}

// statusLine is the one-line summary of st that STATUS= carries, e.g.
// "12 streams, 340 listeners, 3 rendering; since start: 0 dropped, 2 late".
func statusLine(st server.Stats) string {
	b := make([]byte, 0, 96)
	b = appendCount(b, int64(st.Streams), "stream")
	b = append(b, ", "...)
	b = appendCount(b, st.Listeners, "listener")
	b = append(b, ", "...)
	b = strconv.AppendInt(b, st.Sessions, 10)
	b = append(b, " rendering; since start: "...)
	b = strconv.AppendInt(b, st.Dropped, 10)
	b = append(b, " dropped, "...)
	b = strconv.AppendInt(b, st.Late, 10)
	b = append(b, " late"...)
	return string(b)
}

// appendCount appends "1 noun" or "n nouns".
func appendCount(b []byte, n int64, noun string) []byte {
	b = strconv.AppendInt(b, n, 10)
	b = append(b, ' ')
	b = append(b, noun...)
	if n != 1 {
		b = append(b, 's')
	}
	return b
}

// oneLine makes s one protocol line: a newline would start a new assignment.
func oneLine(s string) string {
	return strings.NewReplacer("\n", " ", "\r", " ").Replace(s)
}
