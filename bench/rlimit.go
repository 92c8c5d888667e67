package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
)

// raiseNoFile raises the soft RLIMIT_NOFILE to the hard limit and returns
// the resulting soft limit: one descriptor per listener.
func raiseNoFile() (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, fmt.Errorf("getrlimit: %w", err)
	}
	if r.Cur < r.Max {
		r.Cur = r.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
			return 0, fmt.Errorf("setrlimit: %w", err)
		}
	}
	return r.Cur, nil
}

// portBudget returns how many connections one source address may make to
// one destination: 7/8 of the ephemeral port range
// (/proc/sys/net/ipv4/ip_local_port_range, 32768–60999 by default), leaving
// ports for other sockets, and at most maxPerSource.
func portBudget() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return maxPerSource
	}
	lo, hi, ok := parsePortRange(b)
	if !ok {
		return maxPerSource
	}
	return min(maxPerSource, (hi-lo+1)*7/8)
}

// parsePortRange parses "32768\t60999\n".
func parsePortRange(b []byte) (lo, hi int, ok bool) {
	f := bytes.Fields(b)
	if len(f) != 2 {
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(string(f[0]))
	hi, err2 := strconv.Atoi(string(f[1]))
	if err1 != nil || err2 != nil || lo <= 0 || hi < lo {
		return 0, 0, false
	}
	return lo, hi, true
}

// sourceAddrs returns the source addresses n connections spread over, or
// nil if the system's choice (127.0.0.1 for a loopback target) suffices:
// past perSource connections, 127.0.0.2, 127.0.0.3, … (all of 127.0.0.0/8
// is loopback on Linux), each bound with port 0 so each has its own
// ephemeral port range.
func sourceAddrs(n, perSource int) []net.Addr {
	if perSource <= 0 || n <= perSource {
		return nil
	}
	k := (n + perSource - 1) / perSource
	addrs := make([]net.Addr, k)
	for i := range addrs {
		ip := net.IPv4(127, 0, byte((i+2)>>8), byte(i+2))
		addrs[i] = &net.TCPAddr{IP: ip}
	}
	return addrs
}
