package server

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"runtime"
	"slices"
	"time"

	"github.com/synthcast/synthcast/store"
)

// AdminHandler serves the admin routes, for the admin listener only (never
// the public port: they show the server's internals, and pprof can be made
// to work hard):
//
//	/metrics        Prometheus text format (see Metrics)
//	/status         JSON for humans and scripts: version, uptime, config, totals, per-format counts; no tokens
//	/debug/pprof/   Go's profiler
//
// It is net/http, off the streaming path. Safe from any goroutine.
func (s *Server) AdminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		s.cfg.Metrics.WritePrometheus(w)
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(s.Status())
	})
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error":"no such route; try /metrics, /status or /debug/pprof/"}` + "\n"))
	})
	return mux
}

// Status is what /status reports, in the spirit of Icecast's
// status-json.xsl. It names no token.
type Status struct {
	Server        string        `json:"server"`
	Version       string        `json:"version"`
	Go            string        `json:"go"`
	Started       time.Time     `json:"started"`
	UptimeSeconds float64       `json:"uptime_seconds"`
	Config        StatusConfig  `json:"config"`
	Now           StatusNow     `json:"now"`
	Totals        StatusTotals  `json:"totals"`
	Formats       []FormatCount `json:"formats"`
}

// StatusConfig summarises the configuration.
type StatusConfig struct {
	Listen          string  `json:"listen"`
	Store           string  `json:"store"`
	Loops           int     `json:"loops"`
	Workers         int     `json:"workers"`
	TickSeconds     float64 `json:"tick_seconds"`
	PrebufferSecs   float64 `json:"prebuffer_seconds"`
	QueueBytes      int     `json:"queue_bytes"`
	MaxStreams      int     `json:"max_streams"`
	MaxListeners    int     `json:"max_listeners"`
	StreamTTLSecs   float64 `json:"stream_ttl_seconds"`
	IdleTimeoutSecs float64 `json:"idle_timeout_seconds"`
}

// StatusNow is the state at the moment of asking.
type StatusNow struct {
	Connections      int64 `json:"connections"`
	Listeners        int64 `json:"listeners"`
	Streams          int   `json:"streams"`
	StreamsRendering int64 `json:"streams_rendering"`
	RenderJobs       int64 `json:"render_jobs"`
}

// StatusTotals count since start.
type StatusTotals struct {
	Connections       uint64 `json:"connections"`
	Requests          uint64 `json:"requests"`
	ListenersAttached uint64 `json:"listeners_attached"`
	ListenersDropped  uint64 `json:"listeners_dropped"`
	SentBytes         uint64 `json:"sent_bytes"`
	SentFrames        uint64 `json:"sent_frames"`
	TicksSkipped      uint64 `json:"render_ticks_skipped"`
	StoreCommits      uint64 `json:"store_commits"`
	StoreWrites       uint64 `json:"store_writes"`
	StoreWriteFailed  uint64 `json:"store_write_failures"`
}

// FormatCount is how many streams, and listeners of them, one output
// format has.
type FormatCount struct {
	SampleRate int `json:"samplerate"`
	Channels   int `json:"channels"`
	Bitrate    int `json:"bitrate"`
	Streams    int `json:"streams"`
	Listeners  int `json:"listeners"`
}

// Status returns the server's status. Safe from any goroutine; it walks the
// stream table under its read lock, so it is for scrapes, not hot paths.
func (s *Server) Status() Status {
	h, m, c := s.hub, s.cfg.Metrics, s.cfg
	st := s.Stats()
	ss := h.store.Stats()
	storeName := "custom"
	switch h.store.(type) {
	case *store.Bolt:
		storeName = "bolt"
	case *store.Memory:
		storeName = "memory"
	}
	var requests, dropped uint64
	for r := range m.requests {
		for _, ctr := range m.requests[r] {
			requests += ctr.Get()
		}
	}
	for _, ctr := range m.dropped {
		dropped += ctr.Get()
	}
	version := c.Version
	if version == "" {
		version = "devel"
	}
	listen := c.Listen
	if a := s.Addr(); a != nil {
		listen = a.String()
	}
	return Status{
		Server:        "synthcast",
		Version:       version,
		Go:            runtime.Version(),
		Started:       s.started0.UTC().Truncate(time.Second),
		UptimeSeconds: time.Since(s.started0).Round(time.Millisecond).Seconds(),
		Config: StatusConfig{
			Listen: listen, Store: storeName, Loops: c.Loops, Workers: c.Workers,
			TickSeconds: c.Tick.Seconds(), PrebufferSecs: c.Prebuffer.Seconds(), QueueBytes: c.QueueBytes,
			MaxStreams: c.MaxStreams, MaxListeners: c.MaxListeners,
			StreamTTLSecs: c.StreamTTL.Seconds(), IdleTimeoutSecs: c.IdleTimeout.Seconds(),
		},
		Now: StatusNow{
			Connections: st.Conns, Listeners: st.Listeners, Streams: st.Streams,
			StreamsRendering: st.Sessions, RenderJobs: st.Jobs,
		},
		Totals: StatusTotals{
			Connections: m.connsAccepted.Get(), Requests: requests,
			ListenersAttached: m.listenersAttached.Get(), ListenersDropped: dropped,
			SentBytes: m.sentBytes.Get(), SentFrames: m.sentFrames.Get(),
			TicksSkipped: m.ticksSkipped.Get(),
			StoreCommits: ss.Commits, StoreWrites: ss.Writes, StoreWriteFailed: ss.Failed,
		},
		Formats: h.formats(),
	}
}

// formats counts streams and listeners by output format, most streams first.
func (h *hub) formats() []FormatCount {
	type key struct{ rate, ch, br int }
	counts := make(map[key]*FormatCount)
	h.mu.RLock()
	for _, st := range h.streams {
		p := st.Params()
		k := key{p.SampleRate, p.Channels, p.Bitrate}
		fc := counts[k]
		if fc == nil {
			fc = &FormatCount{SampleRate: k.rate, Channels: k.ch, Bitrate: k.br}
			counts[k] = fc
		}
		fc.Streams++
		fc.Listeners += st.Listeners()
	}
	h.mu.RUnlock()
	out := make([]FormatCount, 0, len(counts))
	for _, fc := range counts {
		out = append(out, *fc)
	}
	slices.SortFunc(out, func(a, b FormatCount) int {
		if a.Streams != b.Streams {
			return b.Streams - a.Streams
		}
		return a.SampleRate*1000 + a.Channels*500 + a.Bitrate - (b.SampleRate*1000 + b.Channels*500 + b.Bitrate)
	})
	return out
}
