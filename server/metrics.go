package server

import (
	"io"
	"strconv"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// Metrics are the server's Prometheus series, in a set of their own (no
// process-wide registry): counters the hot paths bump (an atomic add, no
// allocation), histograms of render lateness, encode time and store commit
// time (a short lock, no allocation), and gauges read at scrape time from
// the hub and the transport. Names carry the synthcast_ prefix, base units
// and _total on counters; no label carries a token.
//
// VictoriaMetrics/metrics rather than prometheus/client_golang: its counter
// is one atomic add and its histogram one mutex-guarded bucket increment,
// both allocation-free, and it brings two small modules where client_golang
// brings protobuf and a dozen more.
//
// Make one with NewMetrics and pass it in Config (and the store's commit
// observer, ObserveCommit); a nil Config.Metrics makes a private one.
type Metrics struct {
	set *vm.Set

	connsAccepted *vm.Counter
	requests      [numRoutes][numStatuses]*vm.Counter

	listenersAttached *vm.Counter
	dropped           [numDropReasons]*vm.Counter
	sentBytes         *vm.Counter
	sentFrames        *vm.Counter
	ticksSkipped      *vm.Counter

	renderLateness *vm.PrometheusHistogram
	encodeTime     *vm.PrometheusHistogram

	storeCommits       *vm.Counter
	storeCommitFailed  *vm.Counter
	storeCommitWrites  *vm.Counter
	storeCommitLatency *vm.PrometheusHistogram
}

// Routes, as the requests counter labels them.
const (
	routeCreate = iota
	routeSetParam
	routeParams
	routeStream
	routeHealthz
	routeKeys
	routeEvents
	routePage  // the web player's files
	routeOther // no such route, or a request that did not parse
	numRoutes
)

var routeNames = [numRoutes]string{"/create_stream", "/set_param", "/params", "/stream", "/healthz", "/keys", "/events", "page", "other"}

// statusCodes are the statuses the server sends, in the requests counter's
// order; anything else counts as the last, "other".
var statusCodes = [...]int{200, 204, 304, 400, 403, 404, 405, 408, 413, 414, 417, 431, 500, 501, 503, 505}

const numStatuses = len(statusCodes) + 1

// Why a listener was dropped.
const (
	dropQueue    = iota // its own queue passed QueueBytes
	dropMemory          // all listeners' queues together passed MaxQueuedBytes
	dropShutdown        // the server stopped
	numDropReasons
)

var dropNames = [numDropReasons]string{"queue", "memory", "shutdown"}

// Histogram buckets, seconds. Render lateness is how long after its tick a
// stream's frames were published: under one tick is on time. Encoding one
// MP3 frame takes ~50–300 µs on one core. A group commit is two fdatasyncs:
// ~1–20 ms on a disk, more under load.
var (
	latenessBuckets = []float64{0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2}
	encodeBuckets   = []float64{25e-6, 50e-6, 100e-6, 200e-6, 400e-6, 800e-6, 1.6e-3, 3.2e-3, 6.4e-3}
	commitBuckets   = []float64{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1}
)

// NewMetrics returns the server's series, registered in a new set.
func NewMetrics() *Metrics {
	s := vm.NewSet()
	m := &Metrics{
		set:                s,
		connsAccepted:      s.NewCounter("synthcast_connections_accepted_total"),
		listenersAttached:  s.NewCounter("synthcast_listeners_attached_total"),
		sentBytes:          s.NewCounter("synthcast_sent_bytes_total"),
		sentFrames:         s.NewCounter("synthcast_sent_frames_total"),
		ticksSkipped:       s.NewCounter("synthcast_render_ticks_skipped_total"),
		renderLateness:     s.NewPrometheusHistogramExt("synthcast_render_lateness_seconds", latenessBuckets),
		encodeTime:         s.NewPrometheusHistogramExt("synthcast_encode_frame_seconds", encodeBuckets),
		storeCommits:       s.NewCounter("synthcast_store_commits_total"),
		storeCommitFailed:  s.NewCounter("synthcast_store_commit_failures_total"),
		storeCommitWrites:  s.NewCounter("synthcast_store_committed_writes_total"),
		storeCommitLatency: s.NewPrometheusHistogramExt("synthcast_store_commit_seconds", commitBuckets),
	}
	for r := range numRoutes {
		for i := range numStatuses {
			code := "other"
			if i < len(statusCodes) {
				code = strconv.Itoa(statusCodes[i])
			}
			m.requests[r][i] = s.NewCounter(`synthcast_requests_total{route="` + routeNames[r] + `",status="` + code + `"}`)
		}
	}
	for r := range numDropReasons {
		m.dropped[r] = s.NewCounter(`synthcast_listeners_dropped_total{reason="` + dropNames[r] + `"}`)
	}
	return m
}

// request counts one answered request. Allocation-free.
func (m *Metrics) request(route, status int) {
	i := len(statusCodes)
	for k, c := range statusCodes {
		if c == status {
			i = k
			break
		}
	}
	m.requests[route][i].Inc()
}

// ObserveCommit records one store commit; pass it as the store's commit
// observer (store.BoltOptions.OnCommit). Safe from any goroutine.
func (m *Metrics) ObserveCommit(took time.Duration, writes int, err error) {
	m.storeCommits.Inc()
	m.storeCommitLatency.Update(took.Seconds())
	if err != nil {
		m.storeCommitFailed.Inc()
		return
	}
	m.storeCommitWrites.Add(writes)
}

// registerGauges adds the series read at scrape time from s.
func (m *Metrics) registerGauges(s *Server) {
	h := s.hub
	g := func(name string, f func() float64) { m.set.NewGauge(name, f) }
	g("synthcast_connections", func() float64 { return float64(s.tr.conns.Load()) })
	g("synthcast_listeners", func() float64 { return float64(h.listeners.Load()) }) // /stream and /events
	g("synthcast_event_subscribers", func() float64 {
		h.subs.mu.Lock()
		defer h.subs.mu.Unlock()
		return float64(len(h.subs.set))
	})
	g("synthcast_listener_queued_bytes", func() float64 { return float64(h.queuedTotal.Load()) })
	g("synthcast_streams", func() float64 { return float64(h.streamCount()) })
	g("synthcast_streams_rendering", func() float64 { return float64(h.sessions.Load()) })
	g("synthcast_render_jobs_queued", func() float64 { return float64(h.pool.Stats().Queued) })
	g("synthcast_render_jobs_running", func() float64 { return float64(h.pool.Stats().Running) })
	g("synthcast_uptime_seconds", func() float64 { return time.Since(s.started0).Seconds() })
}

// WritePrometheus writes every series in the Prometheus text format, with
// the Go runtime's and the process's own (memory, CPU, file descriptors).
func (m *Metrics) WritePrometheus(w io.Writer) {
	m.set.WritePrometheus(w)
	vm.WriteProcessMetrics(w)
}
