package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/synthcast/synthcast/httpparse"
	"github.com/synthcast/synthcast/render"
)

// newTestServer returns a server that is not listening, over a memory
// store, and one stream in it, for calling route directly.
func newTestServer(t testing.TB) (*Server, *Stream) {
	t.Helper()
	s, err := New(Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxStreams: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.hub.close)
	var ch change
	if done, err := s.hub.create("", render.Defaults(), &ch); !done || err != nil || ch.Err != nil {
		t.Fatalf("create = %v, %v, %v; want a stream at once from the memory store", done, err, ch.Err)
	}
	return s, ch.st
}

// do parses raw as one request and routes it, returning the parsed response.
func do(t testing.TB, s *Server, raw string) (*http.Response, map[string]any) {
	t.Helper()
	c := &conn{httpState: new(httpState), parser: new(httpparse.Parser)}
	n, err := c.parser.Parse([]byte(raw), &c.req)
	if err != nil || n != len(raw) {
		t.Fatalf("Parse(%q) = %d, %v", raw, n, err)
	}
	out, _ := s.tr.route(c, nil)
	resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
	if err != nil {
		t.Fatalf("route(%q) wrote %q: %v", raw, out, err)
	}
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("route(%q): body %q is not a JSON object: %v", raw, b, err)
	}
	return resp, body
}

func TestRouteSetParamAtomic(t *testing.T) {
	s, st := newTestServer(t)
	resp, body := do(t, s, "GET /set_param?id="+st.ID()+"&freq=300&cutoff=nope HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != 400 || body["key"] != "cutoff" {
		t.Fatalf("set_param with a bad cutoff = %d %v; want 400 naming cutoff", resp.StatusCode, body)
	}
	if f := st.Params().Freq; f != 440 {
		t.Fatalf("freq after a rejected set_param = %v; want 440", f)
	}
	resp, _ = do(t, s, "GET /set_param?id="+st.ID()+"&freq=300&cutoff=900 HTTP/1.1\r\nHost: x\r\n\r\n")
	if p := st.Params(); resp.StatusCode != 200 || p.Freq != 300 || p.Cutoff != 900 {
		t.Fatalf("set_param freq=300&cutoff=900 = %d, params %v", resp.StatusCode, p)
	}
}

func TestRouteStreamLimit(t *testing.T) {
	s, _ := newTestServer(t)
	for i := 1; i < 100; i++ { // the test server holds one stream already
		if resp, body := do(t, s, "GET /create_stream HTTP/1.1\r\nHost: x\r\n\r\n"); resp.StatusCode != 200 {
			t.Fatalf("create %d = %d %v", i, resp.StatusCode, body)
		}
	}
	resp, body := do(t, s, "GET /create_stream HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp.StatusCode != 503 || body["error"] == nil {
		t.Fatalf("create past the cap = %d %v; want 503", resp.StatusCode, body)
	}
}

// FuzzSetParam throws any query at /set_param: the process never panics,
// the answer is 200 or a JSON 400/404, and the stream's params stay valid.
func FuzzSetParam(f *testing.F) {
	for _, q := range []string{"freq=440", "gain=1&pan=-1", "freq=NaN", "wave=saw&mode=melody", "root=C%234", "seed=18446744073709551615",
		"samplerate=8000", "x=1", "freq=1e400", "tempo=&gain=", "freq=%2B5", "cutoff=20000&cutoff=1"} {
		f.Add(q)
	}
	s, st := newTestServer(f)
	f.Fuzz(func(t *testing.T, q string) {
		raw := "GET /set_param?id=" + st.ID() + "&" + q + " HTTP/1.1\r\nHost: x\r\n\r\n"
		c := &conn{httpState: new(httpState), parser: new(httpparse.Parser)}
		_, err := c.parser.Parse([]byte(raw), &c.req)
		if err != nil {
			return // the parser's own fuzz covers what it rejects
		}
		out, _ := s.tr.route(c, nil)
		resp, rerr := http.ReadResponse(bufio.NewReader(bytes.NewReader(out)), nil)
		if rerr != nil {
			t.Fatalf("%q: unparsable response %q", q, out)
		}
		b, _ := io.ReadAll(resp.Body)
		if !json.Valid(b) {
			t.Fatalf("%q: body %q is not JSON", q, b)
		}
		switch resp.StatusCode {
		case 200, 400:
		default:
			t.Fatalf("%q: status %d", q, resp.StatusCode)
		}
		if err := st.Params().Validate(); err != nil {
			t.Fatalf("%q: params left invalid: %v", q, err)
		}
	})
}

func TestTokens(t *testing.T) {
	seen := make(map[string]bool)
	for range 10000 {
		tok := newToken()
		if len(tok) != 22 || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("token %q: want 22 URL-safe characters", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q repeated", tok)
		}
		seen[tok] = true
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("zero Config: %v; want valid (all defaults)", err)
	}
	for _, c := range []Config{
		{Listen: "no-port"},
		{MaxStreams: -1},
		{HeaderTimeout: time.Millisecond},
		{Tick: time.Millisecond},
		{QueueBytes: 100},
		{Prebuffer: -time.Second},
		{Workers: -1},
	} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("Validate(%+v) = %v; want ErrConfig", c, err)
		}
	}
	d := Config{}.withDefaults()
	if d.Listen != DefaultListen || d.Tick != DefaultTick || d.Prebuffer != DefaultPrebuffer || d.QueueBytes != 512<<10 {
		t.Errorf("withDefaults = %+v", d)
	}
}
