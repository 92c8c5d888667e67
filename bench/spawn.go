package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Waits of a server run.
const (
	// stopWait is how long a server sent SIGTERM may take to exit (its store
	// drains its queue and closes first) before it is sent SIGKILL.
	stopWait = 30 * time.Second
	// healthzPoll is the pause between two /healthz attempts while the
	// server does not answer yet.
	healthzPoll = time.Millisecond
	// logTailLines is how many of a server's last log lines an error quotes.
	logTailLines = 8
	// maxLogLine bounds one log line; a longer one ends the parsing (the
	// rest of the log is still drained, so the server never blocks on it).
	maxLogLine = 64 << 10
)

// What the server logs at start (log/slog's text form):
//
//	msg="streams loaded" streams=100000 expired=0 took=812ms
//	msg=listening addr=127.0.0.1:40123 loops=2
var (
	logListeningRE = regexp.MustCompile(`\bmsg=listening addr=(127\.\d+\.\d+\.\d+:\d+)\b`)
	logLoadedRE    = regexp.MustCompile(`\bmsg="streams loaded" streams=(\d+) expired=(\d+) took=(\S+)`)
)

// loadFigures is what the server says of its start-up load.
type loadFigures struct {
	seen    bool
	streams int
	expired int
	took    time.Duration
}

// parseLoadLine reads a "streams loaded" log line; ok is false for any other
// line.
func parseLoadLine(line string) (f loadFigures, ok bool) {
	m := logLoadedRE.FindStringSubmatch(line)
	if m == nil {
		return f, false
	}
	var err1, err2, err3 error
	f.streams, err1 = strconv.Atoi(m[1])
	f.expired, err2 = strconv.Atoi(m[2])
	f.took, err3 = time.ParseDuration(m[3])
	if errors.Join(err1, err2, err3) != nil {
		return loadFigures{}, false
	}
	f.seen = true
	return f, true
}

// serverRun is one run of the server binary, from exec to exit. A goroutine
// reads its log (stdout and stderr) to the end, picking out the bound
// address and the load figures, so the server never blocks on a full pipe.
type serverRun struct {
	cmd     *exec.Cmd
	started time.Time     // just before exec
	addr    chan string   // the bound address, sent once
	exited  chan struct{} // closed once the process has exited and its log is drained
	waitErr error         // the exit status; read only after exited is closed

	mu         sync.Mutex
	load       loadFigures
	listenedAt time.Time // when the "listening" line was read
	tail       []string  // the last logTailLines lines

	stopOnce sync.Once
	stopTook time.Duration
	stopErr  error
}

// spawnServer execs bin with args. The child gets SIGTERM if this process
// dies first (Pdeathsig), so an interrupted run leaves no server behind;
// every other path ends with stop.
func spawnServer(bin string, args []string) (*serverRun, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = pw, pw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	r := &serverRun{cmd: cmd, addr: make(chan string, 1), exited: make(chan struct{})}
	r.started = time.Now()
	err = cmd.Start()
	pw.Close() // the child holds its own copy
	if err != nil {
		pr.Close()
		return nil, err
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		r.readLog(pr)
		pr.Close()
	}()
	go func() {
		err := cmd.Wait()
		<-logDone
		r.waitErr = err
		close(r.exited)
	}()
	return r, nil
}

// readLog consumes the server's log until EOF.
func (r *serverRun) readLog(rd io.Reader) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 4096), maxLogLine)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		r.mu.Lock()
		if len(r.tail) == logTailLines {
			r.tail = append(r.tail[:0], r.tail[1:]...)
		}
		r.tail = append(r.tail, line)
		if f, ok := parseLoadLine(line); ok {
			r.load = f
		}
		m := logListeningRE.FindStringSubmatch(line)
		if m != nil && !sent {
			r.listenedAt = time.Now()
		}
		r.mu.Unlock()
		if m != nil && !sent {
			sent = true
			r.addr <- m[1]
		}
	}
	_, _ = io.Copy(io.Discard, rd)
}

// logTail returns the server's last log lines, for an error message.
func (r *serverRun) logTail() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.tail, "\n")
}

// serving is what waitServing saw of a start.
type serving struct {
	addr       string
	listening  time.Duration // exec to the "listening" log line
	ready      time.Duration // exec to the first 200 from /healthz
	streams    int           // "streams" in that answer
	load       loadFigures   // the server's own "streams loaded" figures
	rssKiB     int64         // the server's VmRSS just after
	rssErr     error
	healthBody []byte // the first 200 answer of /healthz
}

// waitServing waits until the server logs its address and answers
// GET /healthz with a 200, at most until ctx ends.
func (r *serverRun) waitServing(ctx context.Context) (serving, error) {
	var s serving
	select {
	case s.addr = <-r.addr:
	case <-r.exited:
		return s, fmt.Errorf("the server exited before listening (%v):\n%s", r.waitErr, r.logTail())
	case <-ctx.Done():
		return s, fmt.Errorf("no address logged: %w\n%s", ctx.Err(), r.logTail())
	}
	u := "http://" + s.addr + "/healthz"
	for {
		body, err := getOK(ctx, u)
		if err == nil {
			s.ready = time.Since(r.started)
			s.healthBody = body
			break
		}
		select {
		case <-r.exited:
			return s, fmt.Errorf("the server exited before answering /healthz (%v):\n%s", r.waitErr, r.logTail())
		case <-ctx.Done():
			return s, fmt.Errorf("/healthz did not answer 200: %w (last: %v)", ctx.Err(), err)
		case <-time.After(healthzPoll):
		}
	}
	setupClient.CloseIdleConnections()
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", r.cmd.Process.Pid)); err != nil {
		s.rssErr = err
	} else {
		s.rssKiB, s.rssErr = parseVmRSS(st)
	}
	var err error
	if s.streams, err = healthStreams(s.healthBody); err != nil {
		return s, err
	}
	r.mu.Lock()
	s.listening = r.listenedAt.Sub(r.started)
	s.load = r.load
	r.mu.Unlock()
	return s, nil
}

// stop sends the server SIGTERM (by its PID) and waits for it to exit,
// sending SIGKILL after stopWait. It returns how long the exit took and an
// error unless the server exited with status 0 on SIGTERM. Safe to call more
// than once: later calls return the first one's answer.
func (r *serverRun) stop() (time.Duration, error) {
	r.stopOnce.Do(func() {
		t0 := time.Now()
		select {
		case <-r.exited:
			r.stopErr = fmt.Errorf("the server had exited already (%v):\n%s", r.waitErr, r.logTail())
			return
		default:
		}
		if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			r.stopErr = err
		}
		select {
		case <-r.exited:
			r.stopTook = time.Since(t0)
			if r.waitErr != nil && r.stopErr == nil {
				r.stopErr = fmt.Errorf("the server exited with %v on SIGTERM:\n%s", r.waitErr, r.logTail())
			}
		case <-time.After(stopWait):
			_ = r.cmd.Process.Kill()
			<-r.exited
			r.stopTook = time.Since(t0)
			r.stopErr = fmt.Errorf("the server ignored SIGTERM for %v: killed", stopWait)
		}
	})
	return r.stopTook, r.stopErr
}
