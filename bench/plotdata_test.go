package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Results lines as bench/peers/lib.sh writes them (trimmed to the fields
// the plots read, plus some they must ignore).
const benchJSONL = `{"case":"machine","nproc":2,"cpu":"Intel(R) Xeon(R) Processor","commit":"5982349","time":"2026-11-26T23:00:00Z"}
{"section":"listen","system":"synthcast","n":5000,"streams":10,"cmd":"x","result":{"ok":5000,"failed":0,"stalled_listeners":0,"stall_events":0,"server":{"cpu_s":10.6,"cpu_per_listener_s":0.000035}}}
{"section":"listen","system":"synthcast","n":1000,"streams":10,"result":{"ok":1000,"failed":0,"stalled_listeners":1,"stall_events":2,"server":{"cpu_per_listener_s":0.000105}}}
{"section":"listen","system":"synthcast","n":19000,"error":"exit 1: no server"}
{"section":"listen","system":"synthcast","n":10000,"result":{"ok":0,"failed":10000}}
{"section":"unique","system":"synthcast","k":80,"n":80,"result":{"ok":80,"failed":0,"stalled_listeners":0,"stall_events":0,"server":{"cpu_per_listener_s":0.006}}}
{"section":"tuned","system":"synthcast-tuned","n":1000,"result":{"ok":1000,"stalled_listeners":0,"server":{"cpu_per_listener_s":0.0001}}}
{"section":"cluster","part":"listen","nodes":1,"n":3000,"result":{"ok":3000,"stalled_listeners":0,"server":{"cpu_per_listener_s":0.0001}}}
{"section":"encoder","case":"input","repeats":3,"result":{"seconds":200}}
{"section":"encoder","row":"synthcast","short":"synthcast, default build","label":"synthcast render.Encoder","baseline":false,"result":{"rtf":{"min":290,"p50":300,"max":310}}}
{"section":"encoder","row":"lame-default","short":"LAME -q 3 (default)","label":"LAME 3.100","baseline":false,"result":{"rtf":{"min":95,"p50":100,"max":101}}}
{"section":"encoder","row":"shine","label":"shine in C","baseline":false,"skipped":"no libshine"}
{"section":"encoder","row":"lame-q7","label":"LAME -q 7","baseline":false,"error":"exit 1: boom"}
{"section":"encoder","row":"baseline","label":"ffmpeg, no encoder","baseline":true,"result":{"rtf":{"min":3000,"p50":3600,"max":3700}}}
not json
{"case":"run","seconds":600,"sections":["listen","unique","encoder"],"time":"2026-11-26T23:10:00Z"}
`

const peersJSONL = `{"case":"machine","cpu":"AMD EPYC","commit":"44516c3","time":"2026-11-23T23:00:00Z"}
{"section":"listen","system":"icecast","n":1000,"streams":10,"result":{"ok":1000,"failed":0,"stalled_listeners":0,"server":{"cpu_per_listener_s":0.000145}}}
{"section":"listen","system":"synthcast","n":1000,"streams":10,"result":{"ok":1000,"failed":0,"stalled_listeners":0,"server":{"cpu_per_listener_s":0.000097}}}
{"section":"unique","system":"liquidsoap","k":40,"n":40,"result":{"ok":40,"failed":0,"stalled_listeners":11,"stall_events":532}}
{"section":"unique","system":"synthcast","k":40,"n":40,"result":{"ok":40,"failed":0,"stalled_listeners":0,"stall_events":0}}
{"case":"liq_log","k":40,"catchup_lines":0}
{"case":"run","time":"2026-11-23T23:31:26Z"}
`

func TestParseRecords(t *testing.T) {
	recs, bad, err := parseRecords(strings.NewReader(benchJSONL + "\n  \n[1]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 15 || bad != 2 {
		t.Fatalf("parseRecords = %d records, %d bad; want 15, 2", len(recs), bad)
	}
	if r := recs[1]; r.Section != "listen" || r.N == nil || *r.N != 5000 || r.Result == nil ||
		r.Result.Server == nil || *r.Result.Server.CPUPerListenerS != 0.000035 {
		t.Errorf("record 1 = %+v", r)
	}
	if r := recs[9]; r.Row != "synthcast" || r.Short != "synthcast, default build" || r.Result.RTF.P50 != 300 {
		t.Errorf("record 9 = %+v", r)
	}
	if s := stampOf(recs); s.time != "2026-11-26T23:10:00Z" || s.commit != "5982349" || s.short() != "2026-11-26, Intel Xeon" {
		t.Errorf("stampOf = %+v (%q)", s, s.short())
	}
}

func TestStampShort(t *testing.T) {
	for _, c := range []struct {
		s    runStamp
		want string
	}{
		{runStamp{time: "2026-11-23T23:02:23Z", cpu: "AMD EPYC"}, "2026-11-23, AMD EPYC"},
		{runStamp{time: "2026-11-23T23:02:23Z", cpu: "Intel(R) Core(TM) i7-8650U CPU @ 1.90GHz"}, "2026-11-23, Intel Core i7-8650U"},
		{runStamp{}, "?, ?"},
	} {
		if got := c.s.short(); got != c.want {
			t.Errorf("%+v.short() = %q; want %q", c.s, got, c.want)
		}
	}
}

// seriesByFile indexes series by their file name.
func seriesByFile(ss []series) map[string]series {
	m := map[string]series{}
	for _, s := range ss {
		m[s.File] = s
	}
	return m
}

func TestExtractSeriesBench(t *testing.T) {
	recs, _, _ := parseRecords(strings.NewReader(benchJSONL))
	m := seriesByFile(extractSeries("bench", "bench.jsonl", recs))
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, []string{"encoder.tsv", "listen-cpu.synthcast-bench.tsv", "unique-stalls.synthcast-bench.tsv"}) {
		t.Fatalf("series = %q", got)
	}
	l := m["listen-cpu.synthcast-bench.tsv"]
	// The failed row and the one without server figures are left out; the
	// rest sorted by listeners, CPU in ms.
	if len(l.Rows) != 2 || l.Rows[0].X != 1000 || l.Rows[1].X != 5000 {
		t.Fatalf("listen rows = %+v", l.Rows)
	}
	if y := l.Rows[0].Y; !approx(y[0], 0.105) || y[1] != 1000 || y[2] != 0 || y[3] != 1 {
		t.Errorf("listen row 1000 = %v; want [0.105 1000 0 1]", y)
	}
	if l.Title != "synthcast, make bench (2026-11-26, Intel Xeon)" {
		t.Errorf("title = %q", l.Title)
	}
	u := m["unique-stalls.synthcast-bench.tsv"]
	if len(u.Rows) != 1 || u.Rows[0].X != 80 || u.Rows[0].Y[0] != 0 {
		t.Errorf("unique rows = %+v", u.Rows)
	}
	e := m["encoder.tsv"]
	// Baseline, skipped and failed rows are not bars.
	if len(e.Rows) != 2 || e.Rows[0].Label != "synthcast, default build" || e.Rows[1].Label != "LAME -q 3 (default)" {
		t.Fatalf("encoder rows = %+v", e.Rows)
	}
	if y := e.Rows[0].Y; y[0] != 300 || y[1] != 3 || y[2] != 290 || y[3] != 310 {
		t.Errorf("encoder synthcast = %v; want [300 3 290 310]", y)
	}
	if e.Title != "2026-11-26, Intel Xeon" {
		t.Errorf("encoder title = %q", e.Title)
	}
}

func TestExtractSeriesPeers(t *testing.T) {
	recs, _, _ := parseRecords(strings.NewReader(peersJSONL))
	m := seriesByFile(extractSeries("peers", "peers.jsonl", recs))
	want := []string{"listen-cpu.icecast-peers.tsv", "listen-cpu.synthcast-peers.tsv",
		"unique-stalls.liquidsoap-peers.tsv", "unique-stalls.synthcast-peers.tsv"}
	if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
		t.Fatalf("series = %q; want %q", got, want)
	}
	if y := m["listen-cpu.icecast-peers.tsv"].Rows[0].Y[0]; !approx(y, 0.145) {
		t.Errorf("Icecast CPU ms = %v; want 0.145", y)
	}
	if r := m["unique-stalls.liquidsoap-peers.tsv"].Rows[0]; r.X != 40 || r.Y[0] != 11 || r.Y[1] != 532 {
		t.Errorf("Liquidsoap row = %+v", r)
	}
	// No encoder series from make bench-peers, and none from nothing.
	if _, ok := m["encoder.tsv"]; ok {
		t.Error("peers gave an encoder series")
	}
	if s := extractSeries("bench", "bench.jsonl", nil); len(s) != 0 {
		t.Errorf("no records gave %d series", len(s))
	}
}

func TestEncoderSeriesWithoutLAME(t *testing.T) {
	recs, _, _ := parseRecords(strings.NewReader(`{"section":"encoder","row":"synthcast","result":{"rtf":{"min":1,"p50":2,"max":3}}}`))
	s, ok := encoderSeries(recs, "x", runStamp{})
	if !ok || len(s.Rows) != 1 || s.Rows[0].Y[1] != 0 || s.Rows[0].Label != "synthcast" {
		t.Errorf("encoderSeries without a LAME row = %+v, %v; want one bar, ratio 0, labelled by its row", s, ok)
	}
}

func TestAppendTSV(t *testing.T) {
	s := series{Source: "a\tb", Title: `say "hi"`, Columns: []string{"y", "z"},
		Rows: []seriesRow{{X: 1000, Y: []float64{0.10499999, 3}}, {X: 5000, Y: []float64{2, 0}}}}
	want := "# generated by `go run ./bench plotdata`: a b\n" +
		"\"say 'hi'\"\t\"y\"\t\"z\"\n" +
		"1000\t0.105\t3\n" +
		"5000\t2\t0\n"
	if got := string(appendTSV(nil, s)); got != want {
		t.Errorf("appendTSV = %q; want %q", got, want)
	}
	bars := series{Title: "t", Columns: []string{"rtf"}, Rows: []seriesRow{{Label: "LAME\n-q 3", Y: []float64{98.03}}}}
	if got, want := string(appendTSV(nil, bars)), "# generated by `go run ./bench plotdata`: \n\"t\"\t\"rtf\"\n\"LAME -q 3\"\t98.03\n"; got != want {
		t.Errorf("appendTSV(bars) = %q; want %q", got, want)
	}
}

// A run of one target rewrites its series and keeps the other target's
// files as they were.
func TestRunPlotDataKeeps(t *testing.T) {
	dir := t.TempDir()
	benchFile := filepath.Join(dir, "bench.jsonl")
	if err := os.WriteFile(benchFile, []byte(benchJSONL), 0o644); err != nil {
		t.Fatal(err)
	}
	plots := filepath.Join(dir, "plots")
	if err := os.MkdirAll(plots, 0o755); err != nil {
		t.Fatal(err)
	}
	old := []byte("# an earlier run\n\"Icecast\"\t\"y\"\n1000\t0.2\n")
	keptFile := filepath.Join(plots, "listen-cpu.icecast-peers.tsv")
	if err := os.WriteFile(keptFile, old, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	args := []string{"plotdata", "-bench", benchFile, "-peers", filepath.Join(dir, "absent.jsonl"), "-dir", plots, "-json"}
	if err := run(context.Background(), args, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var r plotDataReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Kept, []string{"listen-cpu.icecast-peers.tsv"}) || len(r.Written) != 3 || r.BadLines[benchFile] != 1 {
		t.Errorf("plotdata = %+v", r)
	}
	if b, _ := os.ReadFile(keptFile); !bytes.Equal(b, old) {
		t.Errorf("kept file changed: %q", b)
	}
	b, err := os.ReadFile(filepath.Join(plots, "listen-cpu.synthcast-bench.tsv"))
	if err != nil || !strings.Contains(string(b), "\n1000\t0.105\t1000\t0\t1\n5000\t0.035\t") {
		t.Errorf("listen-cpu.synthcast-bench.tsv = %q, %v", b, err)
	}
	if left, _ := filepath.Glob(filepath.Join(plots, ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %q", left)
	}
}

func approx(a, b float64) bool { d := a - b; return d < 1e-9 && d > -1e-9 }
