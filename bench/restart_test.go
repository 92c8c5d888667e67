package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseRestart(t *testing.T) {
	tests := []struct {
		args []string
		ok   bool
	}{
		{[]string{"-bin", "x"}, true},
		{[]string{"-bin", "x", "-streams", "100000", "-restarts", "3", "-server-args", "-loops 2 -log-level=warn"}, true},
		{[]string{"-bin", ""}, false},
		{[]string{"-streams", "0"}, false},
		{[]string{"-streams", "1000001"}, false},
		{[]string{"-restarts", "0"}, false},
		{[]string{"-restarts", "21"}, false},
		{[]string{"-c", "0"}, false},
		{[]string{"-pipeline", "1025"}, false},
		{[]string{"-timeout", "2h"}, false},
		{[]string{"-server-args", "-listen 0.0.0.0:80"}, false},
		{[]string{"-server-args", "--store=memory"}, false},
		{[]string{"-server-args", "-data-dir=/"}, false},
		{[]string{"stray"}, false},
	}
	for _, tt := range tests {
		_, err := parseRestart(tt.args, io.Discard)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, errUsage)) {
			t.Errorf("parseRestart(%q) = %v; want ok %v (or a usage error)", tt.args, err, tt.ok)
		}
	}
}

func TestParseLoadLine(t *testing.T) {
	tests := []struct {
		line string
		want loadFigures
	}{
		{`time=2026-11-26T20:57:05.794Z level=INFO msg="streams loaded" streams=100000 expired=3 took=812ms`,
			loadFigures{true, 100000, 3, 812 * time.Millisecond}},
		{`time=2026-11-26T20:57:05.794Z level=INFO msg="streams loaded" streams=1 expired=0 took=0s`,
			loadFigures{true, 1, 0, 0}},
		{`time=2026-11-26T20:57:05.794Z level=INFO msg="streams loaded" streams=1 expired=0 took=1.5s`,
			loadFigures{true, 1, 0, 1500 * time.Millisecond}},
		{`level=INFO msg="streams loaded" streams=1 expired=0 took=soon`, loadFigures{}},
		{`level=INFO msg=listening addr=127.0.0.1:40123 loops=2`, loadFigures{}},
	}
	for _, tt := range tests {
		got, ok := parseLoadLine(tt.line)
		if got != tt.want || ok != tt.want.seen {
			t.Errorf("parseLoadLine(%q) = %+v, %v; want %+v", tt.line, got, ok, tt.want)
		}
	}
}

func TestListeningLine(t *testing.T) {
	tests := []struct{ line, want string }{
		{`time=… level=INFO msg=listening addr=127.0.0.1:40123 loops=2`, "127.0.0.1:40123"},
		{`time=… level=INFO msg=listening addr=0.0.0.0:80 loops=2`, ""}, // not loopback: never dialled
		{`time=… level=INFO msg="streams loaded" streams=1 expired=0 took=0s`, ""},
	}
	for _, tt := range tests {
		got := ""
		if m := logListeningRE.FindStringSubmatch(tt.line); m != nil {
			got = m[1]
		}
		if got != tt.want {
			t.Errorf("address in %q = %q; want %q", tt.line, got, tt.want)
		}
	}
}

// TestEndToEndRestart runs the mode against the real binary: every stream
// created comes back at each restart, and the figures are filled in.
func TestEndToEndRestart(t *testing.T) {
	t.Parallel()
	bin := buildServer(t)
	dir := filepath.Join(t.TempDir(), "data")
	const n = 300
	var rep restartReport
	runJSON(t, &rep, "restart", "-bin", bin, "-streams", "300", "-restarts", "2", "-c", "4", "-pipeline", "8",
		"-data-dir", dir, "-timeout", "1m")
	if rep.Create.Created != n || rep.Create.Non2xx != 0 {
		t.Errorf("created %d, non-2xx %d; want %d, 0", rep.Create.Created, rep.Create.Non2xx, n)
	}
	if len(rep.Restarts) != 2 {
		t.Fatalf("%d restarts reported; want 2", len(rep.Restarts))
	}
	for i, r := range rep.Restarts {
		if r.Loaded != n || r.Served != n || r.Expired != 0 {
			t.Errorf("restart %d: loaded %d, served %d, expired %d; want %d, %d, 0", i, r.Loaded, r.Served, r.Expired, n, n)
		}
		// Serving comes after listening, which comes after the load (whose
		// own figure the server rounds to the millisecond).
		if r.ListeningMs <= 0 || r.ServingMs < r.ListeningMs || r.LoadMs > r.ListeningMs+1 {
			t.Errorf("restart %d: load %v ms, listening %v ms, serving %v ms; want 0 < load ≤ listening ≤ serving", i, r.LoadMs, r.ListeningMs, r.ServingMs)
		}
		if r.RSSKiB <= 0 || r.StopMs <= 0 {
			t.Errorf("restart %d: RSS %d KiB, stop %v ms; want both > 0", i, r.RSSKiB, r.StopMs)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, restartDataFile))
	if err != nil {
		t.Fatalf("the data directory was not kept: %v", err)
	}
	if rep.DataFileBytes != fi.Size() || rep.BytesPerStream != round3(float64(fi.Size())/n) {
		t.Errorf("data file %d bytes, %v per stream; want %d, %v", rep.DataFileBytes, rep.BytesPerStream, fi.Size(), round3(float64(fi.Size())/n))
	}
	if !strings.Contains(rep.Server, "-data-dir DATA") || strings.Contains(rep.Server, dir) {
		t.Errorf("server = %q; want the data directory shown as DATA", rep.Server)
	}

	// A second run over the same directory is refused: it is not empty.
	err = run(t.Context(), []string{"restart", "-bin", bin, "-streams", "10", "-data-dir", dir, "-json"}, io.Discard, io.Discard)
	if !errors.Is(err, errUsage) {
		t.Errorf("restart over a used data directory: %v; want a usage error", err)
	}
}

// TestRestartServerFails: a server that exits at once is reported, not
// waited for until the timeout.
func TestRestartServerFails(t *testing.T) {
	t.Parallel()
	start := time.Now()
	err := run(t.Context(), []string{"restart", "-bin", "/bin/false", "-streams", "10", "-json", "-timeout", "30s"}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "exited before listening") {
		t.Errorf("restart with /bin/false = %v; want an error saying the server exited", err)
	}
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %v to notice; want at once", el)
	}
}
