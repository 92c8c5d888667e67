package main

// The cluster tests' harness: external servers run in the foreground and
// stopped by their PID (redis-server, nginx, HAProxy), the synthcast nodes,
// the shipped proxy configurations rendered with the test's addresses,
// players that record what arrives and when (a raw one that may reconnect,
// and ffmpeg with its reconnect options), and the measures the tests take
// of their audio.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/synthcast/synthcast/render"
)

// extProc is an external server run in the foreground (redis-server, nginx,
// haproxy) and stopped by its PID.
type extProc struct {
	name string
	addr string // where it accepts connections
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when it has exited
}

// startExt runs name with args and waits until addr accepts a
// connection. It is stopped at the test's end if still running.
func startExt(t *testing.T, name, addr string, args ...string) *extProc {
	t.Helper()
	d := &extProc{name: name, addr: addr, cmd: exec.Command(name, args...), logs: &syncBuffer{}, done: make(chan struct{})}
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	// A group of its own: nginx's workers share it, so a master that does
	// not stop on SIGTERM is killed with them (by the group's id).
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() { _ = d.cmd.Wait(); close(d.done) }()
	t.Cleanup(func() { d.stop(t) })
	deadline := time.Now().Add(extWait)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return d
		}
		select {
		case <-d.done:
			t.Fatalf("%s exited before accepting connections on %s: %v\n%s", name, addr, d.cmd.ProcessState, d.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not accept connections on %s within %v\n%s", name, addr, extWait, d.logs.String())
		}
	}
}

// stop ends the process with SIGTERM (nginx's fast shutdown) and waits; past
// extWait it kills its process group.
func (d *extProc) stop(t *testing.T) {
	select {
	case <-d.done:
		return
	default:
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(extWait):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.done
		t.Errorf("%s did not stop within %v of SIGTERM", d.name, extWait)
	}
}

// kill9 kills the process with SIGKILL and waits for it.
func (d *extProc) kill9() {
	_ = d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.done
}

// freeAddr returns a loopback address that was free a moment ago, for a
// server that cannot report the port it bound (redis-server, nginx,
// HAProxy); synthcast nodes take port 0 and report theirs.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// clusterNode is one synthcast node; p is nil while it is down.
type clusterNode struct {
	name, addr string
	p          *proc
}

func (n *clusterNode) inst() *instance { return &instance{addr: n.addr} }

// cluster is Redis, the nodes and both proxies in front of them.
type cluster struct {
	redis          *extProc
	redisAddr      string
	redisDir       string // its append-only file, kept across a restart
	nodes          []*clusterNode
	nginx, haproxy *instance // the proxies' addresses
	nginxD         *extProc
	haproxyD       *extProc
}

// newCluster starts redis-server, clusterNodes nodes and both proxies.
// Everything is stopped, in the reverse order, when the test ends.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	for _, tool := range []string{"redis-server", "nginx", "haproxy", "ffmpeg"} {
		needTool(t, tool)
	}
	c := &cluster{redisAddr: freeAddr(t), redisDir: t.TempDir()}
	c.startRedis(t)
	for i := 1; i <= clusterNodes; i++ {
		n := &clusterNode{name: fmt.Sprintf("n%d", i), addr: "127.0.0.1:0"}
		c.startNode(t, n)
		c.nodes = append(c.nodes, n)
	}
	c.nginx = c.startNginx(t)
	c.haproxy = c.startHAProxy(t)
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs(t)
		}
	})
	return c
}

// startRedis runs redis-server on c.redisAddr with its data in c.redisDir:
// no snapshots, an append-only file fsynced at every write, so a restart
// finds every write it acknowledged.
func (c *cluster) startRedis(t *testing.T) {
	t.Helper()
	_, port, _ := net.SplitHostPort(c.redisAddr)
	c.redis = startExt(t, "redis-server", c.redisAddr, "--port", port, "--bind", "127.0.0.1",
		"--dir", c.redisDir, "--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--daemonize", "no", "--logfile", "")
	deadline := time.Now().Add(extWait)
	for redisPing(c.redisAddr) != nil { // accepting is not ready: it may still be loading its file
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer PING within %v\n%s", extWait, c.redis.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisPing sends an inline PING and wants +PONG.
func redisPing(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// startNode starts n on n.addr (port 0 the first time; its own address
// again on a restart, where the proxies look for it). At the test's end a
// node still running is stopped with SIGTERM and must exit cleanly.
func (c *cluster) startNode(t *testing.T, n *clusterNode) {
	t.Helper()
	p := launch(t, "-listen", n.addr, "-admin-listen", "", "-store", "redis://"+c.redisAddr+"/0", "-node-name", n.name)
	n.p, n.addr = p, p.addr
	t.Cleanup(func() { // after the stop below
		if s := p.logs.String(); strings.Contains(s, "panic:") || strings.Contains(s, "DATA RACE") {
			t.Errorf("node %s logged a panic or race:\n%s", n.name, s)
		}
	})
	t.Cleanup(func() { // before launch's own SIGKILL
		if n.p != p {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-p.exited:
			if err != nil {
				t.Errorf("node %s exited with %v on SIGTERM\n%s", n.name, err, p.logs.String())
			}
		case <-time.After(15 * time.Second):
			t.Errorf("node %s did not stop within 15 s of SIGTERM", n.name)
		}
		n.p = nil
	})
}

// kill kills n with SIGKILL.
func (n *clusterNode) kill(t *testing.T) {
	t.Helper()
	n.p.kill9(t)
	n.p = nil
}

func (c *cluster) node(t *testing.T, name string) *clusterNode {
	t.Helper()
	for _, n := range c.nodes {
		if n.name == name {
			return n
		}
	}
	t.Fatalf("no node named %q (a proxy or node reported it)", name)
	return nil
}

// other returns a node that is none of names.
func (c *cluster) other(t *testing.T, names ...string) *clusterNode {
	t.Helper()
	for _, n := range c.nodes {
		if !slices.Contains(names, n.name) {
			return n
		}
	}
	t.Fatalf("every node is one of %v", names)
	return nil
}

// renderShipped reads a configuration shipped in deploy/ and replaces each
// old string of pairs (old, new, …) with its new one; every old string must
// be in the file, so a change to the shipped file that the test no longer
// matches fails here rather than testing something else.
func renderShipped(t *testing.T, path string, pairs ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(string(b), pairs[i]) {
			t.Fatalf("%s no longer contains %q, which the test replaces", path, pairs[i])
		}
	}
	return strings.NewReplacer(pairs...).Replace(string(b))
}

// shippedAddrs pairs the shipped configurations' addresses (the proxy on
// 127.0.0.1:8100, nodes on 8101–8103) with the test's.
func (c *cluster) shippedAddrs(proxy string) []string {
	pairs := []string{"127.0.0.1:8100", proxy}
	for i, n := range c.nodes {
		pairs = append(pairs, fmt.Sprintf("127.0.0.1:%d", 8101+i), n.addr)
	}
	return pairs
}

// startNginx runs deploy/nginx/synthcast.conf inside a minimal main
// configuration of the test's (nginx.conf's part on a real host): its own
// prefix directory, pid file and temporary paths, in the foreground.
func (c *cluster) startNginx(t *testing.T) *instance {
	t.Helper()
	dir, addr := t.TempDir(), freeAddr(t)
	site := renderShipped(t, "deploy/nginx/synthcast.conf", append(c.shippedAddrs(addr), "/var/log/nginx/", dir+"/")...)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("synthcast.conf", site)
	var temps strings.Builder
	for _, k := range []string{"client_body", "proxy", "fastcgi", "uwsgi", "scgi"} {
		fmt.Fprintf(&temps, "    %s_temp_path %s;\n", k, filepath.Join(dir, k))
	}
	write("nginx.conf", "daemon off;\nworker_processes 2;\npid "+filepath.Join(dir, "nginx.pid")+";\n"+
		"events { worker_connections 4096; }\n"+
		"http {\n"+temps.String()+"    include "+filepath.Join(dir, "synthcast.conf")+";\n}\n")
	c.nginxD = startExt(t, "nginx", addr, "-p", dir+"/", "-c", filepath.Join(dir, "nginx.conf"), "-e", "stderr")
	return &instance{addr: addr}
}

// startHAProxy runs deploy/haproxy/synthcast.cfg in the foreground (-db).
func (c *cluster) startHAProxy(t *testing.T) *instance {
	t.Helper()
	addr := freeAddr(t)
	cfg := filepath.Join(t.TempDir(), "synthcast.cfg")
	if err := os.WriteFile(cfg, []byte(renderShipped(t, "deploy/haproxy/synthcast.cfg", c.shippedAddrs(addr)...)), 0o644); err != nil {
		t.Fatal(err)
	}
	d := startExt(t, "haproxy", addr, "-f", cfg, "-db")
	// Every node up by its health checks, so the test starts from a full ring.
	c.haproxyD = d
	waitUntil(t, extWait, "HAProxy reaches every node", func() bool { return haproxyAllUp(addr, c) })
	return &instance{addr: addr}
}

// haproxyAllUp tells whether a request for /healthz through HAProxy reaches
// every node (round robin, as it carries no id) within a few tries.
func haproxyAllUp(addr string, c *cluster) bool {
	seen := map[string]bool{}
	for range 4 * len(c.nodes) {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		var body struct{ Node string }
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		seen[body.Node] = true
	}
	return len(seen) == len(c.nodes)
}

func (c *cluster) dumpLogs(t *testing.T) {
	for _, n := range c.nodes {
		if n.p != nil {
			t.Logf("node %s log (tail):\n%s", n.name, tail([]byte(n.p.logs.String()), 3000))
		}
	}
	for _, d := range []*extProc{c.redis, c.nginxD, c.haproxyD} {
		if d != nil {
			t.Logf("%s log (tail):\n%s", d.name, tail([]byte(d.logs.String()), 2000))
		}
	}
}

// waitUntil polls cond every 20 ms until it holds, failing the test after d.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	began := time.Now()
	for !cond() {
		if time.Since(began) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(began)
}

// createVia creates a stream through in (a proxy or a node) and returns
// its tokens, checking that they share their routing key.
func createVia(t *testing.T, in *instance, query string) (id, lid string, r apiResp) {
	t.Helper()
	r = in.get(t, "/create_stream"+query)
	if r.status != 200 {
		t.Fatalf("GET /create_stream%s via %s = %d %s; want 200", query, in.addr, r.status, r.raw)
	}
	id, _ = r.body["id"].(string)
	lid, _ = r.body["listen_id"].(string)
	if len(id) != 22 || len(lid) != 30 || id[:8] != lid[:8] {
		t.Fatalf("create: id %q, listen_id %q; want 22 and 30 characters sharing the first 8", id, lid)
	}
	return id, lid, r
}

// nodeOf asks in (a proxy or a node) for token's /params and returns the
// node that answered.
func nodeOf(t *testing.T, in *instance, token string) string {
	t.Helper()
	r := in.get(t, "/params?id="+token)
	name, _ := r.body["node"].(string)
	if r.status != 200 || name == "" {
		t.Fatalf("GET /params via %s = %d %s; want 200 naming its node", in.addr, r.status, r.raw)
	}
	return name
}

func paramsOf(t *testing.T, in *instance, token string) map[string]any {
	t.Helper()
	r := in.get(t, "/params?id="+token)
	p, _ := r.body["params"].(map[string]any)
	if r.status != 200 || p == nil {
		t.Fatalf("GET /params via %s = %d %s; want 200 with params", in.addr, r.status, r.raw)
	}
	return p
}

// recording is what a player received: the body bytes in order, and when
// each read arrived. Safe from any goroutine.
type recording struct {
	mu    sync.Mutex
	body  []byte
	reads []arrival
}

// arrival: body[:end] had arrived at at.
type arrival struct {
	at  time.Time
	end int
}

func (r *recording) add(p []byte, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.body = append(r.body, p...)
	r.reads = append(r.reads, arrival{at, len(r.body)})
}

func (r *recording) size() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.body) }

// since returns a copy of the body from off.
func (r *recording) since(off int) []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]byte(nil), r.body[off:]...)
}

// sizeAt returns how many body bytes had arrived at t.
func (r *recording) sizeAt(t time.Time) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, a := range r.reads {
		if a.at.After(t) {
			break
		}
		n = a.end
	}
	return n
}

// arrivalOf returns when body byte off arrived (zero if it has not).
func (r *recording) arrivalOf(off int) time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, a := range r.reads {
		if a.end > off {
			return a.at
		}
	}
	return time.Time{}
}

// longestGap returns the longest time between from and to without a read
// (the time from the last read to to counts).
func (r *recording) longestGap(from, to time.Time) time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	last, gap := from, time.Duration(0)
	for _, a := range r.reads {
		if a.at.After(from) && a.at.Before(to) {
			gap, last = max(gap, a.at.Sub(last)), a.at
		}
	}
	return max(gap, to.Sub(last))
}

// streamConn is one /stream response a liveStream received.
type streamConn struct {
	node   string    // its Synthcast-Node header
	status int       // its status
	first  time.Time // arrival of its first body byte; zero before
	off    int       // body offset of its first byte
}

// liveStream is a raw /stream player running in its own goroutine; with
// reconnect, it connects again reconnectBackoff after its response ends,
// as a player that reconnects does. It never fails the test: the test
// reads what it recorded.
type liveStream struct {
	recording
	conns []streamConn // guarded by recording.mu
}

// listenLive starts a player of token's /stream at addr, stopped when the
// test ends.
func listenLive(t *testing.T, addr, token string, reconnect bool) *liveStream {
	ctx, cancel := context.WithCancel(context.Background())
	l, done := &liveStream{}, make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			l.play(ctx, addr, token)
			if !reconnect {
				return
			}
			select {
			case <-ctx.Done():
			case <-time.After(reconnectBackoff):
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return l
}

// play reads one response to its end (or 3 s without a byte).
func (l *liveStream) play(ctx context.Context, addr, token string) {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return
	}
	defer conn.Close()
	defer context.AfterFunc(ctx, func() { conn.Close() })()
	fmt.Fprintf(conn, "GET /stream?id=%s HTTP/1.1\r\nHost: cluster\r\nUser-Agent: e2e-cluster\r\n\r\n", token)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 64<<10), nil)
	if err != nil {
		return
	}
	l.mu.Lock()
	l.conns = append(l.conns, streamConn{node: resp.Header.Get("Synthcast-Node"), status: resp.StatusCode, off: len(l.body)})
	i := len(l.conns) - 1
	l.mu.Unlock()
	if resp.StatusCode != 200 {
		return
	}
	buf := make([]byte, 64<<10)
	for {
		_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
		n, err := resp.Body.Read(buf) // chunked or not, as the proxy sends it
		if n > 0 {
			now := time.Now()
			l.mu.Lock()
			if l.conns[i].first.IsZero() {
				l.conns[i].first, l.conns[i].off = now, len(l.body)
			}
			l.mu.Unlock()
			l.add(buf[:n], now)
		}
		if err != nil {
			return
		}
	}
}

func (l *liveStream) connsNow() []streamConn {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]streamConn(nil), l.conns...)
}

// ffmpegPlayer is ffmpeg playing a stream: what it copied out, and its log.
type ffmpegPlayer struct {
	recording
	log *syncBuffer
}

// reconnects counts the times ffmpeg has said it reconnects.
func (f *ffmpegPlayer) reconnects() int { return strings.Count(f.log.String(), "Will reconnect at") }

// ffmpegListen plays url with ffmpeg and the README's reconnect options,
// copying the MP3 frames it reads (no ID3 tag, no Xing frame) as they come.
// ffmpeg is killed when the test ends.
func ffmpegListen(t *testing.T, url string) *ffmpegPlayer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ffmpeg", "-nostdin", "-v", "warning",
		"-reconnect", "1", "-reconnect_streamed", "1", "-reconnect_at_eof", "1",
		"-i", url, "-c", "copy", "-f", "mp3", "-id3v2_version", "0", "-write_xing", "0", "-flush_packets", "1", "pipe:1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	f, done := &ffmpegPlayer{log: &syncBuffer{}}, make(chan struct{})
	cmd.Stderr = f.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(done)
		buf := make([]byte, 64<<10)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				f.add(buf[:n], time.Now())
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("ffmpeg's log:\n%s", tail([]byte(f.log.String()), 2000))
		}
	})
	return f
}

// wholeFrames returns b's longest run of whole MP3 frames (frameRun).
func wholeFrames(b []byte) []byte {
	from, to := frameRun(b)
	return b[from:to]
}

// frameRun returns the longest run of whole MP3 frames in b, each header
// where the previous frame's length puts it: the frames of bytes cut
// anywhere, or across a reconnect (ffmpeg's output goes on from the lost
// connection's partial frame to the new connection's frames).
func frameRun(b []byte) (from, to int) {
	for o := 0; o+render.FrameHeaderLen <= len(b); o++ {
		end := o
		for {
			h, err := render.ParseFrameHeader(b[end:])
			if err != nil || end+h.Length > len(b) {
				break
			}
			end += h.Length
		}
		if end-o > to-from {
			from, to = o, end
		}
		if end > o {
			o = end - 1 // a run's inner headers start no longer run
		}
	}
	return from, to
}

// tailFreq returns the frequency of the last secs seconds of mp3's audio.
func tailFreq(t *testing.T, mp3 []byte, secs float64) float64 {
	t.Helper()
	const rate = 16000
	pcm := decodeMono(t, wholeFrames(mp3), rate)
	n := int(secs * rate)
	if len(pcm) < n {
		t.Fatalf("only %.2f s of audio; want %.2f", float64(len(pcm))/rate, secs)
	}
	return zeroCrossingFreq(pcm[len(pcm)-n:], rate)
}

// envelope returns pcm's RMS level over windows of win samples.
func envelope(pcm []int16, win int) []float64 {
	env := make([]float64, len(pcm)/win)
	for i := range env {
		var s float64
		for _, v := range pcm[i*win : (i+1)*win] {
			s += float64(v) * float64(v)
		}
		env[i] = math.Sqrt(s / float64(win))
	}
	return env
}

// envelopeMatch returns the lag in [lo, hi] at which b correlates best
// with a (b[i] against a[i+lag]), over at least minOverlap windows, and
// the correlation there (-2 if no lag has the overlap).
func envelopeMatch(a, b []float64, lo, hi, minOverlap int) (lag int, r float64) {
	lag, r = lo, -2
	for l := lo; l <= hi; l++ {
		if i0, i1 := max(0, -l), min(len(b), len(a)-l); i1-i0 >= minOverlap {
			if rl := pearsonAt(a, b, l); rl > r {
				lag, r = l, rl
			}
		}
	}
	return lag, r
}

// pearsonAt is the correlation of b[i] with a[i+lag] over the windows both
// have (0 if fewer than two, or one is constant).
func pearsonAt(a, b []float64, lag int) float64 {
	i0, i1 := max(0, -lag), min(len(b), len(a)-lag)
	n := float64(i1 - i0)
	if n < 2 {
		return 0
	}
	var sa, sb, saa, sbb, sab float64
	for i := i0; i < i1; i++ {
		x, y := a[i+lag], b[i]
		sa, sb, saa, sbb, sab = sa+x, sb+y, saa+x*x, sbb+y*y, sab+x*y
	}
	cov, va, vb := sab-sa*sb/n, saa-sa*sa/n, sbb-sb*sb/n
	if va <= 0 || vb <= 0 {
		return 0
	}
	return cov / math.Sqrt(va*vb)
}
