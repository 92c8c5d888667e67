package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// maxJSONLine bounds one line of a results file; the longest now (a listen
// result with its command lines) is under 4 KiB.
const maxJSONLine = 1 << 20

// record is the part of one results line (bench/out/*.jsonl, written by
// bench/peers/lib.sh) the plots read. Absent numbers stay nil.
type record struct {
	Case    string `json:"case"`    // "" for a measurement; "machine", "run", …
	Section string `json:"section"` // listen, unique, encoder, …
	System  string `json:"system"`  // synthcast, icecast, liquidsoap, …
	N       *int   `json:"n"`       // listeners asked
	K       *int   `json:"k"`       // unique streams
	Error   string `json:"error"`   // the case failed
	Skipped string `json:"skipped"` // the case was not run, and why

	// Encoder rows (section "encoder").
	Row      string `json:"row"`      // synthcast, synthcast-purego, lame-default, lame-q7, shine, baseline
	Label    string `json:"label"`    // as the report names the row
	Short    string `json:"short"`    // as the chart names it
	Baseline bool   `json:"baseline"` // not an encoder: left out of the chart

	// The machine and run records.
	CPU    string `json:"cpu"`
	Commit string `json:"commit"`
	Time   string `json:"time"`

	Result *struct {
		OK               *float64 `json:"ok"`
		Failed           *float64 `json:"failed"`
		StalledListeners *float64 `json:"stalled_listeners"`
		StallEvents      *float64 `json:"stall_events"`
		Server           *struct {
			CPUPerListenerS *float64 `json:"cpu_per_listener_s"`
		} `json:"server"`
		RTF *spread `json:"rtf"` // encoder rows
	} `json:"result"`
}

// readRecords parses a results file, one JSON object a line. A missing
// file is no records; a line that is not an object is counted in bad.
func readRecords(name string) (recs []record, bad int, err error) {
	f, err := os.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	return parseRecords(f)
}

// parseRecords is readRecords over a reader.
func parseRecords(rd io.Reader) (recs []record, bad int, err error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64<<10), maxJSONLine)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var r record
		if line[0] != '{' || json.Unmarshal(line, &r) != nil {
			bad++
			continue
		}
		recs = append(recs, r)
	}
	return recs, bad, sc.Err()
}

// series is one line (or the bars) of a plot, as written to its data file:
// a title, column names, rows of numbers, or for bars a label per row.
type series struct {
	File    string // base name: PLOT.KEY.tsv, or PLOT.tsv for one-series plots
	Source  string // the comment naming where the data comes from
	Title   string
	Columns []string // after the first (x, or the bar's label)
	Rows    []seriesRow
}

type seriesRow struct {
	Label string    // bar charts only
	X     float64   // line charts only
	Y     []float64 // one per column
}

// runStamp describes a results file's run for a legend and a comment.
type runStamp struct {
	time, commit, cpu string
}

func stampOf(recs []record) runStamp {
	var s runStamp
	for _, r := range recs {
		switch r.Case {
		case "machine":
			s.cpu, s.commit = r.CPU, r.Commit
			if s.time == "" {
				s.time = r.Time
			}
		case "run":
			s.time = r.Time
		}
	}
	return s
}

// short is the stamp in a legend: the run's date and the CPU's name
// without trademarks ("2026-11-26, Intel Xeon").
func (s runStamp) short() string {
	date, _, _ := strings.Cut(s.time, "T")
	cpu := s.cpu
	for _, w := range []string{"(R)", "(TM)", "(tm)", " Processor", " CPU"} {
		cpu = strings.ReplaceAll(cpu, w, "")
	}
	cpu, _, _ = strings.Cut(cpu, " @")
	cpu = strings.Join(strings.Fields(cpu), " ")
	return strings.Trim(cmp.Or(date, "?")+", "+cmp.Or(cpu, "?"), ", ")
}

func (s runStamp) long() string {
	return fmt.Sprintf("run %s, commit %s, %s", cmp.Or(s.time, "?"), cmp.Or(s.commit, "?"), cmp.Or(s.cpu, "?"))
}

// Plot names: the data files are PLOT.KEY.tsv (or PLOT.tsv) and the image
// PLOT.svg (bench/peers/plots.gp).
const (
	plotListenCPU    = "listen-cpu"    // server CPU per listener-second against listeners
	plotUniqueStalls = "unique-stalls" // stalled listeners against unique streams
	plotEncoder      = "encoder"       // the encoder table's RTF per core, as bars
)

// lineSpec picks one series of a line plot out of a suite's records.
type lineSpec struct {
	plot, key, section, system, title string
}

// lineSpecs lists the line plots' series, per suite ("bench" for make
// bench, "peers" for make bench-peers).
var lineSpecs = map[string][]lineSpec{
	"bench": {
		{plotListenCPU, "synthcast-bench", "listen", "synthcast", "synthcast, make bench"},
		{plotUniqueStalls, "synthcast-bench", "unique", "synthcast", "synthcast, make bench"},
	},
	"peers": {
		{plotListenCPU, "synthcast-peers", "listen", "synthcast", "synthcast, make bench-peers"},
		{plotListenCPU, "icecast-peers", "listen", "icecast", "Icecast + Liquidsoap, make bench-peers"},
		{plotUniqueStalls, "synthcast-peers", "unique", "synthcast", "synthcast, make bench-peers"},
		{plotUniqueStalls, "liquidsoap-peers", "unique", "liquidsoap", "Liquidsoap harbor, make bench-peers"},
	},
}

// extractSeries returns the series a suite's records hold (suite "bench"
// or "peers"; from names the file in the comments). A series with no
// usable row (a failed case, a section the run left out) is absent, so its
// data file is kept as it stands.
func extractSeries(suite, from string, recs []record) []series {
	st := stampOf(recs)
	var out []series
	for _, sp := range lineSpecs[suite] {
		s := series{File: sp.plot + "." + sp.key + ".tsv", Title: sp.title + " (" + st.short() + ")",
			Source: fmt.Sprintf("%s, %s: %s", sp.plot, sp.title, from+" ("+st.long()+")")}
		for _, r := range recs {
			if r.Case != "" || r.Section != sp.section || r.System != sp.system || r.Error != "" || r.Result == nil {
				continue
			}
			res := r.Result
			switch sp.plot {
			case plotListenCPU:
				if r.N == nil || res.Server == nil || res.Server.CPUPerListenerS == nil {
					continue
				}
				s.Columns = []string{"server CPU ms per listener-second", "ok", "failed", "stalled listeners"}
				s.Rows = append(s.Rows, seriesRow{X: float64(*r.N),
					Y: []float64{*res.Server.CPUPerListenerS * 1000, num(res.OK), num(res.Failed), num(res.StalledListeners)}})
			case plotUniqueStalls:
				if r.K == nil || res.StalledListeners == nil {
					continue
				}
				s.Columns = []string{"stalled listeners", "stall events", "ok", "failed"}
				s.Rows = append(s.Rows, seriesRow{X: float64(*r.K),
					Y: []float64{*res.StalledListeners, num(res.StallEvents), num(res.OK), num(res.Failed)}})
			}
		}
		if len(s.Rows) > 0 {
			slices.SortStableFunc(s.Rows, func(a, b seriesRow) int { return cmp.Compare(a.X, b.X) })
			out = append(out, s)
		}
	}
	if suite == "bench" {
		if s, ok := encoderSeries(recs, from, st); ok {
			out = append(out, s)
		}
	}
	return out
}

// encoderSeries is the encoder chart's bars: each encoder row's median RTF
// per core, and its ratio to the row "lame-default" (0 if that row is
// missing). Baseline, failed and skipped rows are left out. Its title is the
// run's stamp, which the chart's title shows.
func encoderSeries(recs []record, from string, st runStamp) (series, bool) {
	s := series{File: plotEncoder + ".tsv", Title: st.short(),
		Source:  fmt.Sprintf("%s: %s (%s)", plotEncoder, from, st.long()),
		Columns: []string{"RTF per core, p50", "÷ LAME default", "RTF min", "RTF max"}}
	lame := 0.0
	for _, r := range recs {
		if r.Section == "encoder" && r.Case == "" && r.Row == "lame-default" && r.Error == "" && r.Result != nil && r.Result.RTF != nil {
			lame = r.Result.RTF.P50
		}
	}
	for _, r := range recs {
		if r.Section != "encoder" || r.Case != "" || r.Baseline || r.Error != "" || r.Skipped != "" ||
			r.Result == nil || r.Result.RTF == nil || r.Result.RTF.P50 <= 0 {
			continue
		}
		ratio := 0.0
		if lame > 0 {
			ratio = r.Result.RTF.P50 / lame
		}
		s.Rows = append(s.Rows, seriesRow{Label: cmp.Or(r.Short, r.Label, r.Row),
			Y: []float64{r.Result.RTF.P50, ratio, r.Result.RTF.Min, r.Result.RTF.Max}})
	}
	return s, len(s.Rows) > 0
}

// num is *p, or 0 for nil.
func num(p *float64) float64 {
	if p == nil {
		return 0
	}
	return *p
}

// appendTSV appends s as gnuplot reads it with `set datafile separator
// "\t"` and `title columnheader(1)`: a comment, a header row (the title,
// then the column names, each quoted), then a row per point.
func appendTSV(dst []byte, s series) []byte {
	dst = append(dst, "# generated by `go run ./bench plotdata`: "...)
	dst = append(dst, tsvClean(s.Source)...)
	dst = append(dst, "\n"...)
	dst = strconv.AppendQuote(dst, tsvClean(s.Title))
	for _, c := range s.Columns {
		dst = append(dst, '\t')
		dst = strconv.AppendQuote(dst, tsvClean(c))
	}
	dst = append(dst, '\n')
	for _, r := range s.Rows {
		if r.Label != "" {
			dst = strconv.AppendQuote(dst, tsvClean(r.Label))
		} else {
			dst = strconv.AppendFloat(dst, r.X, 'g', -1, 64)
		}
		for _, y := range r.Y {
			dst = append(dst, '\t')
			dst = strconv.AppendFloat(dst, round3(y), 'g', -1, 64)
		}
		dst = append(dst, '\n')
	}
	return dst
}

// tsvClean keeps s on one line and out of gnuplot's way: no tab, newline or
// double quote (a quoted field ends at the first).
func tsvClean(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return ' '
		case '"':
			return '\''
		}
		return r
	}, s)
}

// plotDataReport is the plotdata mode's JSON line.
type plotDataReport struct {
	Mode     string         `json:"mode"` // "plotdata"
	Dir      string         `json:"dir"`
	Written  []string       `json:"written"`   // data files rewritten from this run's results
	Kept     []string       `json:"kept"`      // data files left as they were
	BadLines map[string]int `json:"bad_lines"` // per results file, lines that were not JSON objects
}

// runPlotData writes the plots' data files (DIR/PLOT[.KEY].tsv) from the
// results of make bench (-bench) and make bench-peers (-peers). A series
// the results do not hold keeps its file, so one target's run never erases
// the other's data, nor a section the run left out.
func runPlotData(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fset := newFlagSet("plotdata", stderr)
	benchFile := fset.String("bench", "bench/out/bench.jsonl", "make bench's results `file` (may be absent)")
	peersFile := fset.String("peers", "bench/out/peers.jsonl", "make bench-peers' results `file` (may be absent)")
	dir := fset.String("dir", "bench/plots", "the `directory` of the data files (created if absent)")
	asJSON := fset.Bool("json", false, "print only the final JSON line")
	if err := parseFlags(fset, args); err != nil {
		return err
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	rep := plotDataReport{Mode: "plotdata", Dir: *dir, Written: []string{}, Kept: []string{}, BadLines: map[string]int{}}
	written := map[string]bool{}
	for _, in := range []struct{ suite, file string }{{"bench", *benchFile}, {"peers", *peersFile}} {
		recs, bad, err := readRecords(in.file)
		if err != nil {
			return fmt.Errorf("plotdata: %w", err)
		}
		rep.BadLines[in.file] = bad
		for _, s := range extractSeries(in.suite, filepath.Base(in.file), recs) {
			if err := writeFileAtomic(filepath.Join(*dir, s.File), appendTSV(nil, s)); err != nil {
				return fmt.Errorf("plotdata: %w", err)
			}
			rep.Written = append(rep.Written, s.File)
			written[s.File] = true
		}
	}
	old, _ := filepath.Glob(filepath.Join(*dir, "*.tsv"))
	for _, f := range old {
		if b := filepath.Base(f); !written[b] {
			rep.Kept = append(rep.Kept, b)
		}
	}
	if !*asJSON {
		fmt.Fprintf(stderr, "plotdata: %s: wrote %s; kept %s\n", *dir, orNone(rep.Written), orNone(rep.Kept))
	}
	return writeJSON(stdout, rep)
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// writeFileAtomic writes b to name through a temporary file in its
// directory, so a reader never sees half a file.
func writeFileAtomic(name string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), name)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}
