package main

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseConfigPrecedence(t *testing.T) {
	env := map[string]string{
		"SYNTHCAST_LISTEN":         "127.0.0.1:9000",
		"SYNTHCAST_HEADER_TIMEOUT": "3s",
		"SYNTHCAST_MAX_STREAMS":    "7",
	}
	o, err := parseConfig([]string{"-max-streams", "9"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg := o.cfg
	if cfg.Listen != "127.0.0.1:9000" || cfg.HeaderTimeout != 3*time.Second || cfg.MaxStreams != 9 {
		t.Errorf("parseConfig = listen %q header-timeout %v max-streams %d; want 127.0.0.1:9000 3s 9 (flag over env)",
			cfg.Listen, cfg.HeaderTimeout, cfg.MaxStreams)
	}
}

func TestParseConfigErrors(t *testing.T) {
	none := func(string) string { return "" }
	for _, args := range [][]string{
		{"-max-streams", "-1"},
		{"-tick", "1ms"},
		{"-listen", "nope"},
		{"-bogus"},
		{"extra"},
		{"-store", "sqlite"},
		{"-data-dir", ""},
		{"-log-format", "xml"},
		{"-node-name", "a b"},
		{"-store", "redis:/nope"},
		{"-shutdown-timeout", "0s"},
		{"-admin-listen", "127.0.0.1:8000"},
		{"-admin-listen", "nope"},
	} {
		if _, err := parseConfig(args, none); !errors.Is(err, errUsage) {
			t.Errorf("parseConfig(%q) = %v; want a usage error", args, err)
		}
	}
	bad := func(k string) string {
		if k == "SYNTHCAST_IDLE_TIMEOUT" {
			return "soon"
		}
		return ""
	}
	if _, err := parseConfig(nil, bad); !errors.Is(err, errUsage) {
		t.Errorf("parseConfig with SYNTHCAST_IDLE_TIMEOUT=soon = %v; want a usage error", err)
	}
}

// Streams live in $STATE_DIRECTORY under systemd, else ./data; -data-dir wins.
func TestDataDirDefault(t *testing.T) {
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"", nil, "data"},
		{"/var/lib/synthcast", nil, "/var/lib/synthcast"},
		{"/var/lib/a:/var/lib/b", nil, "/var/lib/a"},
		{"/var/lib/synthcast", []string{"-data-dir", "/srv/x"}, "/srv/x"},
	} {
		o, err := parseConfig(tc.args, func(k string) string {
			if k == "STATE_DIRECTORY" {
				return tc.env
			}
			return ""
		})
		if err != nil || o.store.dir != tc.want || o.store.kind != "bolt" {
			t.Errorf("parseConfig(%q) with STATE_DIRECTORY=%q = dir %q kind %q, %v; want %q bolt", tc.args, tc.env, o.store.dir, o.store.kind, err, tc.want)
		}
	}
}

// -store redis://… names a shared store; the URL is kept as given.
func TestParseConfigRedis(t *testing.T) {
	o, err := parseConfig([]string{"-store", "redis://127.0.0.1:6379/2", "-node-name", "a"}, func(string) string { return "" })
	if err != nil || o.store.kind != "redis" || o.store.url != "redis://127.0.0.1:6379/2" || o.cfg.NodeName != "a" {
		t.Fatalf("parseConfig = %+v, %v", o.store, err)
	}
	if got := redactURL("redis://:secret@127.0.0.1:6379/0"); strings.Contains(got, "secret") {
		t.Errorf("redactURL kept the password: %q", got)
	}
}

// setProcs gives the runtime a processor for every event loop and every
// render worker, resolving zero to one per CPU as the runtime counts them.
func TestSetProcs(t *testing.T) {
	cpus := startProcs
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, tc := range []struct{ loops, workers, wantLoops, wantWorkers int }{
		{0, 0, cpus, cpus},
		{0, 3, cpus, 3},
		{5, 0, 5, cpus},
		{1, 1, 1, 1},
	} {
		l, w := setProcs(tc.loops, tc.workers)
		if l != tc.wantLoops || w != tc.wantWorkers || runtime.GOMAXPROCS(0) != l+w {
			t.Errorf("setProcs(%d, %d) = %d, %d with GOMAXPROCS %d; want %d, %d with %d",
				tc.loops, tc.workers, l, w, runtime.GOMAXPROCS(0), tc.wantLoops, tc.wantWorkers, tc.wantLoops+tc.wantWorkers)
		}
	}
}
