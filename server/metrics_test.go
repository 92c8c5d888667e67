package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The admin routes: Prometheus text with the series an operator needs and no
// token anywhere, and a /status that scripts can read.
func TestAdminMetricsAndStatus(t *testing.T) {
	s, st := newTestServer(t)
	do(t, s, "GET /set_param?id="+st.ID()+"&freq=300 HTTP/1.1\r\nHost: x\r\n\r\n")
	do(t, s, "GET /set_param?id="+st.ID()+"&freq=nope HTTP/1.1\r\nHost: x\r\n\r\n")
	s.cfg.Metrics.ObserveCommit(3*time.Millisecond, 7, nil)

	rec := httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics = %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`synthcast_requests_total{route="/set_param",status="200"} 1`,
		`synthcast_requests_total{route="/set_param",status="400"} 1`,
		`synthcast_listeners_dropped_total{reason="queue"} 0`,
		`synthcast_streams 1`,
		`synthcast_store_commits_total 1`,
		`synthcast_store_committed_writes_total 7`,
		`synthcast_store_commit_seconds_bucket{le="0.005"} 1`,
		`synthcast_render_lateness_seconds_count`,
		`synthcast_encode_frame_seconds_bucket`,
		`synthcast_sent_bytes_total`,
		`synthcast_render_jobs_queued`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(body, st.ID()) {
		t.Errorf("/metrics names a stream token")
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "synthcast_") && strings.Contains(line, "_total") && !strings.Contains(strings.Fields(line)[0], "_total") {
			t.Errorf("counter without _total: %q", line)
		}
	}

	rec = httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/status", nil))
	var status Status
	if err := json.Unmarshal(rec.Body.Bytes(), &status); err != nil {
		t.Fatalf("/status is not JSON: %v\n%s", err, rec.Body.String())
	}
	if status.Server != "synthcast" || status.Now.Streams != 1 || status.Config.Store != "memory" ||
		len(status.Formats) != 1 || status.Formats[0].SampleRate != 44100 || status.Formats[0].Streams != 1 || status.Totals.Requests != 2 {
		t.Errorf("/status = %+v", status)
	}
	if strings.Contains(rec.Body.String(), st.ID()) {
		t.Errorf("/status names a stream token")
	}
	rec = httptest.NewRecorder()
	s.AdminHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/debug/pprof/", nil))
	if rec.Code != 200 {
		t.Errorf("/debug/pprof/ = %d; want 200", rec.Code)
	}
}

// Each status a request can get is counted under its route.
func TestMetricsRequestStatuses(t *testing.T) {
	m := NewMetrics()
	for _, code := range []int{200, 404, 503, 299} {
		m.request(routeParams, code)
	}
	for i, want := range map[int]uint64{0: 1, 5: 1, 14: 1, len(statusCodes): 1} {
		if got := m.requests[routeParams][i].Get(); got != want {
			t.Errorf("requests[params][%d] = %d; want %d", i, got, want)
		}
	}
}

// What counting costs on the hot paths: a request counted by route and
// status (a table lookup and an atomic add), and a histogram observation
// (a bucket search and a short lock), per call, one goroutine and all.
func BenchmarkMetricsRequest(b *testing.B) {
	m := NewMetrics()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.request(routeSetParam, 200)
		}
	})
}

func BenchmarkMetricsHistogram(b *testing.B) {
	m := NewMetrics()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.encodeTime.Update(0.00012)
		}
	})
}
