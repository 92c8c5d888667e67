package main

// End-to-end tests of a cluster: a real redis-server, three synthcast nodes
// sharing it (-store redis://…, -node-name), and a real nginx and HAProxy
// running the configurations shipped in deploy/ (with this test's ports put
// in by text replacement, so the shipped files are what is tested), all on
// loopback ports and each stopped by its PID. They check what the proxies
// promise (both tokens of a stream hash to one node, creates go anywhere,
// nothing is buffered), what the nodes promise each other through Redis (a
// change made on any node is heard where the stream plays), failover (kill
// -9 a node: its players reconnect through the proxy and hear the same
// programme, at the same point of its timeline, from another node; the node
// comes back and takes new listeners), and Redis down and back. The
// processes, players and signal measures they use are in
// e2e_cluster_harness_test.go.

import (
	"bufio"
	"fmt"
	"math"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

// Cluster test limits: every wait is bounded by one of these.
const (
	clusterNodes = 3
	// extWait bounds an external server's start (until it accepts
	// connections) and its stop.
	extWait = 10 * time.Second
	// failoverGoal: from kill -9 of a listener's node to audio again at the
	// listener, through nginx with its default proxy_next_upstream.
	failoverGoal = 2 * time.Second
	// syncWithin: a change stored through one node shows in /params on
	// another holding the stream: one pub/sub delivery (milliseconds), with
	// room for a loaded machine.
	syncWithin = time.Second
	// The nodes' -prebuffer and -tick (their defaults): a change is heard
	// within their sum, plus one analysis window and a pub/sub hop.
	nodePrebuffer, nodeTick = 1.0, 0.5
	// backWithin: a node that returns takes its streams back: nginx tries it
	// again after fail_timeout (5 s in the shipped config), HAProxy after
	// rise 2 × inter 1 s.
	backWithin = 10 * time.Second
	// redisBack: after redis-server restarts, changes are stored again.
	redisBack = 10 * time.Second
	// refusedWithin: a change while Redis is down is answered (503) this soon.
	refusedWithin = 5 * time.Second
	// reconnectBackoff: how long a reconnecting test player waits after its
	// stream ends (ffmpeg's first reconnect is immediate).
	reconnectBackoff = 50 * time.Millisecond
)

// a. Through each proxy: creates go anywhere; both tokens of a stream, on
// every route, reach one node; streams spread over the nodes; /stream
// (with ICY titles) and /events pass unbuffered.
func TestE2EClusterRouting(t *testing.T) {
	c := newCluster(t)
	for _, px := range []struct {
		name string
		in   *instance
	}{{"nginx", c.nginx}, {"haproxy", c.haproxy}} {
		t.Run(px.name, func(t *testing.T) {
			const streams = 12 // all on one of 3 nodes by chance: 3^-11
			homes, creators := map[string]int{}, map[string]int{}
			type stream struct{ id, lid, home string }
			var ss []stream
			for range streams {
				id, lid, r := createVia(t, px.in, "?mode=melody")
				if n, ok := r.body["node"].(string); ok {
					creators[n]++
				}
				home := nodeOf(t, px.in, id)
				if got := nodeOf(t, px.in, lid); got != home {
					t.Errorf("/params: control token on %s, listen token on %s; want one node", home, got)
				}
				homes[home]++
				ss = append(ss, stream{id, lid, home})
			}
			t.Logf("%d streams hash to %v; created on %v", streams, homes, creators)
			if len(homes) < 2 {
				t.Errorf("all %d streams hash to one node: %v", streams, homes)
			}
			if len(creators) == 1 {
				t.Errorf("all %d creates went to one node: %v; want them spread", streams, creators)
			}
			for _, s := range ss[:3] {
				for _, tok := range []string{s.id, s.lid} {
					r := dialStream(t, px.in.addr, tok, 0)
					r.readHead(t)
					if r.status != 200 || r.header.Get("Synthcast-Node") != s.home {
						t.Errorf("/stream = %d from node %q; want 200 from %s, where /params went", r.status, r.header.Get("Synthcast-Node"), s.home)
					}
					r.readFor(t, time.Now().Add(300*time.Millisecond), nil) // walks every frame: nothing re-framed
					if r.audio < 0.5 {
						t.Errorf("/stream through %s: %.2f s of audio in 0.3 s; want the burst", px.name, r.audio)
					}
					r.conn.Close()
				}
			}

			// ICY titles: the proxy passes Icy-MetaData and icy-metaint.
			icy := dialICY(t, px.in.addr, ss[0].lid, true)
			if icy.metaint != "16000" {
				t.Errorf("through %s, /stream with Icy-MetaData: 1 has icy-metaint %q; want 16000", px.name, icy.metaint)
			}
			if err := icy.readUntil(time.Now().Add(1500 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			if _, titles := splitICY(t, icy.body); len(titles) == 0 || titles[0] == "" {
				t.Errorf("through %s: titles %q; want the stream's title in the first block", px.name, titles)
			}
			icy.c.Close()

			// /events: the first event at once, a change's event within a second.
			checkEventsThrough(t, px.in, ss[1].id, ss[1].lid)
		})
	}
}

// checkEventsThrough reads /events with the listen token through in and
// wants the current state at once and a change's event within a second.
func checkEventsThrough(t *testing.T, in *instance, id, lid string) {
	t.Helper()
	conn, err := net.Dial("tcp", in.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /events?id=%s HTTP/1.1\r\nHost: cluster\r\n\r\n", lid)
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("/events through %s: %v %v", in.addr, err, resp)
	}
	sc := bufio.NewScanner(resp.Body) // chunked or not, as the proxy sends it
	next := func(what string, within time.Duration) string {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(within))
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				return data
			}
		}
		t.Fatalf("/events through %s: no event for %s within %v: %v", in.addr, what, within, sc.Err())
		return ""
	}
	next("the current state", 3*time.Second)
	if r := in.get(t, "/set_param?id="+id+"&tempo=97"); r.status != 200 {
		t.Fatalf("set_param through %s = %d %s", in.addr, r.status, r.raw)
	}
	if ev := next("the change", time.Second); !strings.Contains(ev, `"tempo":97`) {
		t.Errorf("/events through %s after tempo=97: %s", in.addr, ev)
	}
}

// b. A change sent to a node that is not the stream's is heard at a
// listener on the stream's node (through the proxy) within prebuffer + one
// tick, as on one node.
func TestE2EClusterChangeOnAnyNode(t *testing.T) {
	c := newCluster(t)
	id, lid, _ := createVia(t, c.nginx, "?freq=440")
	home := nodeOf(t, c.nginx, id)
	wrong := c.other(t, home)

	r := dialStream(t, c.nginx.addr, lid, 0)
	r.readHead(t)
	if got := r.header.Get("Synthcast-Node"); got != home {
		t.Fatalf("/stream with the listen token from %q; want %s, where the control token's /params went", got, home)
	}
	r.readFor(t, r.connected.Add(2200*time.Millisecond), nil)
	called := time.Now()
	if resp := wrong.inst().get(t, "/set_param?id="+id+"&freq=880"); resp.status != 200 {
		t.Fatalf("set_param on %s (not the stream's node) = %d %s", wrong.name, resp.status, resp.raw)
	}
	took := waitUntil(t, syncWithin, "the change in /params on the stream's node", func() bool {
		return paramsOf(t, c.node(t, home).inst(), id)["freq"] == 880.0
	})
	t.Logf("set_param on %s shows on %s (the stream's node) after %v", wrong.name, home, took.Round(time.Millisecond))
	r.readFor(t, called.Add(3*time.Second), nil)

	const rate = 16000
	pcm := decodeMono(t, r.body[:r.parsed], rate)
	callPos := called.Sub(r.headAt).Seconds()
	change := toneChangeAt(t, pcm, rate, 440, 880, callPos)
	heardAfter := change - callPos
	t.Logf("set_param on %s heard on %s %.3f s after the call", wrong.name, home, heardAfter)
	if limit := nodePrebuffer + nodeTick + 0.05 + 0.1; heardAfter > limit { // + one window + the pub/sub hop
		t.Errorf("set_param on another node heard %.3f s after the call; want at most %.2f s", heardAfter, limit)
	}
}

// toneChangeAt returns the audio position (s) where a steady tone at from
// Hz turns to to Hz, reading 50 ms windows of pcm; callPos is the position
// of the change's call, before which the tone must still be from.
func toneChangeAt(t *testing.T, pcm []int16, rate int, from, to, callPos float64) float64 {
	t.Helper()
	win := rate / 20
	change, steady := -1.0, 0
	for i := rate / 10; i+win <= len(pcm); i += win { // the first 100 ms: decoder delay, fade-in
		w := pcm[i : i+win]
		peak := 0
		for _, v := range w {
			peak = max(peak, abs(int(v)))
		}
		if peak < 2000 {
			continue
		}
		f, pos := zeroCrossingFreq(w, rate), float64(i)/float64(rate)
		switch {
		case math.Abs(f-from) < from/15:
			if change >= 0 {
				t.Fatalf("at %.2f s the tone is back at %.0f Hz after changing at %.2f s", pos, from, change)
			}
			steady++
		case math.Abs(f-to) < to/15:
			if change < 0 {
				change = pos
			}
		default: // a window across the glide reads in between
			if change >= 0 || pos < callPos {
				t.Fatalf("at %.2f s the tone is %.0f Hz; want %.0f before the change and %.0f after", pos, f, from, to)
			}
		}
	}
	if steady < 10 || change < 0 || change < callPos {
		t.Fatalf("tone: %d windows at %.0f Hz, change to %.0f Hz at %.2f s (call at %.2f s); want the change after the call", steady, from, to, change, callPos)
	}
	return change
}

// c, d. kill -9 the node playing a stream: its players (ffmpeg through
// nginx with the README's reconnect options, a reconnecting raw player
// through HAProxy) hear it again within failoverGoal, from another node
// that has loaded it from Redis and plays its timeline where the clock
// says (compared with a third node asked directly), with its parameters.
// Then the node comes back: new listeners land on it, the old ones stay
// where they are, and a change made on either node is heard on both.
func TestE2EClusterFailover(t *testing.T) {
	c := newCluster(t)
	// A stream that both proxies hash to one node (their hash functions
	// differ), so that one kill moves both players.
	var id, lid, home string
	for range 30 {
		id, lid, _ = createVia(t, c.nginx, "?mode=melody&tempo=240&seed=7")
		if a := nodeOf(t, c.nginx, id); a == nodeOf(t, c.haproxy, id) {
			home = a
			break
		}
	}
	if home == "" {
		t.Fatal("no stream of 30 hashed to the same node through nginx and HAProxy")
	}
	homeNode := c.node(t, home)
	before := paramsOf(t, homeNode.inst(), id)
	refNode := c.other(t, home)

	ff := ffmpegListen(t, c.nginx.url("/stream?id="+lid))
	raw := listenLive(t, c.haproxy.addr, lid, true)
	ref := listenLive(t, refNode.addr, id, false) // the reference: a node asked directly
	waitUntil(t, 5*time.Second, "audio at every player", func() bool {
		return ff.size() > 16<<10 && raw.size() > 16<<10 && ref.size() > 16<<10
	})
	if conns := raw.connsNow(); conns[0].node != home {
		t.Fatalf("the raw player through HAProxy is on %q; want %s", conns[0].node, home)
	}
	time.Sleep(2500 * time.Millisecond) // the programme plays on: the reference's audio must lead the failover by more than the search window

	killed := time.Now()
	homeNode.kill(t)
	// ffmpeg's output goes on from the lost connection's last bytes (a
	// partial frame) to the new connection's frames: the longest run of
	// whole frames after the kill is the new node's.
	ffKilled := ff.sizeAt(killed)
	var ffAt, rawAt time.Time
	var ffOff int
	waitUntil(t, 5*time.Second, "audio again at both players after kill -9", func() bool {
		from, to := frameRun(ff.since(ffKilled))
		if to-from < 16<<10 {
			return false
		}
		ffOff = ffKilled + from
		ffAt = ff.arrivalOf(ffOff)
		conns := raw.connsNow()
		rawAt = conns[len(conns)-1].first
		return len(conns) > 1 && !rawAt.IsZero()
	})
	ffGap, rawGap := ffAt.Sub(killed), rawAt.Sub(killed)
	t.Logf("kill -9 to audio again: ffmpeg through nginx %v, raw player through HAProxy %v (goal %v)",
		ffGap.Round(time.Millisecond), rawGap.Round(time.Millisecond), failoverGoal)
	if ffGap > failoverGoal || rawGap > failoverGoal {
		t.Errorf("failover took %v (ffmpeg, nginx) and %v (raw, HAProxy); want under %v", ffGap, rawGap, failoverGoal)
	}
	conns := raw.connsNow()
	rawConn := conns[len(conns)-1]
	nginxNow := nodeOf(t, c.nginx, id)
	if rawConn.node == home || nginxNow == home {
		t.Fatalf("after the kill: HAProxy's player on %q, nginx routes to %q; want neither on the dead %s", rawConn.node, nginxNow, home)
	}
	for _, name := range []string{rawConn.node, nginxNow} {
		if p := paramsOf(t, c.node(t, name).inst(), id); !reflect.DeepEqual(p, before) {
			t.Errorf("params on %s after the failover = %v; want the stream's own %v", name, p, before)
		}
	}

	time.Sleep(3 * time.Second) // audio after the failover, to compare with the reference
	checkTimeline(t, "ffmpeg through nginx", ff.since(ffOff), ffAt, ref)
	checkTimeline(t, "raw player through HAProxy", raw.since(rawConn.off), rawAt, ref)

	// d. The node comes back on its address.
	ffReconnects := ff.reconnects()
	if ffReconnects == 0 {
		t.Errorf("ffmpeg played on across the kill without reconnecting: %s", ff.log.String())
	}
	c.startNode(t, homeNode)
	back := time.Now()
	for _, px := range []*instance{c.nginx, c.haproxy} {
		took := waitUntil(t, backWithin, "the proxy routes the stream to "+home+" again", func() bool { return nodeOf(t, px, id) == home })
		t.Logf("proxy %s routes the stream to %s again %v after its restart", px.addr, home, took.Round(time.Millisecond))
	}
	fresh := listenLive(t, c.nginx.addr, lid, false)
	waitUntil(t, 5*time.Second, "a new listener's audio", func() bool { return fresh.size() > 16<<10 })
	if n := fresh.connsNow()[0].node; n != home {
		t.Errorf("a new listener through nginx is on %q; want %s, back", n, home)
	}
	if got := raw.connsNow(); len(got) != len(conns) {
		t.Errorf("the raw player reconnected when %s came back (%d responses, was %d); want it to stay on %s", home, len(got), len(conns), rawConn.node)
	}
	if n := ff.reconnects(); n != ffReconnects || ff.sizeAt(time.Now()) == ff.sizeAt(back) {
		t.Errorf("when %s came back, ffmpeg reconnected (%d times, was %d) or stopped receiving; want it to stay on %s", home, n, ffReconnects, nginxNow)
	}

	// A change on either node is seen and heard on both.
	for _, step := range []struct {
		on, seenOn string
		set        string
		freq       float64
	}{
		{home, rawConn.node, "mode=tone&freq=880", 880},
		{rawConn.node, home, "freq=660", 660},
	} {
		if r := c.node(t, step.on).inst().get(t, "/set_param?id="+id+"&"+step.set); r.status != 200 {
			t.Fatalf("set_param %s on %s = %d %s", step.set, step.on, r.status, r.raw)
		}
		for _, name := range []string{step.seenOn, nginxNow} {
			waitUntil(t, syncWithin, "set_param on "+step.on+" seen in /params on "+name, func() bool {
				return paramsOf(t, c.node(t, name).inst(), id)["freq"] == step.freq
			})
		}
		time.Sleep(time.Duration((nodePrebuffer + nodeTick + 1) * float64(time.Second))) // the change reaches the end of every player's audio
		for _, l := range []struct {
			what string
			mp3  []byte
		}{
			{"new listener on " + home, fresh.since(0)},
			{"raw player on " + rawConn.node, raw.since(rawConn.off)},
			{"ffmpeg on " + nginxNow, ff.since(ffOff)},
		} {
			if f := tailFreq(t, l.mp3, 0.5); math.Abs(f-step.freq) > step.freq/30 {
				t.Errorf("%s: %.0f Hz at the end of its audio, %.1f s after set_param %s on %s; want %.0f", l.what, f, nodePrebuffer+nodeTick+1, step.set, step.on, step.freq)
			}
		}
	}
}

// checkTimeline compares the audio a player received after a failover,
// seg (MP3 from its first byte, which arrived at segAt), with the
// reference player's: a node that plays the stream's timeline where the
// clock says lines up with the reference at the difference of their
// arrival times; one that restarted the stream would play its beginning.
// The comparison is of loudness envelopes (10 ms windows), which the
// melody's notes and rests make distinct at every lag.
func checkTimeline(t *testing.T, what string, seg []byte, segAt time.Time, ref *liveStream) {
	t.Helper()
	const rate, win = 16000, 160 // 10 ms windows
	refConn := ref.connsNow()[0]
	a := envelope(decodeMono(t, wholeFrames(ref.since(refConn.off)), rate), win)
	b := envelope(decodeMono(t, wholeFrames(seg), rate), win)
	want := int(math.Round(segAt.Sub(refConn.first).Seconds() * rate / win))
	lag, r := envelopeMatch(a, b, want-150, want+150, 100) // ±1.5 s; at least 1 s in common
	off := float64(lag-want) * win / rate
	t.Logf("%s: its audio matches the reference %+.2f s from where the clock puts it (r = %.3f; lag 0, a restart, r = %.3f)",
		what, off, r, pearsonAt(a, b, 0))
	if r < 0.8 || math.Abs(off) > 0.5 {
		t.Errorf("%s: after the failover its audio best matches the reference at %+.2f s from the timeline's position, r = %.3f; want within 0.5 s, r ≥ 0.8", what, off, r)
	}
}

// e. Redis down and back: streams already playing keep playing, changes
// are refused at once with 503 and Retry-After (nothing acknowledged that
// is not stored), and once redis-server is back on its file, changes are
// stored again, reach the other nodes, and nothing acknowledged before the
// kill is lost: a node started afterwards reads it all from Redis.
func TestE2EClusterRedisDown(t *testing.T) {
	c := newCluster(t)
	id, lid, _ := createVia(t, c.nginx, "?freq=440")
	home := c.node(t, nodeOf(t, c.nginx, id))
	other := c.other(t, home.name)
	// Acknowledged before the kill: a create and two changes.
	created, _, _ := createVia(t, other.inst(), "?pan=0.25")
	for _, path := range []string{"/set_param?id=" + created + "&gain=0.3", "/set_param?id=" + id + "&pan=-0.5"} {
		if r := home.inst().get(t, path); r.status != 200 {
			t.Fatalf("GET %s = %d %s", path, r.status, r.raw)
		}
	}
	l := listenLive(t, c.nginx.addr, lid, false)
	waitUntil(t, 5*time.Second, "the listener's audio", func() bool { return l.size() > 16<<10 })

	killed := time.Now()
	c.redis.kill9()
	for _, n := range []*clusterNode{home, other} {
		for _, path := range []string{"/set_param?id=" + id + "&freq=550", "/create_stream"} {
			began := time.Now()
			r := n.inst().get(t, path)
			took := time.Since(began)
			t.Logf("GET %s on %s with Redis down: %d after %v", strings.SplitN(path, "?", 2)[0], n.name, r.status, took.Round(time.Millisecond))
			if r.status != 503 || r.header.Get("Retry-After") == "" || took > refusedWithin {
				t.Errorf("GET %s on %s with Redis down = %d (Retry-After %q) after %v; want 503 with Retry-After within %v",
					strings.SplitN(path, "?", 2)[0], n.name, r.status, r.header.Get("Retry-After"), took.Round(time.Millisecond), refusedWithin)
			}
		}
	}
	time.Sleep(2 * time.Second) // the stream plays on without Redis
	if g := l.longestGap(killed, time.Now()); g > time.Second || len(l.connsNow()) != 1 {
		t.Errorf("with Redis down the listener's audio paused %v (%d responses); want it to play on", g, len(l.connsNow()))
	}

	c.startRedis(t)
	took := waitUntil(t, redisBack, "set_param answered 200 after Redis is back", func() bool {
		return home.inst().get(t, "/set_param?id="+id+"&freq=660").status == 200
	})
	t.Logf("Redis back: changes stored again after %v", took.Round(time.Millisecond))
	waitUntil(t, redisBack, "the change seen on the other node", func() bool {
		return paramsOf(t, other.inst(), id)["freq"] == 660.0
	})
	// The nodes that lived through it keep what they hold; a new one has
	// only what Redis read back from its file.
	fresh := &clusterNode{name: "n4", addr: "127.0.0.1:0"}
	c.startNode(t, fresh)
	if p := paramsOf(t, fresh.inst(), id); p["pan"] != -0.5 || p["freq"] != 660.0 {
		t.Errorf("a node started after Redis's restart reads pan %v, freq %v; want -0.5 (acknowledged before the kill) and 660", p["pan"], p["freq"])
	}
	if p := paramsOf(t, fresh.inst(), created); p["pan"] != 0.25 || p["gain"] != 0.3 {
		t.Errorf("a node started after Redis's restart reads the stream created before the kill with pan %v, gain %v; want 0.25 and 0.3", p["pan"], p["gain"])
	}
	if g := l.longestGap(killed, time.Now()); g > time.Second {
		t.Errorf("the listener's audio paused %v across Redis's kill and restart", g)
	}
}
