//go:build !race

package server

import (
	"context"
	"testing"
	"time"

	"github.com/synthcast/synthcast/httpparse"
	"github.com/synthcast/synthcast/store"
)

func TestAppendJSONResponseAllocs(t *testing.T) {
	date := appendHTTPDate(nil, time.Now())
	body := []byte(`{"id":"abc","params":{}}`)
	out := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() {
		out = appendJSONResponse(out[:0], 200, date, respKeepAlive, body)
	}); n != 0 {
		t.Errorf("appendJSONResponse allocates %v times; want 0", n)
	}
}

// A control request, parsed and routed, allocates nothing in steady state.
func TestRouteParamsAllocs(t *testing.T) {
	s, st := newTestServer(t)
	c := &conn{httpState: new(httpState), parser: new(httpparse.Parser)}
	req := []byte("GET /params?id=" + st.ID() + " HTTP/1.1\r\nHost: x\r\nUser-Agent: bench\r\n\r\n")
	var out []byte
	run := func() {
		if _, err := c.parser.Parse(req, &c.req); err != nil {
			t.Fatal(err)
		}
		out, _ = s.tr.route(c, out[:0])
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("GET /params allocates %v times per request; want 0", n)
	}
}

// Counting on the hot paths allocates nothing: a request by route and
// status, a listener's bytes, a frame's encode time, a commit.
func TestMetricsAllocs(t *testing.T) {
	m := NewMetrics()
	if n := testing.AllocsPerRun(1000, func() {
		m.request(routeSetParam, 200)
		m.request(routeOther, 599)
		m.sentBytes.Add(417)
		m.sentFrames.Add(1)
		m.dropped[dropQueue].Inc()
		m.encodeTime.Update(0.00012)
		m.renderLateness.Update(0.003)
		m.ObserveCommit(2*time.Millisecond, 40, nil)
	}); n != 0 {
		t.Errorf("counting allocates %v times; want 0", n)
	}
}

// Delivering a batch to a loop's listeners allocates nothing in steady state.
func TestDeliverAllocs(t *testing.T) {
	h := testHub(t, store.NewMemory(), newClock(), time.Minute)
	st := mustCreate(t, h)
	set, _ := testLoopSet(st, 100)
	b := testBatch(8000)
	run := func() {
		b.refs.Add(1)
		_ = deliverTask{h: h, set: set, b: b}.Run(context.Background())
	}
	run()
	if n := testing.AllocsPerRun(100, run); n != 0 {
		t.Errorf("a delivery to 100 listeners allocates %v times; want 0", n)
	}
	b.release()
}
