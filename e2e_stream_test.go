package main

// End-to-end tests of /stream: real clients (ffmpeg, ffprobe, mpg123) and raw
// TCP readers that walk the MP3 frames as they arrive.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/synthcast/synthcast/render"
)

// needTool skips (or, in CI, fails) a test whose external client is missing.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not installed (make deps installs it)", name)
		}
		t.Skipf("%s not installed", name)
	}
}

// streamReader is a raw /stream client: it reads the response head, then
// the body, and keeps every byte with the audio duration it carries.
type streamReader struct {
	conn      net.Conn
	br        *bufio.Reader
	connected time.Time // just before the dial
	headAt    time.Time // response head read
	header    http.Header
	status    int
	close     bool // the response said Connection: close

	body   []byte  // MP3 bytes received
	frames int     // whole frames parsed
	audio  float64 // seconds of audio in those frames
	parsed int     // bytes of body walked
}

func dialStream(t *testing.T, addr, id string, rcvbuf int) *streamReader {
	t.Helper()
	d := net.Dialer{}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	r := &streamReader{connected: time.Now()}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	r.conn = c
	if _, err := fmt.Fprintf(c, "GET /stream?id=%s HTTP/1.1\r\nHost: test\r\nUser-Agent: e2e\r\n\r\n", id); err != nil {
		t.Fatal(err)
	}
	return r
}

// readHead reads the response head.
func (r *streamReader) readHead(t *testing.T) {
	t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	r.br = bufio.NewReaderSize(r.conn, 64<<10)
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		t.Fatalf("reading the /stream response head: %v", err)
	}
	r.headAt = time.Now()
	r.status, r.header, r.close = resp.StatusCode, resp.Header, resp.Close
}

// readFor reads the body until d has passed since the connection began,
// walking frame headers; check is called after every read.
func (r *streamReader) readFor(t *testing.T, until time.Time, check func(now time.Time)) {
	t.Helper()
	buf := make([]byte, 64<<10)
	for time.Now().Before(until) {
		_ = r.conn.SetReadDeadline(until)
		n, err := r.br.Read(buf)
		r.body = append(r.body, buf[:n]...)
		r.walk(t)
		if check != nil {
			check(time.Now())
		}
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return
			}
			t.Fatalf("reading the stream: %v (after %d bytes)", err, len(r.body))
		}
	}
}

// walk parses the frames received so far; a byte that is not a frame
// header where one must start fails the test (a sync loss).
func (r *streamReader) walk(t *testing.T) {
	t.Helper()
	for {
		rest := r.body[r.parsed:]
		if len(rest) < 4 {
			return
		}
		h, err := render.ParseFrameHeader(rest)
		if err != nil {
			t.Fatalf("sync lost at body byte %d (frame %d): %v", r.parsed, r.frames, err)
		}
		if len(rest) < h.Length {
			return
		}
		r.parsed += h.Length
		r.frames++
		r.audio += float64(h.Samples) / float64(h.SampleRate)
	}
}

func TestE2EStreamHeadersAndFFmpeg(t *testing.T) {
	needTool(t, "ffmpeg")
	in := start(t)
	id := in.create(t, "?mode=melody")

	r := dialStream(t, in.addr, id, 0)
	r.readHead(t)
	want := map[string]string{
		"Content-Type":                "audio/mpeg",
		"Cache-Control":               "no-cache, no-store",
		"Pragma":                      "no-cache",
		"Access-Control-Allow-Origin": "*",
		"Icy-Br":                      "128",
	}
	for k, v := range want {
		if got := r.header.Get(k); got != v {
			t.Errorf("/stream header %s = %q; want %q", k, got, v)
		}
	}
	for _, k := range []string{"Expires", "Icy-Name", "Icy-Description"} {
		if r.header.Get(k) == "" {
			t.Errorf("/stream has no %s header", k)
		}
	}
	if !r.close {
		t.Errorf("/stream response lacks Connection: close")
	}
	if r.header.Get("Content-Length") != "" || r.status != 200 {
		t.Errorf("/stream: status %d, Content-Length %q; want 200 and none", r.status, r.header.Get("Content-Length"))
	}

	h := in.do(t, "HEAD", "/stream?id="+id)
	if h.status != 200 || h.header.Get("Content-Type") != "audio/mpeg" || len(h.raw) != 0 {
		t.Errorf("HEAD /stream = %d %q with %d body bytes; want 200 audio/mpeg, no body", h.status, h.header.Get("Content-Type"), len(h.raw))
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	began := time.Now()
	out, err := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "error", "-t", "5", "-i", in.url("/stream?id="+id), "-f", "null", "-").CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("ffmpeg decoding 5 s of the stream: %v\n%s", err, out)
	}
	// 5 s of audio with a 1.5 s burst cannot arrive in much less than 3.5 s.
	if took := time.Since(began); took < 3*time.Second {
		t.Errorf("ffmpeg got 5 s of audio in %v: the stream is not paced", took)
	}
}

func TestE2EStreamMpg123(t *testing.T) {
	needTool(t, "mpg123")
	in := start(t)
	id := in.create(t, "?wave=saw&freq=220")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// -t: decode without output; -n 191: 5 s of 1152-sample frames at 44.1 kHz.
	cmd := exec.CommandContext(ctx, "mpg123", "-t", "-n", "191", in.url("/stream?id="+id))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("mpg123: %v\n%s", err, out)
	}
	for _, bad := range []string{"error", "Error", "warning", "Warning", "Illegal", "resync"} {
		if strings.Contains(string(out), bad) {
			t.Fatalf("mpg123 reported %q:\n%s", bad, out)
		}
	}
}

// The pacing invariant: a reader that reads as fast as it can never holds
// more than prebuffer + one tick ahead of elapsed time, and never less than
// elapsed time (no underrun).
func TestE2EStreamPacing(t *testing.T) {
	in := start(t)
	id := in.create(t, "")
	const prebuffer, tick, frame = 1.0, 0.5, 1152.0 / 44100
	r := dialStream(t, in.addr, id, 0)
	r.readHead(t)
	minLead, maxLead := math.Inf(1), math.Inf(-1)
	r.readFor(t, r.connected.Add(4*time.Second), func(now time.Time) {
		sinceConnect := now.Sub(r.connected).Seconds()
		if r.audio > sinceConnect+prebuffer+tick+frame {
			t.Fatalf("after %.3f s a fast reader holds %.3f s of audio; want at most %.3f", sinceConnect, r.audio, sinceConnect+prebuffer+tick+frame)
		}
		if r.frames == 0 {
			return
		}
		sinceHead := now.Sub(r.headAt).Seconds()
		lead := r.audio - sinceHead
		if lead < 0 {
			t.Fatalf("underrun: %.3f s after the head, only %.3f s of audio", sinceHead, r.audio)
		}
		if sinceHead > prebuffer { // once the burst is in, the lead stays near [prebuffer, prebuffer+tick]
			minLead, maxLead = min(minLead, lead), max(maxLead, lead)
		}
	})
	t.Logf("lead over real time after the burst: min %.3f s, max %.3f s (prebuffer %.1f, tick %.1f)", minLead, maxLead, prebuffer, tick)
	if minLead < prebuffer-tick/2 {
		t.Errorf("lead fell to %.3f s; want it to stay at about prebuffer %.1f s or more", minLead, prebuffer)
	}
}

// decodeMono decodes MP3 bytes with ffmpeg to 16-bit mono PCM at rate.
func decodeMono(t *testing.T, mp3 []byte, rate int) []int16 {
	t.Helper()
	cmd := exec.Command("ffmpeg", "-nostdin", "-v", "error", "-f", "mp3", "-i", "pipe:0", "-ac", "1", "-ar", strconv.Itoa(rate), "-f", "s16le", "pipe:1")
	cmd.Stdin = bytes.NewReader(mp3)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || stderr.Len() > 0 {
		t.Fatalf("ffmpeg decoding: %v\n%s", err, stderr.String())
	}
	pcm := make([]int16, len(out)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(out[2*i:]))
	}
	return pcm
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// zeroCrossingFreq estimates the frequency of a steady tone from its rising zero crossings.
func zeroCrossingFreq(pcm []int16, rate int) float64 {
	first, last, n := -1, -1, 0
	for i := 1; i < len(pcm); i++ {
		if pcm[i-1] < 0 && pcm[i] >= 0 {
			if first < 0 {
				first = i
			}
			last = i
			n++
		}
	}
	if n < 2 {
		return 0
	}
	return float64(n-1) * float64(rate) / float64(last-first)
}

// After /set_param the decoded audio's frequency changes, at a stream
// position a real-time player reaches no later than prebuffer + one tick
// after the call.
func TestE2EStreamSetParamHeard(t *testing.T) {
	needTool(t, "ffmpeg")
	in := start(t)
	id := in.create(t, "?freq=440")
	r := dialStream(t, in.addr, id, 0)
	r.readHead(t)
	r.readFor(t, r.connected.Add(2200*time.Millisecond), nil)
	called := time.Now()
	if resp := in.get(t, "/set_param?id="+id+"&freq=1000"); resp.status != 200 {
		t.Fatalf("set_param: %d %s", resp.status, resp.raw)
	}
	r.readFor(t, called.Add(3*time.Second), nil)

	const rate = 16000
	pcm := decodeMono(t, r.body[:r.parsed], rate)
	// The player starts at the head's arrival: audio position p plays at headAt + p.
	callPos := called.Sub(r.headAt).Seconds()
	win := rate / 20 // 50 ms windows
	change, steady := -1.0, 0
	// The first 100 ms hold the decoder's start-up delay and the fade-in.
	for i := rate / 10; i+win <= len(pcm); i += win {
		w := pcm[i : i+win]
		peak := 0
		for _, v := range w {
			peak = max(peak, abs(int(v)))
		}
		if peak < 2000 {
			continue // the decoder's start-up delay, or the fade-in: no pitch to read
		}
		f, pos := zeroCrossingFreq(w, rate), float64(i)/rate
		switch {
		case math.Abs(f-440) < 30:
			if change >= 0 {
				t.Fatalf("at %.2f s the tone is back at 440 Hz after changing at %.2f s", pos, change)
			}
			steady++
		case math.Abs(f-1000) < 50:
			if change < 0 {
				change = pos
			}
		default:
			// A window that straddles the 8 ms glide reads in between.
			if change >= 0 || pos < callPos {
				t.Fatalf("at %.2f s the tone is %.0f Hz; want 440 before the change and 1000 after", pos, f)
			}
		}
	}
	if steady < 20 {
		t.Fatalf("only %d windows of 440 Hz before the change; the stream did not start as set", steady)
	}
	if change < 0 {
		t.Fatalf("the tone never changed to 1000 Hz in %.1f s of audio", float64(len(pcm))/rate)
	}
	if change < callPos {
		t.Fatalf("the tone changed at audio position %.2f s, before the call at %.2f s", change, callPos)
	}
	heardAfter := change - callPos
	t.Logf("set_param heard %.3f s after the call (audio position %.3f s)", heardAfter, change)
	if limit := 1.0 + 0.5 + 0.05; heardAfter > limit { // prebuffer + tick + one window
		t.Errorf("set_param heard %.3f s after the call; want at most %.2f s", heardAfter, limit)
	}
}

// Two listeners of one token receive the same frames from the later one's
// join point on: one render, fanned out.
func TestE2EStreamFanOutIdentical(t *testing.T) {
	in := start(t)
	id := in.create(t, "?mode=melody&seed=7")
	a := dialStream(t, in.addr, id, 0)
	a.readHead(t)
	a.readFor(t, a.connected.Add(1500*time.Millisecond), nil)
	b := dialStream(t, in.addr, id, 0)
	b.readHead(t)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.readFor(t, b.connected.Add(3*time.Second), nil) }()
	b.readFor(t, b.connected.Add(3*time.Second), nil)
	wg.Wait()

	bb := b.body[:b.parsed]
	if len(bb) < 8<<10 {
		t.Fatalf("the second listener got only %d bytes", len(bb))
	}
	// B's first frame must sit at a frame boundary of A's stream, and
	// everything after it must match byte for byte.
	probe := bb[:min(len(bb), 2048)]
	at := bytes.Index(a.body, probe)
	if at < 0 {
		t.Fatalf("the second listener's first 2 KiB do not appear in the first's stream")
	}
	n := min(len(bb), len(a.body)-at)
	if !bytes.Equal(a.body[at:at+n], bb[:n]) {
		t.Fatalf("the listeners' streams differ after the join point")
	}
	if n < 16<<10 {
		t.Fatalf("only %d common bytes; want at least a second of audio", n)
	}
}

func healthz(t *testing.T, in *instance) map[string]any {
	t.Helper()
	return in.get(t, "/healthz").body
}

// A listener that stops reading is dropped at the bound, while another
// keeps real time; server memory stays bounded.
func TestE2EStreamSlowListenerDropped(t *testing.T) {
	in := start(t, "-queue-bytes", "65536")
	id := in.create(t, "")
	rssBefore := rssKiB(t, in.cmd.Process.Pid)

	const slow = 20
	var slows []*streamReader
	for range slow {
		s := dialStream(t, in.addr, id, 4096) // reads nothing, small receive window
		slows = append(slows, s)
	}
	fast := dialStream(t, in.addr, id, 0)
	fast.readHead(t)
	deadline := time.Now().Add(20 * time.Second)
	fast.readFor(t, fast.connected.Add(3*time.Second), func(now time.Time) {
		if lead := fast.audio - now.Sub(fast.headAt).Seconds(); fast.frames > 0 && lead < 0 {
			t.Fatalf("the reading listener underran (lead %.3f s) while others stalled", lead)
		}
	})
	for {
		if d := healthz(t, in)["dropped"].(float64); d >= slow {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s, %v of %d stalled listeners were dropped; want all", healthz(t, in)["dropped"], slow)
		}
		fast.readFor(t, time.Now().Add(200*time.Millisecond), nil)
	}
	// The reader is still served in real time after the drops.
	fast.readFor(t, time.Now().Add(time.Second), nil)
	if lead := fast.audio - time.Since(fast.headAt).Seconds(); lead < 0.5 {
		t.Errorf("reading listener's lead %.3f s after the drops; want ≥ 0.5", lead)
	}
	// Dropped listeners' connections are closed: reading them ends in EOF or reset.
	for _, s := range slows {
		_ = s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.Copy(io.Discard, s.conn); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("a dropped listener's connection is still open")
			}
		}
	}
	rssAfter := rssKiB(t, in.cmd.Process.Pid)
	t.Logf("server RSS %d KiB before, %d KiB after %d stalled listeners", rssBefore, rssAfter, slow)
	if grow := rssAfter - rssBefore; grow > 64<<10 {
		t.Errorf("server RSS grew by %d KiB with %d stalled listeners bounded at 64 KiB each", grow, slow)
	}
}

func rssKiB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// When the last listener leaves, rendering stops within one tick.
func TestE2EStreamLastListenerCancels(t *testing.T) {
	in := start(t)
	id := in.create(t, "")
	a := dialStream(t, in.addr, id, 0)
	a.readHead(t)
	b := dialStream(t, in.addr, id, 0)
	b.readHead(t)
	a.readFor(t, a.connected.Add(time.Second), nil)
	if h := healthz(t, in); h["render_sessions"] != 1.0 || h["listeners"] != 2.0 {
		t.Fatalf("with two listeners of one stream: %v; want 1 render session, 2 listeners", h)
	}
	a.conn.Close()
	b.readFor(t, time.Now().Add(700*time.Millisecond), nil)
	if h := healthz(t, in); h["render_sessions"] != 1.0 {
		t.Fatalf("with one listener left: %v; want the render session kept", h)
	}
	b.conn.Close()
	closed := time.Now()
	for {
		h := healthz(t, in)
		if h["render_sessions"] == 0.0 && h["render_jobs"] == 0.0 && h["listeners"] == 0.0 {
			t.Logf("render stopped %v after the last listener left", time.Since(closed))
			break
		}
		if time.Since(closed) > 500*time.Millisecond+300*time.Millisecond { // one tick, plus the test's own slack
			t.Fatalf("%v after the last listener left: %v; want no render session or job", time.Since(closed), h)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Every output format /create_stream accepts decodes with ffprobe at its declared rate.
func TestE2EStreamFormats(t *testing.T) {
	needTool(t, "ffprobe")
	in := start(t)
	type probe struct{ q, want string }
	var probes []probe
	for _, rate := range render.SampleRates() {
		for _, ch := range []int{1, 2} {
			brs := render.BitratesFor(rate, ch)
			for _, br := range []int{brs[0], brs[len(brs)/2], brs[len(brs)-1]} {
				probes = append(probes, probe{
					q:    fmt.Sprintf("?samplerate=%d&channels=%d&bitrate=%d", rate, ch, br),
					want: fmt.Sprintf("codec_name=mp3\nsample_rate=%d\nchannels=%d\nbit_rate=%d\n", rate, ch, br*1000),
				})
			}
		}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4)
	for _, p := range probes {
		id := in.create(t, p.q)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			// A CBR stream's first frames tell everything; a small probe keeps
			// ffprobe from waiting for seconds of a paced live stream.
			out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-probesize", "32768", "-analyzeduration", "500000",
				"-show_entries", "stream=codec_name,sample_rate,channels,bit_rate",
				"-of", "default=noprint_wrappers=1", in.url("/stream?id="+id)).CombinedOutput()
			if err != nil || string(out) != p.want {
				t.Errorf("ffprobe %s: %v\n%s\nwant\n%s", p.q, err, out, p.want)
			}
		}()
	}
	wg.Wait()
}

func TestE2EStreamLimitsAndTTL(t *testing.T) {
	in := start(t, "-max-listeners", "2", "-stream-ttl", "1s")
	id := in.create(t, "")
	a := dialStream(t, in.addr, id, 0)
	a.readHead(t)
	b := dialStream(t, in.addr, id, 0)
	b.readHead(t)
	if r := in.get(t, "/stream?id="+id); r.status != 503 {
		t.Fatalf("third listener with -max-listeners 2: %d %s; want 503", r.status, r.raw)
	}
	if r := in.get(t, "/stream?id="+strings.Repeat("x", 22)); r.status != 404 {
		t.Fatalf("/stream with an unknown id: %d; want 404", r.status)
	}
	// A stream with listeners outlives its TTL; an idle one does not.
	idle := in.create(t, "")
	a.readFor(t, time.Now().Add(2*time.Second), nil)
	if r := in.get(t, "/params?id="+id); r.status != 200 {
		t.Fatalf("a stream with listeners expired: %d", r.status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for in.get(t, "/params?id="+idle).status != 404 {
		if time.Now().After(deadline) {
			t.Fatalf("a stream without listeners outlived -stream-ttl 1s by 9 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
