package main

import (
	"testing"
	"time"
)

func TestStatusCode(t *testing.T) {
	tests := []struct {
		head string
		want int
	}{
		{"HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n\r\n", 200},
		{"HTTP/1.0 200 OK\r\n\r\n", 200}, // Icecast
		{"ICY 200 OK\r\n\r\n", 200},      // SHOUTcast v1
		{"HTTP/1.1 404 Not Found\r\n\r\n", 404},
		{"HTTP/1.1 503\r\n\r\n", 503},
		{"SIP/2.0 200 OK\r\n\r\n", 0},
		{"HTTP/1.1 2000 OK\r\n\r\n", 0},
		{"HTTP/1.1\r\n\r\n", 0},
	}
	for _, tt := range tests {
		if got := statusCode([]byte(tt.head)); got != tt.want {
			t.Errorf("statusCode(%q) = %d; want %d", tt.head, got, tt.want)
		}
	}
}

func TestHeadEnd(t *testing.T) {
	tests := []struct {
		b    string
		want int
	}{
		{"HTTP/1.1 200 OK\r\nA: b\r\n\r\nBODY", 25},
		{"HTTP/1.0 200 OK\n\nBODY", 17},
		{"HTTP/1.1 200 OK\r\nA: b\r\n", -1},
	}
	for _, tt := range tests {
		if got := headEnd([]byte(tt.b)); got != tt.want {
			t.Errorf("headEnd(%q) = %d; want %d", tt.b, got, tt.want)
		}
	}
}

func TestParseEndpoint(t *testing.T) {
	good := []struct {
		raw  string
		want endpoint
	}{
		{"http://127.0.0.1:8000/stream?id=abc", endpoint{"127.0.0.1:8000", "127.0.0.1:8000", "/stream?id=abc"}},
		{"http://localhost:8000/live.mp3", endpoint{"127.0.0.1:8000", "localhost:8000", "/live.mp3"}},
		{"http://127.1.2.3", endpoint{"127.1.2.3:80", "127.1.2.3", "/"}},
	}
	for _, tt := range good {
		if got, err := parseEndpoint(tt.raw); got != tt.want || err != nil {
			t.Errorf("parseEndpoint(%q) = %+v, %v; want %+v", tt.raw, got, err, tt.want)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:8000/", "https://127.0.0.1/", "http://example.com/", "http://[::1]:80/", "127.0.0.1:80"} {
		if _, err := parseEndpoint(bad); err == nil {
			t.Errorf("parseEndpoint(%q) succeeded; want a refusal", bad)
		}
	}
}

func TestSourceAddrs(t *testing.T) {
	if a := sourceAddrs(25000, 25000); a != nil {
		t.Errorf("sourceAddrs(25000, 25000) = %v; want nil", a)
	}
	a := sourceAddrs(60000, 24702)
	if len(a) != 3 || a[0].String() != "127.0.0.2:0" || a[2].String() != "127.0.0.4:0" {
		t.Errorf("sourceAddrs(60000, 24702) = %v; want 127.0.0.2 to .4", a)
	}
	if lo, hi, ok := parsePortRange([]byte("32768\t60999\n")); lo != 32768 || hi != 60999 || !ok {
		t.Errorf("parsePortRange = %d, %d, %v", lo, hi, ok)
	}
	if _, _, ok := parsePortRange([]byte("60999 32768")); ok {
		t.Error("parsePortRange accepted a reversed range")
	}
	if b := portBudget(); b <= 0 || b > maxPerSource {
		t.Errorf("portBudget() = %d", b)
	}
	// From one address, 19000 connections made the kernel's free-port walk
	// in connect() the client's bottleneck: the default spreads them.
	if a := sourceAddrs(19000, portBudget()); len(a) < 10 {
		t.Errorf("19000 listeners with the default budget spread over %d source addresses; want >= 10", len(a))
	}
}

// TestListenerLead drives a listener's figures with synthetic reads: time
// is a parameter, nothing sleeps.
func TestListenerLead(t *testing.T) {
	stream, lens := encodeFrames(t, 44100, 2, 128, 500, 0.5) // 13 s
	t0 := time.Unix(1000, 0)
	run := &listenRun{steadyStart: t0.Add(2 * time.Second), steadyEnd: t0.Add(60 * time.Second)}
	l := &listener{run: run, phase: phaseBody}
	off, frame := 0, 0
	// send delivers the frames up to audio position pos (seconds) at t.
	send := func(t time.Duration, pos float64) {
		start := off
		for frame < len(lens) && float64(frame+1)*frameSeconds <= pos+1e-9 {
			off += lens[frame]
			frame++
		}
		if off > start {
			l.onBody(stream[start:off], t0.Add(t))
		}
	}
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	// The burst: 1.5 s in two quick reads, then 0.5 s every 500 ms: the
	// lead swings between 1.0 and 1.5 s.
	send(0, 0.2)
	send(ms(3), 1.5)
	for i := 1; i <= 8; i++ {
		send(ms(500*i), 1.5+0.5*float64(i))
	}
	if !l.burstDone || l.burst < 1.5-frameSeconds || l.burst > 1.5 {
		t.Errorf("burst = %v s (done %v); want 1.5 s less at most one frame", l.burst, l.burstDone)
	}
	if l.stallEvents != 0 || l.leadMin < 0.97 || l.leadMax > 1.51 {
		t.Errorf("steady: stalls %d, lead %v…%v; want 0, 1.0…1.5 s", l.stallEvents, l.leadMin, l.leadMax)
	}
	// A 2.5 s gap: the player runs dry 1 s before the data comes (one
	// stall, still dry after that read), then catches up.
	send(ms(6500), 6.0)
	send(ms(7000), 8.5)
	// And once more, 2 s dry.
	send(ms(10500), 9.0)
	send(ms(11000), 12.5)
	if l.stallEvents != 2 || l.leadMin < -2.0-frameSeconds || l.leadMin > -2.0 {
		t.Errorf("after two gaps: stall events %d, min lead %v s; want 2, -2 s", l.stallEvents, l.leadMin)
	}
}
