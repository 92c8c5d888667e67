package main

import (
	"bufio"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

// TestListenReconnect: a server that cuts the first connection mid-frame
// and refuses the second (503) gets a third from a listener run with
// -reconnect, which then lasts to the end: one stream lost and found again
// after two tries, the gap covering both backoffs, no sync loss from the
// cut frame, and the listener ok.
func TestListenReconnect(t *testing.T) {
	stream, lens := encodeFrames(t, 44100, 2, 128, 200, 0.5) // 5.2 s
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serveFrames(c, int(conns.Add(1)), stream, lens)
		}
	}()

	var rep struct {
		listenReport
		Reconnect *reconnectReport `json:"reconnect"`
	}
	runJSON(t, &rep, "listen", "-stream-urls", "http://"+ln.Addr().String()+"/live.mp3", "-n", "1", "-duration", "1500ms", "-reconnect")
	rc := rep.Reconnect
	if rc == nil {
		t.Fatal("no reconnect figures in the JSON line")
	}
	if rep.OK != 1 || rep.ClosedEarly != 0 || rep.Failed != 0 || rep.SyncLosses != 0 {
		t.Errorf("ok %d, closed early %d, failed %d, sync losses %d; want 1, 0, 0, 0 (reasons %v)", rep.OK, rep.ClosedEarly, rep.Failed, rep.SyncLosses, rep.Reasons)
	}
	if rc.Listeners != 1 || rc.Tries != 2 || rc.Gaps != 1 || rc.GaveUp != 0 {
		t.Errorf("reconnect = %+v; want 1 listener, 2 tries, 1 gap, none gave up", *rc)
	}
	// The gap: backoffs of 50 and 100 ms, then the third connection's first byte.
	if lo := ms(reconnectMinBackoff * 3); rc.GapMs.Max < lo || rc.GapMs.Max > lo+500 {
		t.Errorf("gap = %v ms; want about %v ms (two backoffs)", rc.GapMs.Max, lo)
	}
	if n := conns.Load(); n != 3 {
		t.Errorf("the server saw %d connections; want 3", n)
	}
}

// serveFrames answers one /stream connection, the k-th: the first gets a
// 1 s burst, 0.3 s more, then half a frame and a close; the second a 503;
// later ones a burst, then frames in real time until the client leaves.
func serveFrames(c net.Conn, k int, stream []byte, lens []int) {
	defer c.Close()
	if _, err := http.ReadRequest(bufio.NewReader(c)); err != nil {
		return
	}
	if k == 2 {
		c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
		return
	}
	c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\nConnection: close\r\n\r\n"))
	off, frame := 0, 0
	send := func(secs float64) error { // the frames up to audio position secs
		start := off
		for frame < len(lens) && float64(frame+1)*frameSeconds <= secs {
			off += lens[frame]
			frame++
		}
		_, err := c.Write(stream[start:off])
		return err
	}
	began := time.Now()
	if send(1) != nil {
		return
	}
	for {
		time.Sleep(100 * time.Millisecond)
		el := time.Since(began).Seconds()
		if k == 1 && el >= 0.3 {
			c.Write(stream[off : off+lens[frame]/2])
			return
		}
		if send(1+el) != nil || frame == len(lens) {
			return
		}
	}
}
