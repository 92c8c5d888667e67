package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// listenReport is the listen mode's JSON line. Times are in ms (_ms) or
// seconds (_s); see the package documentation for each figure.
type listenReport struct {
	Mode             string         `json:"mode"`
	Listeners        int            `json:"listeners"`
	Streams          int            `json:"streams"`
	SourceAddrs      int            `json:"source_addrs"`
	OK               int            `json:"ok"`
	Failed           int            `json:"failed"`
	ClosedEarly      int            `json:"closed_early"`
	Reasons          map[string]int `json:"reasons,omitempty"`
	ConnectMs        summary        `json:"connect_ms"`
	HeadMs           summary        `json:"head_ms"`
	TTFBMs           summary        `json:"ttfb_ms"`
	BurstS           spread         `json:"burst_s"`
	BurstDef         string         `json:"burst_def"`
	LeadS            spread         `json:"lead_s"`
	LeadListeners    int            `json:"lead_listeners"`
	StalledListeners int            `json:"stalled_listeners"`
	StallEvents      int            `json:"stall_events"`
	SyncLosses       int64          `json:"sync_losses"`
	SkippedBytes     int64          `json:"skipped_bytes"`
	ICY              *icyReport     `json:"icy,omitempty"`
	Bytes            int64          `json:"bytes"`
	AudioS           float64        `json:"audio_s"`
	RampS            float64        `json:"ramp_s"`
	DurationS        float64        `json:"duration_s"`
	ListenerS        float64        `json:"listener_s"`
	TimedOut         bool           `json:"timed_out,omitempty"`
	Server           *serverReport  `json:"server,omitempty"`
	Client           clientReport   `json:"client"`
}

// serverReport is the sampled processes' use over the steady window.
type serverReport struct {
	Pids              []int   `json:"pids"`
	CPUS              float64 `json:"cpu_s"`
	CPUPerListenerS   float64 `json:"cpu_per_listener_s"`
	RSSKiB            int64   `json:"rss_kib"`
	RSSBaselineKiB    int64   `json:"rss_baseline_kib"`
	RSSPerListenerKiB float64 `json:"rss_per_listener_kib"`
	ClkTck            int     `json:"clk_tck"`
	ClkTckAssumed     bool    `json:"clk_tck_assumed,omitempty"`
	Error             string  `json:"error,omitempty"`
}

// icyReport is the ICY metadata that listen -icy took out of the bodies,
// summed over listeners.
type icyReport struct {
	MetaInt      int   `json:"metaint"`
	Blocks       int64 `json:"blocks"`
	Titles       int64 `json:"titles"`
	TitleChanges int64 `json:"title_changes"`
	BadBlocks    int64 `json:"bad_blocks"`
}

// clientReport is this process's own use over the steady window.
type clientReport struct {
	CPUS            float64 `json:"cpu_s"`
	CPUPerListenerS float64 `json:"cpu_per_listener_s"`
	RSSKiB          int64   `json:"rss_kib"`
}

const burstDef = "audio received before the first read that brings audio at no more than twice real time"

// summarizeListen computes the report from the finished listeners.
func summarizeListen(ls []listener, r *listenRun, cfg listenConfig, streams, srcs int) listenReport {
	rep := listenReport{
		Mode: "listen", Listeners: len(ls), Streams: streams, SourceAddrs: max(srcs, 1),
		RampS: cfg.ramp.Seconds(), DurationS: cfg.duration.Seconds(), BurstDef: burstDef,
		Reasons: map[string]int{},
	}
	if cfg.icy {
		rep.ICY = &icyReport{MetaInt: icyMetaInt}
	}
	var connect, head, ttfb, burst, leadMin []float64
	leadMax := 0.0
	for i := range ls {
		l := &ls[i]
		switch l.outcome {
		case outcomeOK:
			rep.OK++
		case outcomeFailed:
			rep.Failed++
			rep.Reasons[l.why]++
		case outcomeEarly:
			rep.ClosedEarly++
			rep.Reasons["early: "+l.why]++
		}
		if !l.connAt.IsZero() {
			connect = append(connect, ms(l.connAt.Sub(l.dialAt)))
		}
		if !l.headAt.IsZero() {
			head = append(head, ms(l.headAt.Sub(l.connAt)))
		}
		if !l.firstByte.IsZero() {
			ttfb = append(ttfb, ms(l.firstByte.Sub(l.connAt)))
			// Listener-seconds inside the steady window.
			from := l.firstByte
			if from.Before(r.steadyStart) {
				from = r.steadyStart
			}
			if to := minTime(l.end, r.steadyEnd); to.After(from) {
				rep.ListenerS += to.Sub(from).Seconds()
			}
		}
		if l.burstDone {
			burst = append(burst, l.burst)
		}
		if l.leadN > 0 {
			leadMin = append(leadMin, l.leadMin)
			if len(leadMin) == 1 || l.leadMax > leadMax {
				leadMax = l.leadMax
			}
		}
		if l.stallEvents > 0 {
			rep.StalledListeners++
			rep.StallEvents += l.stallEvents
		}
		rep.SyncLosses += l.w.syncLosses
		if rep.ICY != nil {
			rep.ICY.Blocks += l.icy.blocks
			rep.ICY.Titles += l.icy.titles
			rep.ICY.TitleChanges += l.icy.changes
			rep.ICY.BadBlocks += l.icy.bad
		}
		rep.SkippedBytes += l.w.skipped
		rep.Bytes += l.bytes
		rep.AudioS += l.w.audio
	}
	rep.ConnectMs, rep.HeadMs, rep.TTFBMs = roundSummary(summarize(connect)), roundSummary(summarize(head)), roundSummary(summarize(ttfb))
	rep.BurstS = roundSpread(spreadOf(burst))
	rep.LeadListeners = len(leadMin)
	if lm := spreadOf(leadMin); len(leadMin) > 0 {
		rep.LeadS = roundSpread(spread{Min: lm.Min, P50: lm.P50, Max: leadMax})
	}
	rep.AudioS = round3(rep.AudioS)
	rep.ListenerS = round3(rep.ListenerS)
	if len(rep.Reasons) == 0 {
		rep.Reasons = nil
	}
	return rep
}

func ms(d time.Duration) float64 { return d.Seconds() * 1000 }

func roundSummary(s summary) summary { return summary{round3(s.P50), round3(s.P99), round3(s.Max)} }
func roundSpread(s spread) spread    { return spread{round3(s.Min), round3(s.P50), round3(s.Max)} }

// printListen writes the human summary.
func printListen(w io.Writer, r *listenReport) {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %d listeners over %d stream(s) from %d source address(es); ramp %.1fs, steady %.1fs\n",
		r.Listeners, r.Streams, r.SourceAddrs, r.RampS, r.DurationS)
	fmt.Fprintf(&b, "  connections  ok %d  failed %d  closed early %d", r.OK, r.Failed, r.ClosedEarly)
	for k, v := range r.Reasons {
		fmt.Fprintf(&b, "  [%s: %d]", k, v)
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  connect ms   p50 %.2f  p99 %.2f  max %.2f\n", r.ConnectMs.P50, r.ConnectMs.P99, r.ConnectMs.Max)
	fmt.Fprintf(&b, "  head ms      p50 %.2f  p99 %.2f  max %.2f   (request sent -> end of response head)\n", r.HeadMs.P50, r.HeadMs.P99, r.HeadMs.Max)
	fmt.Fprintf(&b, "  TTFB ms      p50 %.2f  p99 %.2f  max %.2f   (request sent -> first body byte)\n", r.TTFBMs.P50, r.TTFBMs.P99, r.TTFBMs.Max)
	fmt.Fprintf(&b, "  burst s      min %.3f  p50 %.3f  max %.3f   (%s)\n", r.BurstS.Min, r.BurstS.P50, r.BurstS.Max, burstDef)
	fmt.Fprintf(&b, "  lead s       min %.3f  p50 of minima %.3f  max %.3f   (%d listeners sampled)\n", r.LeadS.Min, r.LeadS.P50, r.LeadS.Max, r.LeadListeners)
	fmt.Fprintf(&b, "  stalls       %d listener(s), %d event(s)   sync losses %d   skipped bytes %d\n", r.StalledListeners, r.StallEvents, r.SyncLosses, r.SkippedBytes)
	if m := r.ICY; m != nil {
		fmt.Fprintf(&b, "  icy          %d metadata block(s) every %d bytes: %d title(s), %d change(s)   bad blocks %d\n",
			m.Blocks, m.MetaInt, m.Titles, m.TitleChanges, m.BadBlocks)
	}
	fmt.Fprintf(&b, "  received     %.1f MB, %.0f s of audio; %.0f listener-seconds in the steady window\n", float64(r.Bytes)/1e6, r.AudioS, r.ListenerS)
	if s := r.Server; s != nil {
		if s.Error != "" {
			fmt.Fprintf(&b, "  server       %v: %s\n", s.Pids, s.Error)
		} else {
			assumed := ""
			if s.ClkTckAssumed {
				assumed = " (assumed)"
			}
			fmt.Fprintf(&b, "  server       %v: %.2f CPU-s = %.2f µs per listener-second (CLK_TCK %d%s); RSS %d KiB, baseline %d KiB, %.1f KiB per listener\n",
				s.Pids, s.CPUS, s.CPUPerListenerS*1e6, s.ClkTck, assumed, s.RSSKiB, s.RSSBaselineKiB, s.RSSPerListenerKiB)
		}
	}
	fmt.Fprintf(&b, "  client       %.2f CPU-s = %.2f µs per listener-second; RSS %d KiB\n", r.Client.CPUS, r.Client.CPUPerListenerS*1e6, r.Client.RSSKiB)
	io.WriteString(w, b.String())
}
