package main

import (
	"errors"
	"testing"
	"time"
)

func TestParseConfigPrecedence(t *testing.T) {
	env := map[string]string{
		"SYNTHCAST_LISTEN":         "127.0.0.1:9000",
		"SYNTHCAST_HEADER_TIMEOUT": "3s",
		"SYNTHCAST_MAX_STREAMS":    "7",
	}
	cfg, _, _, err := parseConfig([]string{"-max-streams", "9"}, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
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
	} {
		if _, _, _, err := parseConfig(args, none); !errors.Is(err, errUsage) {
			t.Errorf("parseConfig(%q) = %v; want a usage error", args, err)
		}
	}
	bad := func(k string) string {
		if k == "SYNTHCAST_IDLE_TIMEOUT" {
			return "soon"
		}
		return ""
	}
	if _, _, _, err := parseConfig(nil, bad); !errors.Is(err, errUsage) {
		t.Errorf("parseConfig with SYNTHCAST_IDLE_TIMEOUT=soon = %v; want a usage error", err)
	}
}
