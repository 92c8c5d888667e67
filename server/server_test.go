package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/synthcast/synthcast/httpparse"
)

// The engine starts on a free loopback port, reports it, serves, and stops.
func TestStartAddrStop(t *testing.T) {
	s, err := New(Config{Listen: "127.0.0.1:0", Loops: 2, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	addr, ok := s.Addr().(*net.TCPAddr)
	if !ok || addr.Port == 0 || !addr.IP.IsLoopback() {
		t.Fatalf("Addr() = %v; want a loopback address with a real port", s.Addr())
	}
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// Two requests in one write, answered in order on one connection.
	if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for _, want := range []int{200, 404} {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("status %d; want %d", resp.StatusCode, want)
		}
	}
	if st := s.Stats(); st.Conns != 1 {
		t.Errorf("Stats().Conns = %d; want 1", st.Conns)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Errorf("connection still open after Stop")
	}
}

func TestStartBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	s, err := New(Config{Listen: ln.Addr().String(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Fatalf("Start on a busy port = %v; want a listen error", err)
	}
}

// BenchmarkRouteSetParam parses and routes /set_param over the memory
// store, each request a real change (two values in turn), so it counts the
// write and the publish as well as the parse.
func BenchmarkRouteSetParam(b *testing.B) {
	s, st := newTestServer(b)
	c := &conn{httpState: new(httpState), parser: new(httpparse.Parser)}
	reqs := [2][]byte{
		[]byte("GET /set_param?id=" + st.ID() + "&freq=440&gain=0.4 HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\n\r\n"),
		[]byte("GET /set_param?id=" + st.ID() + "&freq=220&gain=0.4 HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\n\r\n"),
	}
	var out []byte
	b.ReportAllocs()
	b.SetBytes(int64(len(reqs[0])))
	i := 0
	for b.Loop() {
		req := reqs[i&1]
		i++
		if _, err := c.parser.Parse(req, &c.req); err != nil {
			b.Fatal(err)
		}
		out, _ = s.tr.route(c, out[:0])
	}
}
