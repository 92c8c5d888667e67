package store

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// redisStartTimeout bounds the wait for a redis-server to answer PING
// after its start: an empty one takes a few milliseconds, one replaying an
// AOF of a few thousand writes a few more.
const redisStartTimeout = 10 * time.Second

// redisServer is a redis-server a test started on a loopback port, with a
// directory of its own. It is stopped by its PID (never by name) at the end
// of the test, and can be killed and restarted on the same port and
// directory meanwhile.
type redisServer struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	conf []string // configuration after the defaults (later ones win)
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has exited
}

// startRedis starts a redis-server configured for speed (no RDB snapshots,
// no AOF) and then by conf, e.g. "--appendonly", "yes". It skips the test
// if redis-server is not installed, unless CI is "true", where that fails.
func startRedis(tb testing.TB, conf ...string) *redisServer {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("redis-server is not installed (make deps installs it): %v", err)
		}
		tb.Skipf("redis-server is not installed (apt-get install redis-server, or make deps): %v", err)
	}
	s := &redisServer{tb: tb, bin: bin, dir: tb.TempDir(), conf: conf}
	tb.Cleanup(s.kill)
	// The port is free when picked but may be taken before redis-server
	// binds it: pick another, a few times.
	for attempt := 1; ; attempt++ {
		s.port = freePort(tb)
		err := s.start()
		if err == nil {
			return s
		}
		if attempt == 3 {
			tb.Fatal(err)
		}
		tb.Logf("starting redis-server, attempt %d: %v", attempt, err)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// url is what OpenRedis takes.
func (s *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// addr is the server's host:port.
func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// start runs redis-server on s.port and s.dir and waits until it answers.
func (s *redisServer) start() error {
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--logfile", "redis.log",
		"--daemonize", "no",
		"--save", "",
		"--appendonly", "no",
	}
	s.cmd = exec.Command(s.bin, append(args, s.conf...)...)
	if err := s.cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	s.done = done
	go func(cmd *exec.Cmd) {
		cmd.Wait()
		close(done)
	}(s.cmd)
	deadline := time.Now().Add(redisStartTimeout)
	for {
		if s.ping() {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server on port %d exited at start: %s", s.port, s.logTail())
		case <-time.After(10 * time.Millisecond): // polling another process: no event to wait on
		}
		if time.Now().After(deadline) {
			s.kill()
			return fmt.Errorf("redis-server on port %d did not answer within %v: %s", s.port, redisStartTimeout, s.logTail())
		}
	}
}

// ping reports whether the server answers PING with PONG (not LOADING).
func (s *redisServer) ping() bool {
	c, err := net.DialTimeout("tcp", s.addr(), time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "+PONG\r\n"
}

// kill sends SIGKILL to the server's process, if it runs, and waits for it
// to exit.
func (s *redisServer) kill() {
	if s.cmd == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	if err := s.cmd.Process.Kill(); err != nil {
		s.tb.Errorf("killing redis-server (pid %d): %v", s.cmd.Process.Pid, err)
	}
	<-s.done
}

// signal sends sig to the server's process (SIGSTOP, SIGCONT).
func (s *redisServer) signal(sig syscall.Signal) {
	s.tb.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.tb.Fatalf("signal %v to redis-server (pid %d): %v", sig, s.cmd.Process.Pid, err)
	}
}

// restart starts the server again on the same port and directory, after a
// kill.
func (s *redisServer) restart() {
	s.tb.Helper()
	s.kill()
	if err := s.start(); err != nil {
		s.tb.Fatal(err)
	}
}

// logTail is the end of the server's log, for a failure message.
func (s *redisServer) logTail() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}
