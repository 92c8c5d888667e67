package main

// End-to-end tests of the durable store: restarts, kill -9 under load, and
// start-up faults, on the real binary.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// proc is a synthcast process the test kills or stops itself.
type proc struct {
	*instance
	exited chan error
}

// launch starts the binary with args on 127.0.0.1:0 and waits for its
// address; the caller ends it (kill9 or stop). It is killed at the test's
// end if still running.
func launch(t *testing.T, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binPath, testArgs(t, args)...)
	logs := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(logs, pw)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", binPath, err)
	}
	p := &proc{instance: &instance{cmd: cmd, logs: logs}, exited: make(chan error, 1)}
	addrc := make(chan [2]string, 1)
	go scanAddrs(pr, addrc)
	go func() { p.exited <- cmd.Wait(); pw.Close() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case a := <-addrc:
		p.addr, p.admin = a[0], a[1]
	case err := <-p.exited:
		t.Fatalf("synthcast exited before listening: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("synthcast did not report its address in 30 s\n%s", logs.String())
	}
	return p
}

// kill9 kills p with SIGKILL and waits for it.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// stop ends p with SIGTERM and checks it exits cleanly.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("synthcast exited with %v on SIGTERM\n%s", err, p.logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("synthcast did not stop within 15 s of SIGTERM")
	}
}

// runFails runs the binary with args, expects it to exit non-zero within
// 20 s, and returns what it printed.
func runFails(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(binPath, testArgs(t, args)...)
	done := make(chan struct{})
	var out []byte
	var err error
	go func() { out, err = cmd.CombinedOutput(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("synthcast %q still running after 20 s; want a refusal to start\n%s", args, out)
	}
	if err == nil {
		t.Fatalf("synthcast %q exited 0; want a refusal to start\n%s", args, out)
	}
	return string(out)
}

// A stream and its parameters survive a clean restart.
func TestE2ERestartKeepsStreams(t *testing.T) {
	dir := t.TempDir()
	p := launch(t, "-data-dir", dir)
	id := p.create(t, "?mode=melody")
	if r := p.get(t, "/set_param?id="+id+"&tempo=90&scale=minor"); r.status != 200 {
		t.Fatalf("set_param = %d %s", r.status, r.raw)
	}
	p.stop(t)
	p = launch(t, "-data-dir", dir)
	defer p.stop(t)
	r := p.get(t, "/params?id="+id)
	if r.status != 200 || r.body["params"] == nil {
		t.Fatalf("/params after restart = %d %s; want 200", r.status, r.raw)
	}
	params := r.body["params"].(map[string]any)
	if params["tempo"] != 90.0 || params["scale"] != "minor" || params["mode"] != "melody" {
		t.Errorf("params after restart = %v; want tempo 90, scale minor, mode melody", params)
	}
}

// kill -9 at random moments under /set_param and /create_stream load loses
// nothing acknowledged: after each restart every stream answers with its
// last acknowledged value, or the one in flight at the kill.
func TestE2ECrashLosesNothingAcknowledged(t *testing.T) {
	const (
		cycles  = 10
		writers = 4
	)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	type state struct {
		id        string
		acked     uint64 // last seed acknowledged
		inFlight  uint64 // seed sent, not yet answered (0: none)
		createdOK []string
	}
	states := make([]*state, writers)
	p := launch(t, "-data-dir", dir)
	for i := range states {
		states[i] = &state{id: p.create(t, "?seed=1"), acked: 1}
	}
	totalAcked := 0
	for cycle := range cycles {
		var wg sync.WaitGroup
		var stop atomic.Bool
		var acks atomic.Int64
		for _, s := range states {
			wg.Add(1)
			go func() {
				defer wg.Done()
				client := &http.Client{Timeout: 5 * time.Second}
				for n := 0; !stop.Load() && n < 100000; n++ {
					if n%16 == 15 { // now and then a create
						resp, err := client.Get(p.url("/create_stream"))
						if err != nil {
							return
						}
						var body struct{ ID string }
						derr := json.NewDecoder(resp.Body).Decode(&body)
						resp.Body.Close()
						if derr == nil && resp.StatusCode == 200 {
							s.createdOK = append(s.createdOK, body.ID)
							acks.Add(1)
						}
						continue
					}
					next := s.acked + 1
					s.inFlight = next
					resp, err := client.Get(p.url(fmt.Sprintf("/set_param?id=%s&seed=%d", s.id, next)))
					if err != nil {
						return // killed mid-request: next stays in flight
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						t.Errorf("set_param = %d", resp.StatusCode)
						return
					}
					s.acked, s.inFlight = next, 0
					acks.Add(1)
				}
			}()
		}
		time.Sleep(time.Duration(100+rng.IntN(400)) * time.Millisecond) // the random moment of the kill
		p.kill9(t)
		stop.Store(true)
		wg.Wait()
		totalAcked += int(acks.Load())

		p = launch(t, "-data-dir", dir)
		for _, s := range states {
			r := p.get(t, "/params?id="+s.id)
			if r.status != 200 {
				t.Fatalf("cycle %d: /params of %s = %d after kill -9", cycle, s.id, r.status)
			}
			got := uint64(r.body["params"].(map[string]any)["seed"].(float64))
			switch {
			case got == s.acked:
			case s.inFlight != 0 && got == s.inFlight:
				s.acked = got // it was committed; the answer was lost with the process
			default:
				t.Fatalf("cycle %d: seed of %s = %d after kill -9; acknowledged %d (in flight %d)", cycle, s.id, got, s.acked, s.inFlight)
			}
			s.inFlight = 0
			for _, id := range s.createdOK {
				if r := p.get(t, "/params?id="+id); r.status != 200 {
					t.Fatalf("cycle %d: acknowledged stream %s lost after kill -9: %d", cycle, id, r.status)
				}
			}
		}
	}
	p.stop(t)
	if totalAcked < cycles*writers {
		t.Errorf("only %d changes acknowledged over %d cycles: the load did not run", totalAcked, cycles)
	}
	t.Logf("%d acknowledged changes over %d kill -9 cycles, none lost", totalAcked, cycles)
}

// Faults at start: the server refuses, saying what is wrong, and never
// starts empty over data it could not read.
func TestE2EStoreStartFaults(t *testing.T) {
	t.Run("corrupt data file", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "synthcast.db"), []byte(strings.Repeat("not a database ", 1000)), 0o600); err != nil {
			t.Fatal(err)
		}
		out := runFails(t, "-data-dir", dir)
		if !strings.Contains(out, "synthcast.db") || !strings.Contains(out, "corrupt") {
			t.Errorf("start over a corrupt file printed %q; want the file named and 'corrupt'", out)
		}
	})
	t.Run("second process", func(t *testing.T) {
		dir := t.TempDir()
		p := launch(t, "-data-dir", dir)
		defer p.stop(t)
		out := runFails(t, "-data-dir", dir)
		if !strings.Contains(out, "in use by another process") {
			t.Errorf("a second process on the data directory printed %q; want it refused as in use", out)
		}
	})
	t.Run("data dir is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		out := runFails(t, "-data-dir", filepath.Join(f, "data"))
		if !strings.Contains(out, f) {
			t.Errorf("start with an impossible data dir printed %q; want the path named", out)
		}
	})
	t.Run("missing dir is created", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "a", "b")
		p := launch(t, "-data-dir", dir)
		p.stop(t)
		if _, err := os.Stat(filepath.Join(dir, "synthcast.db")); err != nil {
			t.Errorf("data file not created in a missing dir: %v", err)
		}
	})
}

// A full disk during operation: the change that cannot be stored is a 503
// with a JSON error and Retry-After, the stream keeps its parameters and
// keeps playing, and the server recovers by itself once space returns.
// It needs a small filesystem of its own: a tmpfs, mounted as root.
func TestE2EDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", mnt).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", mnt).Run() })
	p := launch(t, "-data-dir", filepath.Join(mnt, "data"), "-max-streams", "1000000")
	defer func() { p.stop(t) }() // the p of the end, after the restart
	id := p.create(t, "?mode=melody")
	if r := p.get(t, "/set_param?id="+id+"&tempo=90"); r.status != 200 {
		t.Fatalf("set_param = %d", r.status)
	}
	sr := dialStream(t, p.addr, id, 0)
	sr.readHead(t)

	// Fill the filesystem.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for range 64 { // 4 MiB at most: the tmpfs holds 1
		if _, err := f.Write(chunk); err != nil {
			break
		}
	}
	f.Close()

	// Write until the store runs out of room.
	var full apiResp
	created := []string{id}
	for i := range 20000 {
		r := p.get(t, "/create_stream")
		if r.status == 503 {
			full = r
			break
		}
		if r.status != 200 {
			t.Fatalf("create %d = %d %s", i, r.status, r.raw)
		}
		created = append(created, r.body["id"].(string))
	}
	if full.status != 503 {
		t.Fatalf("20000 creates on a full 1 MiB filesystem all succeeded")
	}
	if full.body["error"] == nil || full.header.Get("Retry-After") == "" {
		t.Errorf("503 on a full disk: body %s, Retry-After %q; want a JSON error and Retry-After", full.raw, full.header.Get("Retry-After"))
	}
	r := p.get(t, "/set_param?id="+id+"&tempo=150&scale=minor")
	if r.status != 503 && r.status != 200 {
		t.Fatalf("set_param on a full disk = %d %s; want 503 (or 200 if the store had a free page)", r.status, r.raw)
	}
	want := 90.0
	if r.status == 200 {
		want = 150
	}
	if got := p.get(t, "/params?id="+id).body["params"].(map[string]any)["tempo"]; got != want {
		t.Errorf("tempo after a set_param answered %d on a full disk = %v; want %v", r.status, got, want)
	}
	// The stream plays on: in 2 s a real-time listener gets ~2 s more.
	sr.readFor(t, time.Now().Add(100*time.Millisecond), nil) // what queued while the disk filled
	before := sr.audio
	sr.readFor(t, time.Now().Add(2*time.Second), nil)
	if got := sr.audio - before; got < 1.5 {
		t.Errorf("listener got %.2f s of audio in 2 s while the disk was full; want it served in real time", got)
	}

	// Space returns: the server recovers by itself.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	ok := false
	for range 50 {
		if r := p.get(t, "/set_param?id="+id+"&tempo=75"); r.status == 200 {
			ok = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !ok {
		t.Fatalf("set_param still failing after space returned")
	}
	p.stop(t)
	p = launch(t, "-data-dir", filepath.Join(mnt, "data"), "-max-streams", "1000000")
	for _, c := range created {
		if r := p.get(t, "/params?id="+c); r.status != 200 {
			t.Fatalf("acknowledged stream %s lost after the disk filled: %d", c, r.status)
		}
	}
	if got := p.get(t, "/params?id="+id).body["params"].(map[string]any)["tempo"]; got != 75.0 {
		t.Errorf("tempo after restart = %v; want 75", got)
	}
}

// Pipelined changes are answered in order, each once durable, and a read
// pipelined behind a change sees it; whole, and one byte at a time.
func TestE2EPipelinedChangesInOrder(t *testing.T) {
	p := start(t) // the durable store, in a directory of the test's
	id := p.create(t, "")
	req := ""
	for i := 2; i <= 6; i++ {
		req += fmt.Sprintf("GET /set_param?id=%s&seed=%d HTTP/1.1\r\nHost: x\r\n\r\n", id, i)
		req += fmt.Sprintf("GET /params?id=%s HTTP/1.1\r\nHost: x\r\n\r\n", id)
	}
	req += "GET /create_stream?seed=99 HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
	for _, chunk := range []int{0, 1} {
		got, closed := rawExchange(t, p.addr, req, chunk)
		if !closed {
			t.Fatalf("chunk %d: connection not closed after Connection: close", chunk)
		}
		br := bufio.NewReader(strings.NewReader(got))
		for i := 2; i <= 6; i++ {
			for _, what := range []string{"set_param", "params"} {
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					t.Fatalf("chunk %d: response to %s #%d: %v\n%s", chunk, what, i, err, got)
				}
				var body struct{ Params struct{ Seed int } }
				if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.Params.Seed != i {
					t.Fatalf("chunk %d: %s #%d = %d seed %d (%v); want 200 seed %d, in order", chunk, what, i, resp.StatusCode, body.Params.Seed, err, i)
				}
			}
		}
		for _, want := range []string{"create_stream", "healthz"} {
			resp, err := http.ReadResponse(br, nil)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("chunk %d: response to %s: %v %v", chunk, want, resp, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
		}
	}
}
