package main

// End-to-end tests of what an operator sees: the admin listener, ICY
// metadata read by real players, graceful stop, log files, CORS.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The admin listener serves /metrics, /status and pprof; the public port
// serves none of them.
func TestE2EAdminListener(t *testing.T) {
	in := start(t)
	if in.admin == "" {
		t.Fatal("no admin address logged")
	}
	id := in.create(t, "?name=Ops")
	in.get(t, "/set_param?id="+id+"&freq=300")
	in.do(t, "GET", "/set_param?id="+id+"&freq=nope")
	get := func(url string) (int, string) {
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, metrics := get("http://" + in.admin + "/metrics")
	if code != 200 {
		t.Fatalf("admin /metrics = %d", code)
	}
	for _, want := range []string{
		`synthcast_requests_total{route="/set_param",status="200"} 1`,
		`synthcast_requests_total{route="/set_param",status="400"} 1`,
		`synthcast_requests_total{route="/create_stream",status="200"} 1`,
		"synthcast_streams 1",
		"synthcast_store_commits_total",
		"synthcast_store_commit_seconds_bucket",
		"process_resident_memory_bytes",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(metrics, id) {
		t.Errorf("/metrics names a token")
	}
	code, status := get("http://" + in.admin + "/status")
	var st struct {
		Version string
		Config  struct{ Store string }
		Now     struct{ Streams int }
		Formats []struct{ Streams int }
	}
	if err := json.Unmarshal([]byte(status), &st); code != 200 || err != nil || st.Config.Store != "bolt" || st.Now.Streams != 1 || len(st.Formats) != 1 {
		t.Errorf("admin /status = %d %s (%v)", code, status, err)
	}
	if strings.Contains(status, id) {
		t.Errorf("/status names a token")
	}
	if code, _ := get("http://" + in.admin + "/debug/pprof/"); code != 200 {
		t.Errorf("admin /debug/pprof/ = %d", code)
	}
	for _, path := range []string{"/metrics", "/status", "/debug/pprof/"} {
		if r := in.get(t, path); r.status != 404 {
			t.Errorf("public %s = %d; want 404 (admin routes stay off the public port)", path, r.status)
		}
	}
}

// ICY metadata as players read it: ffmpeg (-icy 1) and mpg123 show the
// stream's name and title, and a /set_param changes the title they show.
func TestE2EICYPlayers(t *testing.T) {
	needTool(t, "ffmpeg")
	needTool(t, "mpg123")
	in := start(t)
	id := in.create(t, "?mode=melody&name=Night%20drive")
	url := in.url("/stream?id=" + id)
	go func() {
		time.Sleep(2 * time.Second) // the players are reading by then
		in.get(t, "/set_param?id="+id+"&tempo=90")
	}()
	type result struct {
		out []byte
		err error
	}
	ff := make(chan result, 1)
	go func() {
		cmd := exec.Command("timeout", "8", "ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "verbose", "-icy", "1", "-i", url, "-t", "6", "-f", "null", "-")
		out, err := cmd.CombinedOutput()
		ff <- result{out, err}
	}()
	mp, err := exec.Command("timeout", "7", "mpg123", "-v", "-t", url).CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ICY-NAME: Night drive",
		"ICY-META: StreamTitle='Night drive · melody · C4 pentatonic · 120 bpm';",
		"ICY-META: StreamTitle='Night drive · melody · C4 pentatonic · 90 bpm';",
	} {
		if !bytes.Contains(mp, []byte(want)) {
			t.Errorf("mpg123 did not show %q:\n%s", want, tail(mp, 2000))
		}
	}
	r := <-ff
	for _, want := range []string{
		"icy-name        : Night drive",
		"StreamTitle     : Night drive · melody · C4 pentatonic · 120 bpm",
		"Metadata update for StreamTitle: Night drive · melody · C4 pentatonic · 90 bpm",
	} {
		if !bytes.Contains(r.out, []byte(want)) {
			t.Errorf("ffmpeg did not show %q (%v):\n%s", want, r.err, tail(r.out, 2000))
		}
	}
}

func tail(b []byte, n int) []byte { return b[max(0, len(b)-n):] }

// The ICY byte layout on the wire, across a fan-out join (the second
// listener's burst comes from the ring) and a title change: every block
// after exactly 16,000 audio bytes from each listener's first, the audio a
// valid chain of MP3 frames, and a listener without the header gets no
// metaint and no blocks. (128 kbit/s is 16,000 bytes a second: a block a second.)
func TestE2EICYLayout(t *testing.T) {
	in := start(t)
	id := in.create(t, "?mode=melody")
	icy1 := dialICY(t, in.addr, id, true)
	time.Sleep(700 * time.Millisecond) // the ring fills: the next joiner's burst is cut from it
	icy2 := dialICY(t, in.addr, id, true)
	plain := dialICY(t, in.addr, id, false)
	in.get(t, "/set_param?id="+id+"&tempo=150")
	deadline := time.Now().Add(3 * time.Second)
	errs := make(chan error, 3)
	for _, r := range []*icyReader{icy1, icy2, plain} {
		go func() { errs <- r.readUntil(deadline) }() // all at once: each at real time
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range []*icyReader{icy1, icy2} {
		if r.metaint != "16000" {
			t.Fatalf("listener %d: icy-metaint %q; want 16000", i, r.metaint)
		}
		audio, titles := splitICY(t, r.body)
		checkFrames(t, audio)
		if len(titles) < 3 || titles[0] != "melody · C4 pentatonic · 120 bpm" {
			t.Fatalf("listener %d: %d blocks, first %q", i, len(titles), titles)
		}
		changed := false
		for _, ti := range titles[1:] {
			switch ti {
			case "":
			case "melody · C4 pentatonic · 150 bpm":
				changed = true
			default:
				t.Errorf("listener %d: unexpected title %q", i, ti)
			}
		}
		if !changed {
			t.Errorf("listener %d: the title did not change after set_param: %q", i, titles)
		}
	}
	if plain.metaint != "" {
		t.Errorf("a listener without Icy-MetaData got icy-metaint %q", plain.metaint)
	}
	checkFrames(t, plain.body)
}

type icyReader struct {
	c       net.Conn
	br      *bufio.Reader
	metaint string
	body    []byte
}

func dialICY(t *testing.T, addr, id string, icy bool) *icyReader {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	hdr := ""
	if icy {
		hdr = "Icy-MetaData: 1\r\n"
	}
	fmt.Fprintf(c, "GET /stream?id=%s HTTP/1.1\r\nHost: x\r\n%s\r\n", id, hdr)
	br := bufio.NewReaderSize(c, 64<<10)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("/stream: %v", err)
	}
	if resp.Header.Get("Access-Control-Allow-Headers") != "Icy-MetaData" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), "icy-metaint") {
		t.Errorf("/stream CORS headers: %v", resp.Header)
	}
	for _, h := range []string{"icy-name", "icy-description", "icy-genre", "icy-br", "icy-sr", "ice-audio-info", "icy-pub"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("/stream lacks %s", h)
		}
	}
	return &icyReader{c: c, br: br, metaint: resp.Header.Get("icy-metaint")}
}

func (r *icyReader) readUntil(deadline time.Time) error {
	buf := make([]byte, 32<<10)
	for {
		_ = r.c.SetReadDeadline(deadline)
		n, err := r.br.Read(buf)
		r.body = append(r.body, buf[:n]...)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return nil
			}
			return fmt.Errorf("reading: %w", err)
		}
	}
}

// splitICY splits a body into audio and block titles ("" for a zero block).
func splitICY(t *testing.T, body []byte) (audio []byte, titles []string) {
	t.Helper()
	for len(body) > 16000 {
		audio = append(audio, body[:16000]...)
		body = body[16000:]
		l := int(body[0]) * 16
		if 1+l > len(body) {
			break // cut by the end of the read
		}
		text := strings.TrimRight(string(body[1:1+l]), "\x00")
		body = body[1+l:]
		if l == 0 {
			titles = append(titles, "")
			continue
		}
		m := regexp.MustCompile(`^StreamTitle='(.*)';$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("metadata block %q", text)
		}
		titles = append(titles, m[1])
	}
	return append(audio, body...), titles
}

// checkFrames walks b as a chain of MPEG audio frames (the last may be cut).
func checkFrames(t *testing.T, b []byte) {
	t.Helper()
	frames := 0
	for len(b) >= 4 {
		if b[0] != 0xff || b[1]&0xe0 != 0xe0 {
			t.Fatalf("sync lost after %d frames: % x", frames, b[:4])
		}
		n := frameLen(b)
		if n <= 4 {
			t.Fatalf("bad frame header after %d frames: % x", frames, b[:4])
		}
		if n > len(b) {
			break
		}
		b = b[n:]
		frames++
	}
	if frames < 40 {
		t.Errorf("only %d frames", frames)
	}
}

// frameLen is the length of the MPEG-1/2 layer III frame whose header
// starts b (synthcast sends no padding-free variants beyond these).
func frameLen(b []byte) int {
	v1 := b[1]&0x18 == 0x18
	br := int(b[2] >> 4)
	sr := int(b[2]>>2) & 3
	pad := int(b[2]>>1) & 1
	rates1 := [16]int{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	rates2 := [16]int{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
	srs1 := [4]int{44100, 48000, 32000}
	srs2 := [4]int{22050, 24000, 16000}
	if v1 {
		if srs1[sr] == 0 || rates1[br] == 0 {
			return 0
		}
		return 144000*rates1[br]/srs1[sr] + pad
	}
	if srs2[sr] == 0 || rates2[br] == 0 {
		return 0
	}
	return 72000*rates2[br]/srs2[sr] + pad
}

// SIGTERM stops gracefully: exit 0, a listener sees its stream end with a
// FIN (EOF, not a reset), and what was acknowledged is kept.
func TestE2EGracefulStop(t *testing.T) {
	dir := t.TempDir()
	p := launch(t, "-data-dir", dir, "-shutdown-timeout", "5s")
	id := p.create(t, "")
	r := dialStream(t, p.addr, id, 0)
	r.readHead(t)
	if got := p.get(t, "/set_param?id="+id+"&freq=330"); got.status != 200 {
		t.Fatal(got.status)
	}
	t0 := time.Now()
	p.stop(t)
	if d := time.Since(t0); d > 5*time.Second {
		t.Errorf("graceful stop took %v; want within -shutdown-timeout", d)
	}
	_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, r.br)
	if err != nil {
		t.Errorf("listener's stream ended with %v; want EOF (a FIN, not a reset)", err)
	}
	p = launch(t, "-data-dir", dir)
	defer p.stop(t)
	if got := p.get(t, "/params?id="+id).body["params"].(map[string]any)["freq"]; got != 330.0 {
		t.Errorf("freq after a graceful stop = %v; want 330", got)
	}
}

// SIGHUP reopens the log files, as logrotate needs; the access log has a
// line per request and no token.
func TestE2EAccessLogReopen(t *testing.T) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "access.log")
	p := launch(t, "-store", "memory", "-access-log", logf)
	defer p.stop(t)
	id := p.create(t, "")
	if err := os.Rename(logf, logf+".1"); err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(p.logs.String(), "log files reopened") {
		if time.Now().After(deadline) {
			t.Fatalf("no reopen logged after SIGHUP")
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.get(t, "/params?id="+id)
	deadline = time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(logf)
		if bytes.Contains(b, []byte("GET /params 200")) {
			if bytes.Contains(b, []byte(id)) {
				t.Errorf("access log names a token: %s", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("new access log after SIGHUP: %q; want the /params line", b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	old, _ := os.ReadFile(logf + ".1")
	if !bytes.Contains(old, []byte("GET /create_stream 200")) {
		t.Errorf("rotated access log: %q; want the create line", old)
	}
}

// -version prints the version and build; -log-format json logs JSON lines.
func TestE2EVersionAndJSONLogs(t *testing.T) {
	out, err := exec.Command(binPath, "-version").CombinedOutput()
	if err != nil || !regexp.MustCompile(`^synthcast \S+ go1\.\d+`).Match(out) {
		t.Errorf("-version = %q, %v", out, err)
	}
	cmd := exec.Command(binPath, "-listen", "127.0.0.1:0", "-admin-listen", "", "-store", "memory", "-log-format", "json")
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		if line["msg"] == "listening" {
			if _, ok := line["addr"].(string); !ok {
				t.Errorf("listening line without addr: %v", line)
			}
			return
		}
	}
	t.Fatal("no listening line")
}

// HTTP edges: unknown methods get 501, known ones not served 405 with
// Allow, OPTIONS answers a CORS preflight, JSON answers carry CORS, HEAD
// changes nothing, and every 503 has Retry-After.
func TestE2EHTTPEdges(t *testing.T) {
	in := start(t, "-max-streams", "2")
	id := in.create(t, "")
	for _, tc := range []struct {
		req  string
		want string
	}{
		{"BREW /params HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 501 "},
		{"DELETE /params HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", "HTTP/1.1 405 "},
		{"OPTIONS /set_param HTTP/1.1\r\nHost: x\r\nOrigin: http://a.example\r\nAccess-Control-Request-Method: GET\r\nConnection: close\r\n\r\n", "HTTP/1.1 204 "},
		{"GET /params?id=" + id + " HTTP/1.1\r\nHost: x\r\nExpect: teapot\r\nConnection: close\r\n\r\n", "HTTP/1.1 417 "},
		{"GET /params?id=" + id + " HTTP/1.1\r\nHost: [::1%25en0]:80\r\nConnection: close\r\n\r\n", "HTTP/1.1 200 "},
	} {
		got, _ := rawExchange(t, in.addr, tc.req, 0)
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q → %q; want %s", tc.req, firstLine(got), tc.want)
		}
		if strings.HasPrefix(tc.req, "DELETE") && !strings.Contains(got, "Allow: GET, HEAD, OPTIONS") {
			t.Errorf("405 without Allow: %q", got)
		}
		if strings.HasPrefix(tc.req, "OPTIONS") && (!strings.Contains(got, "Access-Control-Allow-Origin: *") || !strings.Contains(got, "Access-Control-Allow-Methods: GET, HEAD, OPTIONS")) {
			t.Errorf("preflight without CORS: %q", got)
		}
	}
	if r := in.get(t, "/params?id="+id); r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("control route without CORS: %v", r.header)
	}
	if r := in.do(t, "HEAD", "/create_stream"); r.status != 200 {
		t.Errorf("HEAD /create_stream = %d", r.status)
	}
	if r := in.do(t, "HEAD", "/set_param?id="+id+"&freq=999"); r.status != 200 {
		t.Errorf("HEAD /set_param = %d", r.status)
	}
	if f := in.get(t, "/params?id="+id).body["params"].(map[string]any)["freq"]; f != 440.0 {
		t.Errorf("freq after HEAD /set_param = %v; want 440 (HEAD changes nothing)", f)
	}
	in.create(t, "") // the second of two: HEAD /create_stream made none
	r := in.get(t, "/create_stream")
	if r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("create past the cap = %d, Retry-After %q; want 503 with Retry-After", r.status, r.header.Get("Retry-After"))
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}

// A flood of stalled listeners is held under -max-queued-bytes: the ones
// furthest behind are dropped (reason "memory"), the queued total stays
// near the bound, and the server's RSS grows by far less than the queues
// would hold without it (100 listeners × ~600 KB of burst and backlog).
func TestE2EStalledFloodBounded(t *testing.T) {
	const bound = 4 << 20
	in := start(t, "-store", "memory", "-queue-bytes", "1048576", "-max-queued-bytes", fmt.Sprint(bound), "-prebuffer", "15s")
	id := in.create(t, "?samplerate=48000&bitrate=320")
	before := rssKiB(t, in.cmd.Process.Pid)
	readers := make([]*streamReader, 5) // these keep up, and must stay
	for i := range readers {
		readers[i] = dialStream(t, in.addr, id, 0)
		readers[i].readHead(t)
		go func(r *streamReader) { _, _ = io.Copy(io.Discard, r.br) }(readers[i])
	}
	for range 100 {
		dialStream(t, in.addr, id, 4096) // never read: each stalls at once
	}
	metric := func(name string) float64 {
		resp, err := client.Get("http://" + in.admin + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == name {
				var v float64
				fmt.Sscan(f[1], &v)
				return v
			}
		}
		t.Fatalf("no %s in /metrics", name)
		return 0
	}
	deadline := time.Now().Add(20 * time.Second)
	for metric(`synthcast_listeners_dropped_total{reason="memory"}`) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no listener dropped for memory in 20 s; queued %v", metric("synthcast_listener_queued_bytes"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // let it settle under the bound
	queued := metric("synthcast_listener_queued_bytes")
	grown := rssKiB(t, in.cmd.Process.Pid) - before
	t.Logf("100 stalled listeners: %v dropped for memory, %v at their own bound, %.1f MiB queued, RSS +%.1f MiB",
		metric(`synthcast_listeners_dropped_total{reason="memory"}`), metric(`synthcast_listeners_dropped_total{reason="queue"}`), queued/(1<<20), float64(grown)/1024)
	if l := metric("synthcast_listeners"); l != 5 {
		t.Errorf("%v listeners left; want the 5 that keep up", l)
	}
	if queued > 2*bound {
		t.Errorf("%.1f MiB queued in all; want near the %d MiB bound", queued/(1<<20), bound>>20)
	}
	if grown > 24<<10 {
		t.Errorf("RSS grew %d KiB under a %d MiB bound; want it held (without it: ~60 MiB)", grown, bound>>20)
	}
}
