package main

// End-to-end tests: they build the real binary, start it on a loopback port
// (127.0.0.1:0, read back from its log), and drive it with real clients:
// net/http, curl, and raw TCP for pipelining, byte-by-byte requests and
// malformed input.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "synthcast-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "synthcast")
	// The binary is built as it ships, without the race detector: these
	// tests check real-time behaviour, which an instrumented encoder (several
	// times slower) cannot keep on two shared cores while other packages'
	// tests run. The server package's own tests exercise the same code under
	// -race in process. SYNTHCAST_E2E_RACE=1 builds the binary with -race.
	args := []string{"build", "-o", binPath}
	if raceEnabled && os.Getenv("SYNTHCAST_E2E_RACE") == "1" {
		args = append(args, "-race")
	}
	out, err := exec.Command("go", append(args, ".")...).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "building the binary: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// instance is one running synthcast process.
type instance struct {
	addr  string // host:port
	admin string // the admin listener's host:port, if on
	cmd   *exec.Cmd
	logs  *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var (
	listenRE = regexp.MustCompile(`msg=listening addr=(127\.0\.0\.1:\d+)`)
	adminRE  = regexp.MustCompile(`msg="admin listening" addr=(127\.0\.0\.1:\d+)`)
)

// scanAddrs reads a server's log until it says where it listens, sends
// that address and the admin listener's (logged before it, if on), then
// drains the rest.
func scanAddrs(r io.Reader, addrc chan<- [2]string) {
	sc := bufio.NewScanner(r)
	var admin string
	for sc.Scan() {
		if m := adminRE.FindStringSubmatch(sc.Text()); m != nil {
			admin = m[1]
		}
		if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
			addrc <- [2]string{m[1], admin}
			break
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// testArgs puts the binary on 127.0.0.1:0 with its admin listener on another
// free port and, unless args name a store or data directory, its streams in
// a fresh directory of the test's.
func testArgs(t *testing.T, args []string) []string {
	has := func(flag string) bool {
		return slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, flag) })
	}
	if !has("-store") && !has("-data-dir") {
		args = append([]string{"-data-dir", t.TempDir()}, args...)
	}
	if !has("-admin-listen") {
		args = append([]string{"-admin-listen", "127.0.0.1:0"}, args...)
	}
	return append([]string{"-listen", "127.0.0.1:0"}, args...)
}

// start runs the binary with args on 127.0.0.1:0 and waits for its address.
// Unless args name a store or data directory, it keeps its streams in a
// fresh directory of the test's. The process is stopped (SIGTERM, then
// SIGKILL) when the test ends; a process that exits non-zero on SIGTERM
// fails the test.
func start(t *testing.T, args ...string) *instance {
	t.Helper()
	cmd := exec.Command(binPath, testArgs(t, args)...)
	cmd.Env = append(os.Environ(), "GORACE=halt_on_error=1")
	logs := &syncBuffer{}
	pr, pw := io.Pipe()
	cmd.Stderr = io.MultiWriter(logs, pw)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", binPath, err)
	}
	addrc := make(chan [2]string, 1)
	go scanAddrs(pr, addrc)
	inst := &instance{cmd: cmd, logs: logs}
	waitc := make(chan error, 1)
	go func() { waitc <- cmd.Wait(); pw.Close() }()
	select {
	case a := <-addrc:
		inst.addr, inst.admin = a[0], a[1]
	case err := <-waitc:
		t.Fatalf("synthcast exited before listening: %v\n%s", err, logs.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("synthcast did not report its address in 30 s\n%s", logs.String())
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case err := <-waitc:
			if err != nil {
				t.Errorf("synthcast exited with %v\n%s", err, logs.String())
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("synthcast did not stop within 15 s of SIGINT\n%s", logs.String())
		}
		if strings.Contains(logs.String(), "DATA RACE") || strings.Contains(logs.String(), "panic:") {
			t.Errorf("synthcast logged a race or panic:\n%s", logs.String())
		}
	})
	return inst
}

func (in *instance) url(path string) string { return "http://" + in.addr + path }

type apiResp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

var client = &http.Client{Timeout: 10 * time.Second}

// get does one request with net/http and decodes the JSON body.
func (in *instance) do(t *testing.T, method, path string) apiResp {
	t.Helper()
	req, err := http.NewRequest(method, in.url(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	r := apiResp{status: resp.StatusCode, header: resp.Header, raw: raw}
	if method != "HEAD" {
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type = %q; want application/json", method, path, ct)
		}
		if err := json.Unmarshal(raw, &r.body); err != nil {
			t.Fatalf("%s %s: body %q is not a JSON object: %v", method, path, raw, err)
		}
	}
	return r
}

func (in *instance) get(t *testing.T, path string) apiResp { t.Helper(); return in.do(t, "GET", path) }

func (in *instance) create(t *testing.T, query string) string {
	t.Helper()
	r := in.get(t, "/create_stream"+query)
	if r.status != 200 {
		t.Fatalf("GET /create_stream%s = %d %s; want 200", query, r.status, r.raw)
	}
	id, _ := r.body["id"].(string)
	if len(id) != 22 {
		t.Fatalf("GET /create_stream%s: id %q; want 22 URL-safe characters (128 bits)", query, id)
	}
	return id
}

func TestE2EHealthz(t *testing.T) {
	in := start(t)
	r := in.get(t, "/healthz")
	if r.status != 200 || r.body["status"] != "ok" {
		t.Fatalf("GET /healthz = %d %s; want 200 status ok", r.status, r.raw)
	}
	h := in.do(t, "HEAD", "/healthz")
	if h.status != 200 || len(h.raw) != 0 {
		t.Fatalf("HEAD /healthz = %d with %d body bytes; want 200 and none", h.status, len(h.raw))
	}
	if got, want := h.header.Get("Content-Length"), r.header.Get("Content-Length"); got != want {
		t.Errorf("HEAD Content-Length = %q; want the GET's %q", got, want)
	}
	if h.header.Get("Date") == "" {
		t.Errorf("HEAD /healthz has no Date header")
	}
}

func TestE2ECreateSetParams(t *testing.T) {
	in := start(t)
	id := in.create(t, "")
	if other := in.create(t, ""); other == id {
		t.Fatalf("two creates returned the same token %q", id)
	}

	r := in.get(t, "/params?id="+id)
	p := r.body["params"].(map[string]any)
	if r.status != 200 || p["mode"] != "tone" || p["samplerate"] != 44100.0 || p["channels"] != 2.0 || p["bitrate"] != 128.0 {
		t.Fatalf("GET /params = %d %s; want 200 with tone at 44100 Hz stereo 128 kbps", r.status, r.raw)
	}

	id2 := in.create(t, "?freq=220&wave=saw&samplerate=22050&channels=1&bitrate=64&mode=melody")
	p = in.get(t, "/params?id="+id2).body["params"].(map[string]any)
	if p["freq"] != 220.0 || p["wave"] != "saw" || p["samplerate"] != 22050.0 || p["channels"] != 1.0 || p["bitrate"] != 64.0 || p["mode"] != "melody" {
		t.Fatalf("initial params not applied: %v", p)
	}

	r = in.get(t, "/set_param?id="+id+"&freq=880&pan=-0.5")
	p = r.body["params"].(map[string]any)
	if r.status != 200 || r.body["id"] != id || p["freq"] != 880.0 || p["pan"] != -0.5 {
		t.Fatalf("GET /set_param = %d %s; want 200 with freq 880 pan -0.5", r.status, r.raw)
	}

	// All or nothing: a bad second pair leaves the first unapplied.
	r = in.get(t, "/set_param?id="+id+"&freq=330&gain=2")
	if r.status != 400 || r.body["key"] != "gain" {
		t.Fatalf("set_param with gain=2: %d %s; want 400 naming gain", r.status, r.raw)
	}
	if !strings.Contains(r.body["error"].(string), "1") {
		t.Errorf("error %q does not state the allowed range", r.body["error"])
	}
	if f := in.get(t, "/params?id="+id).body["params"].(map[string]any)["freq"]; f != 880.0 {
		t.Fatalf("freq after a rejected set_param = %v; want 880 (unchanged)", f)
	}

	h := in.do(t, "HEAD", "/params?id="+id)
	if h.status != 200 || len(h.raw) != 0 {
		t.Errorf("HEAD /params = %d, %d body bytes; want 200, none", h.status, len(h.raw))
	}
}

func TestE2EErrors(t *testing.T) {
	in := start(t, "-max-streams", "3")
	id := in.create(t, "")
	tests := []struct {
		path   string
		status int
		key    string
	}{
		{"/nope", 404, ""},
		{"/params", 400, ""},
		{"/params?id=" + strings.Repeat("A", 22), 404, ""},
		{"/params?id=" + id + "&id=" + id, 400, ""},
		{"/set_param?id=" + id, 400, ""},
		{"/set_param?id=" + strings.Repeat("A", 22) + "&freq=1", 404, ""},
		{"/set_param?id=" + id + "&bogus=1", 400, "bogus"},
		{"/set_param?id=" + id + "&freq=NaN", 400, "freq"},
		{"/set_param?id=" + id + "&freq=Inf", 400, "freq"},
		{"/set_param?id=" + id + "&freq=-Inf", 400, "freq"},
		{"/set_param?id=" + id + "&freq=1e400", 400, "freq"},
		{"/set_param?id=" + id + "&freq=", 400, "freq"},
		{"/set_param?id=" + id + "&wave=organ", 400, "wave"},
		{"/set_param?id=" + id + "&seed=99999999999999999999999", 400, "seed"},
		{"/set_param?id=" + id + "&samplerate=22050", 400, "samplerate"},
		{"/set_param?id=" + id + "&freq=1&freq=2", 400, "freq"},
		{"/set_param?id=" + id + "&freq=%zz", 400, ""},
		{"/create_stream?samplerate=16000&bitrate=320", 400, "bitrate"},
		{"/create_stream?channels=3", 400, "channels"},
		{"/create_stream?freq=abc", 400, "freq"},
	}
	for _, tt := range tests {
		r := in.get(t, tt.path)
		if r.status != tt.status {
			t.Errorf("GET %s = %d %s; want %d", tt.path, r.status, r.raw, tt.status)
			continue
		}
		if _, ok := r.body["error"].(string); !ok {
			t.Errorf("GET %s: body %s has no error string", tt.path, r.raw)
		}
		if tt.key != "" && r.body["key"] != tt.key {
			t.Errorf("GET %s: body %s; want key %q", tt.path, r.raw, tt.key)
		}
	}
	if got := in.get(t, "/params?id="+id).body["params"].(map[string]any)["freq"]; got != 440.0 {
		t.Errorf("freq after only bad set_params = %v; want 440", got)
	}

	r := in.do(t, "DELETE", "/params?id="+id)
	if r.status != 405 || r.header.Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("DELETE /params = %d Allow %q; want 405 Allow \"GET, HEAD, OPTIONS\"", r.status, r.header.Get("Allow"))
	}

	// The stream cap: three streams exist after two more creates; a fourth is refused.
	in.create(t, "")
	in.create(t, "")
	if r := in.get(t, "/create_stream"); r.status != 503 {
		t.Errorf("create past -max-streams 3 = %d %s; want 503", r.status, r.raw)
	}
}

// rawExchange writes req on a fresh TCP connection (in chunks of chunk bytes,
// all at once when chunk is 0) while reading until the server closes or 5 s
// pass. Writing stops at the first error: a server that rejected the request
// early closes, and the rest of it would only draw a reset.
func rawExchange(t *testing.T, addr string, req string, chunk int) (string, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	type result struct {
		got    []byte
		closed bool
	}
	done := make(chan result, 1)
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var got []byte
		buf := make([]byte, 4096)
		for {
			n, err := c.Read(buf)
			got = append(got, buf[:n]...)
			if err != nil {
				ne, timeout := err.(net.Error)
				done <- result{got, !(timeout && ne.Timeout())} // EOF or reset: the server closed
				return
			}
		}
	}()
	if chunk == 0 {
		chunk = len(req)
	}
	for i := 0; i < len(req); i += chunk {
		if _, err := c.Write([]byte(req[i:min(i+chunk, len(req))])); err != nil {
			break
		}
	}
	r := <-done
	return string(r.got), r.closed
}

var statusLineRE = regexp.MustCompile(`HTTP/1\.1 \d{3} [^\r]*`)

func statusLines(resp string) []string { return statusLineRE.FindAllString(resp, -1) }

func TestE2ERawProtocol(t *testing.T) {
	in := start(t)
	id := in.create(t, "")
	long := strings.Repeat("a", 9000)
	tests := []struct {
		name, req string
		want      []string // status lines in order
		closes    bool
	}{
		{"pipelined", "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /params?id=" + id + " HTTP/1.1\r\nHost: x\r\n\r\nGET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			[]string{"HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found"}, true},
		{"http10 closes", "GET /healthz HTTP/1.0\r\n\r\n", []string{"HTTP/1.1 200 OK"}, true},
		{"absolute form", "GET http://x/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", []string{"HTTP/1.1 200 OK"}, true},
		{"missing host", "GET /healthz HTTP/1.1\r\n\r\n", []string{"HTTP/1.1 400 Bad Request"}, true},
		{"bad method", "G(T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HTTP/1.1 400 Bad Request"}, true},
		{"space before colon", "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", []string{"HTTP/1.1 400 Bad Request"}, true},
		{"obs-fold", "GET /healthz HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", []string{"HTTP/1.1 400 Bad Request"}, true},
		{"bare CR", "GET /healthz HTTP/1.1\r\nHost: x\rY\r\n\r\n", []string{"HTTP/1.1 400 Bad Request"}, true},
		{"content-length", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", []string{"HTTP/1.1 413 Content Too Large"}, true},
		{"content-length zero", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", []string{"HTTP/1.1 200 OK"}, true},
		{"duplicate content-length", "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", []string{"HTTP/1.1 400 Bad Request"}, true},
		{"transfer-encoding", "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", []string{"HTTP/1.1 413 Content Too Large"}, true},
		{"version", "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", []string{"HTTP/1.1 505 HTTP Version Not Supported"}, true},
		{"long target", "GET /" + long + " HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HTTP/1.1 414 URI Too Long"}, true},
		{"big head", "GET /healthz HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("b", 17000) + "\r\n\r\n", []string{"HTTP/1.1 431 Request Header Fields Too Large"}, true},
		{"many headers", "GET /healthz HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X: y\r\n", 70) + "\r\n", []string{"HTTP/1.1 431 Request Header Fields Too Large"}, true},
		{"post", "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", []string{"HTTP/1.1 405 Method Not Allowed"}, true},
		{"bad escape", "GET /set_param?id=" + id + "&freq=%G0 HTTP/1.1\r\nHost: x\r\n\r\n", []string{"HTTP/1.1 400 Bad Request"}, true},
	}
	for _, tt := range tests {
		for _, chunk := range []int{0, 1} {
			if chunk == 1 && len(tt.req) > 2000 {
				continue // byte by byte is covered by the short rows; long ones are slow that way
			}
			got, closed := rawExchange(t, in.addr, tt.req, chunk)
			if lines := statusLines(got); strings.Join(lines, "|") != strings.Join(tt.want, "|") {
				t.Errorf("%s (chunk %d): status lines %q; want %q\n%s", tt.name, chunk, lines, tt.want, got)
			}
			if closed != tt.closes {
				t.Errorf("%s (chunk %d): closed = %v; want %v", tt.name, chunk, closed, tt.closes)
			}
		}
	}
}

// TestE2EOversizedTargetFailsEarly pins that a limit is enforced before the
// head is complete: an endless request-target gets its 414 without a CRLF.
func TestE2EOversizedTargetFailsEarly(t *testing.T) {
	in := start(t)
	c, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET /" + strings.Repeat("a", 9000))); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 414") {
		t.Fatalf("after 9000 target bytes and no CRLF: %q, %v; want a 414", line, err)
	}
}

func TestE2EKeepAliveAndCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("curl is not installed (make deps installs it)")
		}
		t.Skip("curl not installed")
	}
	in := start(t)
	id := in.create(t, "")
	// One curl process, three URLs: curl reuses the connection (keep-alive).
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "curl", "-sS", "-v",
		"-w", "%{http_code}\n",
		in.url("/healthz"), in.url("/set_param?id="+id+"&wave=square"), in.url("/params?id="+id)).CombinedOutput()
	if err != nil {
		t.Fatalf("curl: %v\n%s", err, out)
	}
	s := string(out)
	if !strings.Contains(s, "Re-using existing connection") && !strings.Contains(s, "Reusing existing") {
		t.Errorf("curl did not reuse the connection:\n%s", s)
	}
	if strings.Count(s, "200\n") != 3 || !strings.Contains(s, `"wave":"square"`) {
		t.Errorf("curl output lacks three 200s and the new wave:\n%s", s)
	}
}

func TestE2ETimeouts(t *testing.T) {
	in := start(t, "-header-timeout", "1s", "-idle-timeout", "1s")

	// A head that never completes gets a 408 and the connection closes.
	c, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 408 ") {
		t.Fatalf("incomplete head: read %q, %v; want a 408 then EOF", got, err)
	}

	// A slow client that keeps sending bytes is still cut at the header timeout.
	c2, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	began := time.Now()
	var closedAfter time.Duration
	for i := 0; i < 100; i++ {
		if _, err := c2.Write([]byte("X")); err != nil {
			closedAfter = time.Since(began)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if closedAfter == 0 {
		t.Fatalf("a client trickling a head for 10 s was not cut off by a 1 s header timeout")
	}

	// An idle keep-alive connection is closed.
	c3, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if _, err := c3.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = c3.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err = io.ReadAll(c3)
	if err != nil || !strings.HasPrefix(string(got), "HTTP/1.1 200 ") || strings.Count(string(got), "HTTP/1.1") != 1 {
		t.Fatalf("idle keep-alive: read %q, %v; want one 200 then EOF", got, err)
	}
}

func TestE2EEnvironmentConfig(t *testing.T) {
	// SYNTHCAST_* variables configure the binary like flags do.
	t.Setenv("SYNTHCAST_MAX_STREAMS", "1")
	in := start(t)
	in.create(t, "")
	if r := in.get(t, "/create_stream"); r.status != 503 {
		t.Fatalf("second create with SYNTHCAST_MAX_STREAMS=1 = %d; want 503", r.status)
	}
}
