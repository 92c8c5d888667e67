package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// crashChildEnv, when set to a directory, turns the test binary into the
// writer that TestBoltCrash kills.
const crashChildEnv = "STORE_CRASH_CHILD_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(crashChildEnv); dir != "" {
		os.Exit(crashChild(dir))
	}
	code := m.Run()
	if prepDir != "" {
		os.RemoveAll(prepDir)
	}
	os.Exit(code)
}

// Child side. crashWriters goroutines each own a key, "w<i>", and put its
// next version, wait for Done and print "ack w<i> <version>"; every tenth
// version they also create a new key, "w<i>-<version>", and ack it at
// version 1. A record's value is its key and version, so a reader can tell
// a torn record from a sound one. The child ends by itself after
// crashChildLimit, should its parent die without killing it.
const (
	crashWriters    = 8
	crashChildLimit = time.Minute
)

func crashValue(key string, version uint64) []byte {
	return fmt.Appendf(nil, "%s@%d", key, version)
}

func crashChild(dir string) int {
	s, err := OpenBolt(dir, BoltOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	versions := make(map[string]uint64)
	if err := s.Load(func(r Record) error { versions[r.Key] = r.Version; return nil }); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 2
	}
	fmt.Println("ready")
	deadline := time.Now().Add(crashChildLimit)
	var mu sync.Mutex // one ack line per write(2)
	ack := func(key string, version uint64) {
		mu.Lock()
		fmt.Fprintf(os.Stdout, "ack %s %d\n", key, version)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	for w := range crashWriters {
		key := fmt.Sprintf("w%d", w)
		version := versions[key]
		wg.Add(1)
		go func() {
			defer wg.Done()
			done := make(chan *Op, 1)
			write := func(op *Op) bool {
				op.Done = func(op *Op) { done <- op }
				s.Write(op)
				if op := <-done; op.Err != nil {
					fmt.Fprintln(os.Stderr, "child:", op.Err)
					return false
				}
				ack(op.Key, op.Version)
				return true
			}
			for time.Now().Before(deadline) {
				version++
				if !write(&Op{Key: key, Value: crashValue(key, version), Version: version}) {
					os.Exit(3)
				}
				if version%10 == 0 {
					k := fmt.Sprintf("%s-%d", key, version)
					if !write(&Op{Key: k, Value: crashValue(k, 1), Version: 1}) {
						os.Exit(3)
					}
				}
			}
		}()
	}
	wg.Wait()
	return 0
}

// TestBoltCrash runs a child process that writes continuously and prints
// each acknowledged version, kills it with SIGKILL at a different point in
// each cycle, reopens the store and checks that every acknowledged version
// is there (the stored version is at least the acknowledged one, as writes
// after the last ack may have landed too) and that every record is sound.
// The next cycle's child goes on from what it finds. SIGKILL tests a crashed
// process, not a lost page cache: the kernel still writes out what it has.
func TestBoltCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	acked := make(map[string]uint64)
	for cycle := range 5 {
		kill := 100 + 150*cycle // acks to wait for before the kill
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+dir)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		record := func(line string) {
			f := strings.Fields(line)
			if len(f) != 3 || f[0] != "ack" {
				if line != "ready" {
					t.Errorf("cycle %d: child printed %q", cycle, line)
				}
				return
			}
			v, err := strconv.ParseUint(f[2], 10, 64)
			if err != nil {
				t.Fatalf("cycle %d: child printed %q", cycle, line)
			}
			acked[f[1]] = max(acked[f[1]], v)
		}
		timeout := time.After(2 * doneTimeout)
		for n := 0; n < kill; {
			select {
			case line, ok := <-lines:
				if !ok {
					cmd.Wait()
					t.Fatalf("cycle %d: child exited after %d acks: %s", cycle, n, stderr.String())
				}
				if line == "ready" && cycle == 0 {
					// While the child runs, the directory is locked.
					if s, err := OpenBolt(dir, BoltOptions{LockTimeout: 10 * time.Millisecond}); !errors.Is(err, ErrLocked) {
						if s != nil {
							s.Close()
						}
						t.Errorf("OpenBolt while the child has the store = %v; want ErrLocked", err)
					}
				}
				record(line)
				if strings.HasPrefix(line, "ack ") {
					n++
				}
			case <-timeout:
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("cycle %d: %d acks not printed within %v: %s", cycle, kill, 2*doneTimeout, stderr.String())
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		for line := range lines { // acks printed before the kill count too
			record(line)
		}
		cmd.Wait()

		s, err := OpenBolt(dir, BoltOptions{})
		if err != nil {
			t.Fatalf("cycle %d: reopening after the kill: %v", cycle, err)
		}
		stored := make(map[string]uint64)
		err = s.Load(func(r Record) error {
			if want := crashValue(r.Key, r.Version); !bytes.Equal(r.Value, want) {
				return fmt.Errorf("record %s v%d holds %q; want %q", r.Key, r.Version, r.Value, want)
			}
			stored[r.Key] = r.Version
			return nil
		})
		if cerr := s.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		for k, v := range acked {
			if stored[k] < v {
				t.Fatalf("cycle %d: %s acknowledged at version %d, stored at %d", cycle, k, v, stored[k])
			}
		}
		t.Logf("cycle %d: %d keys acknowledged, all there", cycle, len(acked))
	}
}
