package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/synthcast/synthcast/render"
)

// startTestServer runs a real engine in process on 127.0.0.1:0 (so -race
// sees the loops, the workers and the housekeeping goroutine together).
func startTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	cfg.Listen = "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	return s
}

func createStream(t *testing.T, s *Server, query string) string {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr().String() + "/create_stream" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer http.DefaultClient.CloseIdleConnections()
	defer resp.Body.Close()
	var body struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		t.Fatalf("create_stream%s: %d, %v", query, resp.StatusCode, err)
	}
	return body.ID
}

// listen attaches a raw listener; rcvbuf > 0 shrinks its receive buffer.
func listen(t *testing.T, s *Server, id string, rcvbuf int) (net.Conn, *bufio.Reader) {
	t.Helper()
	d := net.Dialer{}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf) })
		}
	}
	c, err := d.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "GET /stream?id=%s HTTP/1.1\r\nHost: x\r\n\r\n", id)
	br := bufio.NewReader(c)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/stream: %v", err)
	}
	return c, br
}

// readAudio reads frames for d and returns the seconds of audio received.
func readAudio(t *testing.T, c net.Conn, br *bufio.Reader, d time.Duration) float64 {
	t.Helper()
	var hdr [4]byte
	audio := 0.0
	_ = c.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return audio
		}
		h, err := render.ParseFrameHeader(hdr[:])
		if err != nil {
			t.Fatalf("sync lost: %v", err)
		}
		if _, err := br.Discard(h.Length - 4); err != nil {
			return audio
		}
		audio += float64(h.Samples) / float64(h.SampleRate)
	}
}

// Listeners come and go on a live stream: one render session, fanned out,
// ended with the last listener; a stalled listener is dropped at the bound.
func TestStreamSessionLifecycle(t *testing.T) {
	s := startTestServer(t, Config{Loops: 2, Workers: 2, QueueBytes: 16 << 10, Prebuffer: 250 * time.Millisecond, Tick: 100 * time.Millisecond})
	id := createStream(t, s, "?samplerate=16000&channels=1&bitrate=32")
	a, abr := listen(t, s, id, 0)
	b, bbr := listen(t, s, id, 0)
	stalled, _ := listen(t, s, id, 2048)
	if got := readAudio(t, a, abr, 600*time.Millisecond); got < 0.5 {
		t.Errorf("first listener got %.2f s of audio in 0.6 s; want ≥ 0.5", got)
	}
	if st := s.Stats(); st.Sessions != 1 || st.Listeners != 3 {
		t.Errorf("Stats = %+v; want 1 session, 3 listeners", st)
	}
	_ = readAudio(t, b, bbr, 100*time.Millisecond)
	// 32 kbit/s fills a 16 KiB bound (kernel queue included) within seconds.
	deadline := time.Now().Add(15 * time.Second)
	for s.Stats().Dropped == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("a stalled listener was not dropped at a 16 KiB bound: %+v", s.Stats())
		}
		_ = readAudio(t, a, abr, 200*time.Millisecond)
		_ = readAudio(t, b, bbr, 10*time.Millisecond)
	}
	stalled.Close()
	a.Close()
	b.Close()
	deadline = time.Now().Add(5 * time.Second)
	for st := s.Stats(); st.Sessions != 0 || st.Listeners != 0 || st.Jobs != 0; st = s.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("after every listener left: %+v; want no session, listener or job", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The stream lives on and can be listened to again.
	c, cbr := listen(t, s, id, 0)
	if got := readAudio(t, c, cbr, 300*time.Millisecond); got < 0.25 {
		t.Errorf("a listener of a restarted session got %.2f s in 0.3 s; want the burst", got)
	}
}

// Regression: a listener that resets its connection right after asking
// makes gnet's write fail inside the request handler, which closes the
// connection (and runs OnClose) synchronously. That must neither deadlock on
// the stream's lock nor leak the listener.
func TestStreamListenerResetDuringAttach(t *testing.T) {
	s := startTestServer(t, Config{Loops: 2, Workers: 2, Prebuffer: 250 * time.Millisecond, Tick: 100 * time.Millisecond})
	id := createStream(t, s, "?samplerate=16000&channels=1&bitrate=32")
	keep, kbr := listen(t, s, id, 0) // keeps a session and a ring of frames alive
	_ = readAudio(t, keep, kbr, 300*time.Millisecond)
	for range 200 {
		c, err := net.Dial("tcp", s.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /stream?id=%s HTTP/1.1\r\nHost: x\r\n\r\n", id)
		_ = c.(*net.TCPConn).SetLinger(0) // close sends RST
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for st := s.Stats(); st.Listeners != 1 || st.Conns != 1; st = s.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("after 200 reset listeners: %+v; want 1 listener and 1 connection left", st)
		}
		_ = readAudio(t, keep, kbr, 20*time.Millisecond)
	}
	if got := readAudio(t, keep, kbr, 300*time.Millisecond); got < 0.2 {
		t.Errorf("the remaining listener got %.2f s of audio in 0.3 s; want it still served", got)
	}
}
