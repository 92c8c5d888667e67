package main

// End-to-end: the real server binary, built as it ships, on 127.0.0.1:0,
// measured by this command's modes run in process.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	serverOnce sync.Once
	serverBin  string
	serverErr  error
)

// buildServer builds the synthcast binary once per test run.
func buildServer(t *testing.T) string {
	t.Helper()
	serverOnce.Do(func() {
		dir, err := os.MkdirTemp("", "synthcast-bench")
		if err != nil {
			serverErr = err
			return
		}
		serverBin = filepath.Join(dir, "synthcast")
		out, err := exec.Command("go", "build", "-o", serverBin, "github.com/synthcast/synthcast").CombinedOutput()
		if err != nil {
			serverErr = err
			serverBin = string(out)
		}
	})
	if serverErr != nil {
		t.Fatalf("building synthcast: %v\n%s", serverErr, serverBin)
	}
	return serverBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if serverBin != "" && serverErr == nil {
		os.RemoveAll(filepath.Dir(serverBin))
	}
	os.Exit(code)
}

var listenRE = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:\d+)`)

// startServer runs synthcast on 127.0.0.1:0, its streams in memory, until
// the test ends and returns its base URL and PID.
func startServer(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(buildServer(t), append([]string{"-listen", "127.0.0.1:0", "-admin-listen", "", "-store", "memory"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	var logsMu sync.Mutex
	addrc := make(chan string, 1)
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logsMu.Lock()
			logs.WriteString(sc.Text() + "\n")
			logsMu.Unlock()
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { <-copied; _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			logsMu.Lock()
			t.Logf("server log:\n%s", logs.String())
			logsMu.Unlock()
		}
	})
	select {
	case addr := <-addrc:
		return "http://" + addr, cmd.Process.Pid
	case <-time.After(20 * time.Second):
		t.Fatal("synthcast did not report its address")
	}
	return "", 0
}

// runJSON runs the command with args and decodes its last stdout line.
func runJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, args, &stdout, &stderr); err != nil {
		t.Fatalf("bench %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	last := lines[len(lines)-1]
	if err := json.Unmarshal([]byte(last), v); err != nil {
		t.Fatalf("last line %q: %v", last, err)
	}
	if testing.Verbose() {
		io.WriteString(os.Stderr, stderr.String())
	}
}

func TestEndToEndListen(t *testing.T) {
	t.Parallel()
	base, pid := startServer(t)
	var rep listenReport
	runJSON(t, &rep, "listen", "-url", base, "-streams", "2", "-n", "20", "-ramp", "500ms", "-duration", "3s",
		"-per-source", "15", "-pid", strconv.Itoa(pid))
	if rep.SourceAddrs != 2 {
		t.Errorf("source addresses = %d; want 2 (15 connections each)", rep.SourceAddrs)
	}
	if rep.OK != 20 || rep.Failed != 0 || rep.ClosedEarly != 0 {
		t.Errorf("ok, failed, closed early = %d, %d, %d; want 20, 0, 0 (%v)", rep.OK, rep.Failed, rep.ClosedEarly, rep.Reasons)
	}
	if rep.StalledListeners != 0 || rep.StallEvents != 0 || rep.SyncLosses != 0 || rep.SkippedBytes != 0 {
		t.Errorf("stalled, stall events, sync losses, skipped = %d, %d, %d, %d; want 0",
			rep.StalledListeners, rep.StallEvents, rep.SyncLosses, rep.SkippedBytes)
	}
	// The server keeps each listener [prebuffer, prebuffer+tick] = [1, 1.5] s
	// ahead, measured from a first byte that may come up to a frame into
	// the session's current frame, and ticks may come late by the
	// housekeeping period (100 ms).
	if rep.LeadListeners != 20 || rep.LeadS.Min < 0.5 || rep.LeadS.Max > 2 {
		t.Errorf("lead = %+v s over %d listeners; want within [0.5, 2] s for 20", rep.LeadS, rep.LeadListeners)
	}
	if rep.BurstS.Min < 0.5 {
		t.Errorf("burst = %+v s; want at least 0.5 s", rep.BurstS)
	}
	if want := 20 * 3.0; rep.ListenerS < want*0.95 || rep.ListenerS > want*1.01 {
		t.Errorf("listener-seconds = %v; want about %v", rep.ListenerS, want)
	}
	if s := rep.Server; s == nil || s.Error != "" || s.RSSKiB <= 0 || s.CPUS <= 0 {
		t.Errorf("server figures = %+v; want CPU and RSS", s)
	}
}

// TestEndToEndListenICY: with -icy the real server's blocks pass the
// layout check, one title per listener and none changed, and the audio
// between them walks without a loss.
func TestEndToEndListenICY(t *testing.T) {
	t.Parallel()
	base, _ := startServer(t)
	var rep listenReport
	runJSON(t, &rep, "listen", "-url", base, "-streams", "2", "-n", "10", "-ramp", "200ms", "-duration", "3s", "-icy")
	if rep.OK != 10 || rep.Failed != 0 || rep.ClosedEarly != 0 {
		t.Errorf("ok, failed, closed early = %d, %d, %d; want 10, 0, 0 (%v)", rep.OK, rep.Failed, rep.ClosedEarly, rep.Reasons)
	}
	if rep.SyncLosses != 0 || rep.SkippedBytes != 0 || rep.StallEvents != 0 {
		t.Errorf("sync losses, skipped, stall events = %d, %d, %d; want 0", rep.SyncLosses, rep.SkippedBytes, rep.StallEvents)
	}
	// 128 kbit/s is 16,000 bytes a second: a block a second of audio, and
	// each listener gets 3 s and a lead of at least 0.5 s (the check below).
	if m := rep.ICY; m == nil || m.MetaInt != 16000 || m.BadBlocks != 0 || m.Titles != 10 || m.TitleChanges != 0 || m.Blocks < 30 {
		t.Errorf("icy = %+v; want metaint 16000, no bad block, 10 titles, no change, at least 30 blocks", m)
	}
	if rep.LeadListeners != 10 || rep.LeadS.Min < 0.5 || rep.LeadS.Max > 2 {
		t.Errorf("lead = %+v s over %d listeners; want within [0.5, 2] s for 10", rep.LeadS, rep.LeadListeners)
	}
}

func TestEndToEndControl(t *testing.T) {
	t.Parallel()
	base, _ := startServer(t)
	for _, args := range [][]string{
		{"-route", "set_param", "-c", "8"},
		{"-route", "set_param", "-c", "4", "-pipeline", "8"},
	} {
		var rep controlReport
		runJSON(t, &rep, append([]string{"control", "-url", base, "-duration", "1s"}, args...)...)
		if rep.Requests < 100 || rep.Non2xx != 0 || rep.Errors != 0 || rep.LatencyMs.P50 <= 0 {
			t.Errorf("control %v: requests %d, non-2xx %d, errors %d, latency %+v; want some, 0, 0, > 0",
				args, rep.Requests, rep.Non2xx, rep.Errors, rep.LatencyMs)
		}
	}
	// Creating streams past the server's limit: exactly the limit succeed,
	// the rest are counted as non-2xx (503).
	const limit = 300
	base, _ = startServer(t, "-max-streams", strconv.Itoa(limit))
	var rep controlReport
	runJSON(t, &rep, "control", "-url", base, "-route", "create", "-c", "4", "-duration", "500ms")
	if rep.Requests-rep.Non2xx != limit || rep.Errors != 0 {
		t.Errorf("create: requests %d, non-2xx %d, errors %d; want %d successes, no errors", rep.Requests, rep.Non2xx, rep.Errors, limit)
	}
}

func TestEndToEndLatency(t *testing.T) {
	t.Parallel()
	base, _ := startServer(t)
	var rep latencyReport
	runJSON(t, &rep, "latency", "-url", base, "-n", "2", "-settle", "200ms")
	if len(rep.Reps) != 2 || rep.Timeouts != 0 || rep.Error != "" || rep.SyncLosses != 0 || rep.Unknown != 0 {
		t.Fatalf("latency report %+v; want 2 repetitions, no timeout, error or loss", rep)
	}
	// set_param is heard after prebuffer to prebuffer + tick (1 to 1.5 s),
	// plus a frame or two for the encoder's overlap.
	for _, r := range rep.Reps {
		if r.HeardMs < 500 || r.HeardMs > 2000 || r.ArrivalMs > r.HeardMs {
			t.Errorf("to %s: heard %v ms, arrived %v ms; want heard within [500, 2000] ms, after arrival", r.To, r.HeardMs, r.ArrivalMs)
		}
	}
}
