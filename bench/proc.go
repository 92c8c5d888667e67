package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// atClkTck is the auxiliary-vector key of the kernel's clock tick rate
// (sysconf(_SC_CLK_TCK)), the unit of /proc/PID/stat's CPU times.
const atClkTck = 17

// defaultClkTck is the tick rate assumed when /proc/self/auxv cannot be
// read: 100 Hz, what Linux reports on every common architecture (and
// `getconf CLK_TCK` on this machine).
const defaultClkTck = 100

// clockTicks returns the tick rate of /proc/PID/stat CPU times, read from
// /proc/self/auxv, and whether it was read (false: defaultClkTck assumed).
func clockTicks() (int, bool) {
	b, err := os.ReadFile("/proc/self/auxv")
	if err != nil {
		return defaultClkTck, false
	}
	if hz, ok := parseAuxvClkTck(b, strconv.IntSize/8); ok {
		return hz, true
	}
	return defaultClkTck, false
}

// parseAuxvClkTck finds AT_CLKTCK in an auxiliary vector: native-endian
// (key, value) pairs of word-sized integers, ended by key 0.
func parseAuxvClkTck(b []byte, word int) (int, bool) {
	rd := func(p []byte) uint64 {
		if word == 4 {
			return uint64(binary.NativeEndian.Uint32(p))
		}
		return binary.NativeEndian.Uint64(p)
	}
	for len(b) >= 2*word {
		k, v := rd(b), rd(b[word:])
		b = b[2*word:]
		switch {
		case k == 0:
			return 0, false
		case k == atClkTck && v > 0 && v < 1e6:
			return int(v), true
		}
	}
	return 0, false
}

// parseStatTicks returns utime+stime, in clock ticks, from the contents of
// /proc/PID/stat. The command name (field 2) is in parentheses and may
// itself hold spaces and parentheses, so fields are counted after its last
// ')': state is field 3, utime 14 and stime 15.
func parseStatTicks(stat []byte) (uint64, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("stat: no command name")
	}
	f := bytes.Fields(stat[i+1:])
	const utime = 14 - 3 // index in f
	if len(f) <= utime+1 {
		return 0, errors.New("stat: too few fields")
	}
	u, err1 := strconv.ParseUint(string(f[utime]), 10, 64)
	s, err2 := strconv.ParseUint(string(f[utime+1]), 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("stat: %w", err)
	}
	return u + s, nil
}

// parseVmRSS returns the VmRSS line of /proc/PID/status in KiB
// ("VmRSS:\t   1234 kB").
func parseVmRSS(status []byte) (int64, error) {
	for line := range bytes.Lines(status) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, errors.New("status: malformed VmRSS")
		}
		return strconv.ParseInt(string(f[0]), 10, 64)
	}
	return 0, errors.New("status: no VmRSS (a kernel thread or a zombie?)")
}

// procSample is the summed CPU time and resident memory of some processes
// at one moment.
type procSample struct {
	at     time.Time
	cpu    float64 // seconds of user+system time since each process started
	rssKiB int64
}

// procSampler reads /proc for a fixed set of processes.
type procSampler struct {
	pids   []int
	hz     int  // clock ticks per second
	hzRead bool // hz came from /proc/self/auxv, not defaultClkTck
}

func newProcSampler(pids []int) *procSampler {
	hz, ok := clockTicks()
	return &procSampler{pids: pids, hz: hz, hzRead: ok}
}

// sample reads every process's CPU time and RSS and sums them.
func (s *procSampler) sample() (procSample, error) {
	ps := procSample{at: time.Now()}
	for _, pid := range s.pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return ps, err
		}
		ticks, err := parseStatTicks(stat)
		if err != nil {
			return ps, fmt.Errorf("pid %d: %w", pid, err)
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			return ps, err
		}
		rss, err := parseVmRSS(status)
		if err != nil {
			return ps, fmt.Errorf("pid %d: %w", pid, err)
		}
		ps.cpu += float64(ticks) / float64(s.hz)
		ps.rssKiB += rss
	}
	return ps, nil
}

// selfSample is this process's own CPU time (getrusage, µs resolution) and
// RSS, for the client's share of the machine.
func selfSample() procSample {
	ps := procSample{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		ps.cpu = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime)).Seconds()
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		ps.rssKiB, _ = parseVmRSS(b)
	}
	return ps
}
