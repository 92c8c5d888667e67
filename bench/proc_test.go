package main

import (
	"encoding/binary"
	"os"
	"testing"
)

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		stat string
		want uint64
		ok   bool
	}{
		// A real line (synthcast's), fields 14 and 15 are 532 and 101.
		{"14541 (synthcast) S 1 14540 14540 0 -1 4194560 2455 0 0 0 532 101 0 0 20 0 6 0 123456 1299312640 4550 18446744073709551615 1 1 0 0 0 0 0 0 2143420159 0 0 0 17 1 0 0 0 0 0\n", 633, true},
		// A command name with spaces and parentheses.
		{"7 (a) b (c) S 1 7 7 0 -1 0 0 0 0 0 40 2 0 0 20 0 1 0 5 100 10 0\n", 42, true},
		{"7 (x) S 1 2 3", 0, false},
		{"no parenthesis", 0, false},
		{"7 (x) S 1 7 7 0 -1 0 0 0 0 0 abc 2 0\n", 0, false},
	}
	for _, tt := range tests {
		got, err := parseStatTicks([]byte(tt.stat))
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseStatTicks(%.30q…) = %d, %v; want %d, ok %v", tt.stat, got, err, tt.want, tt.ok)
		}
	}
}

func TestParseVmRSS(t *testing.T) {
	status := "Name:\tsynthcast\nVmPeak:\t 1300000 kB\nVmRSS:\t   18200 kB\nRssAnon:\t 10000 kB\n"
	if got, err := parseVmRSS([]byte(status)); got != 18200 || err != nil {
		t.Errorf("parseVmRSS = %d, %v; want 18200, nil", got, err)
	}
	for _, bad := range []string{"Name:\tkthreadd\n", "VmRSS:\t12 MB\n", "VmRSS:\n"} {
		if _, err := parseVmRSS([]byte(bad)); err == nil {
			t.Errorf("parseVmRSS(%q) succeeded; want an error", bad)
		}
	}
}

func TestParseAuxvClkTck(t *testing.T) {
	auxv := func(word int, pairs ...uint64) []byte {
		var b []byte
		for _, v := range pairs {
			if word == 4 {
				b = binary.NativeEndian.AppendUint32(b, uint32(v))
			} else {
				b = binary.NativeEndian.AppendUint64(b, v)
			}
		}
		return b
	}
	for _, word := range []int{4, 8} {
		if hz, ok := parseAuxvClkTck(auxv(word, 6, 4096, 17, 100, 0, 0), word); hz != 100 || !ok {
			t.Errorf("word %d: parseAuxvClkTck = %d, %v; want 100, true", word, hz, ok)
		}
		if _, ok := parseAuxvClkTck(auxv(word, 6, 4096, 0, 0, 17, 100), word); ok {
			t.Errorf("word %d: AT_CLKTCK after AT_NULL was found", word)
		}
		if _, ok := parseAuxvClkTck(auxv(word, 6), word); ok {
			t.Errorf("word %d: truncated vector gave a value", word)
		}
	}
	// This process's own vector has it.
	if hz, ok := clockTicks(); !ok || hz <= 0 {
		t.Errorf("clockTicks() = %d, %v; want a rate read from /proc/self/auxv", hz, ok)
	}
}

// TestProcSamplerSelf samples this process, listed twice: the figures add.
func TestProcSamplerSelf(t *testing.T) {
	s := newProcSampler([]int{os.Getpid(), os.Getpid()})
	ps, err := s.sample()
	if err != nil {
		t.Fatal(err)
	}
	one := newProcSampler([]int{os.Getpid()})
	p1, _ := one.sample()
	if ps.rssKiB <= 0 || ps.rssKiB < p1.rssKiB || ps.cpu < 0 {
		t.Errorf("sample of self twice = %+v, once %+v; want positive RSS, summed", ps, p1)
	}
	if _, err := newProcSampler([]int{1 << 30}).sample(); err == nil {
		t.Error("sampling a missing process succeeded")
	}
}
