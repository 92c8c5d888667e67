package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/synthcast/synthcast/render"
)

func TestRTF(t *testing.T) {
	for _, c := range []struct{ audio, cpu, want float64 }{
		{200, 2, 100},
		{200, 0.5, 400},
		{20, 0, 0}, // too short for the clock: no figure, not +Inf
		{20, -1, 0},
	} {
		if got := rtfOf(c.audio, c.cpu); got != c.want {
			t.Errorf("rtfOf(%v, %v) = %v; want %v", c.audio, c.cpu, got, c.want)
		}
	}
	if got := pcmSeconds(176400, 44100, 2); got != 1 {
		t.Errorf("pcmSeconds(176400, 44100, 2) = %v; want 1", got)
	}
	if got := pcmSeconds(44100, 22050, 1); got != 1 {
		t.Errorf("pcmSeconds(44100, 22050, 1) = %v; want 1", got)
	}
}

// testPCM renders secs seconds of the test signal as samples and as bytes.
func testPCM(t *testing.T, secs float64) ([]int16, []byte) {
	t.Helper()
	var b bytes.Buffer
	n, err := writePCM(&b, int64(secs*pcmRate))
	if err != nil || n != int64(b.Len()) {
		t.Fatalf("writePCM = %d, %v; buffer holds %d", n, err, b.Len())
	}
	pcm := make([]int16, b.Len()/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(b.Bytes()[2*i:]))
	}
	return pcm, b.Bytes()
}

func TestPCMScenesValid(t *testing.T) {
	for _, sc := range pcmScenes {
		p := render.Defaults()
		sc.set(&p)
		if err := p.Validate(); err != nil {
			t.Errorf("scene %q: %v", sc.Name, err)
		}
		if p == render.Defaults() {
			t.Errorf("scene %q changes nothing", sc.Name)
		}
	}
}

func TestPCMDeterministic(t *testing.T) {
	_, a := testPCM(t, 0.8)
	_, b := testPCM(t, 0.8)
	if want := int(0.8*pcmRate) * pcmChannels * 2; len(a) != want {
		t.Fatalf("0.8 s = %d bytes; want %d", len(a), want)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two renders of the test signal differ")
	}
}

// Every scene sounds: its share of the signal is not silent and not
// clipped flat.
func TestPCMScenesSound(t *testing.T) {
	const secs = 4.0
	pcm, _ := testPCM(t, secs)
	frames := len(pcm) / pcmChannels
	for i, sc := range pcmScenes {
		from, to := frames*i/len(pcmScenes), frames*(i+1)/len(pcmScenes)
		var peak int
		for _, v := range pcm[from*pcmChannels : to*pcmChannels] {
			peak = max(peak, abs(int(v)))
		}
		if peak < 1000 || peak == math.MaxInt16 {
			t.Errorf("scene %d %q: peak %d; want audible and unclipped", i, sc.Name, peak)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestEncodePCMValid(t *testing.T) {
	for _, secs := range []float64{1, 1152.0 * 10 / pcmRate, 0.5 + 7.0/pcmRate} {
		pcm, _ := testPCM(t, secs)
		out, tm, err := encodePCM(nil, pcm, pcmRate, pcmChannels, 128)
		if err != nil {
			t.Fatal(err)
		}
		if tm.CPUS < 0 || tm.WallS <= 0 {
			t.Errorf("%v s: times %+v", secs, tm)
		}
		in := pcmSeconds(int64(2*len(pcm)), pcmRate, pcmChannels)
		c, err := checkMP3(bytes.NewReader(out), in, pcmRate, pcmChannels, 128)
		if err != nil {
			t.Fatal(err)
		}
		wantFrames := (len(pcm)/pcmChannels + 1151) / 1152
		if !c.Valid || c.Frames != int64(wantFrames) || c.SkippedBytes != 0 {
			t.Errorf("%v s: check = %+v; want valid with %d frames", secs, c, wantFrames)
		}
	}
}

func TestCheckMP3(t *testing.T) {
	pcm, _ := testPCM(t, 1)
	good, _, err := encodePCM(nil, pcm, pcmRate, pcmChannels, 128)
	if err != nil {
		t.Fatal(err)
	}
	id3 := append([]byte("ID3\x04\x00\x00\x00\x00\x00\x0aTSSE\x00\x00"), good...)
	cut := append(append(append([]byte(nil), good[:4000]...), 0, 0, 0), good[4000:]...)
	for _, c := range []struct {
		name    string
		data    []byte
		audioS  float64
		bitrate int
		why     string // "" for valid; else a substring of Why
	}{
		{"good", good, 1, 128, ""},
		{"an ID3 tag first", id3, 1, 128, ""},
		{"empty", nil, 1, 128, "no frame"},
		{"three bytes inside", cut, 1, 128, "sync lost"},
		{"another bitrate asked", good, 1, 192, "bitrates"},
		{"input longer than the frames", good, 1.2, 128, "of audio for"},
		{"input much shorter", good, 0.5, 128, "of audio for"},
	} {
		got, err := checkMP3(bytes.NewReader(c.data), c.audioS, pcmRate, pcmChannels, c.bitrate)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.why == "" && (!got.Valid || got.Why != "") {
			t.Errorf("%s: checkMP3 = valid %v (%s); want valid", c.name, got.Valid, got.Why)
		}
		if c.why != "" && (got.Valid || !strings.Contains(got.Why, c.why)) {
			t.Errorf("%s: checkMP3 = valid %v (%q); want invalid, %q", c.name, got.Valid, got.Why, c.why)
		}
	}
}

func TestParseEncode(t *testing.T) {
	for _, c := range []struct {
		args []string
		ok   bool
		cmd  int
	}{
		{[]string{"-in", "x"}, true, 0},
		{[]string{"-in", "x", "-repeats", "5", "--", "ffmpeg", "-i", "x"}, true, 3},
		{[]string{"-in", "x", "--"}, false, 0},
		{[]string{}, false, 0},
		{[]string{"-in", "x", "-repeats", "0"}, false, 0},
		{[]string{"-in", "x", "-repeats", "51"}, false, 0},
		{[]string{"-in", "x", "-timeout", "2h"}, false, 0},
		{[]string{"-in", "x", "-bitrate", "100"}, false, 0},
		{[]string{"-in", "x", "extra"}, false, 0},
	} {
		got, err := parseEncode(c.args, io.Discard)
		if c.ok != (err == nil) || (err != nil && !errors.Is(err, errUsage)) {
			t.Errorf("parseEncode(%q) error = %v; want ok %v (or a usage error)", c.args, err, c.ok)
		}
		if err == nil && len(got.cmd) != c.cmd {
			t.Errorf("parseEncode(%q).cmd = %q; want %d words", c.args, got.cmd, c.cmd)
		}
	}
}

// runEncodeJSON runs the encode mode and decodes its JSON line.
func runEncodeJSON(t *testing.T, args ...string) encodeReport {
	t.Helper()
	var out bytes.Buffer
	if err := run(context.Background(), append([]string{"encode", "-json"}, args...), &out, io.Discard); err != nil {
		t.Fatalf("bench encode %q: %v", args, err)
	}
	var r encodeReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("bench encode %q: %v in %s", args, err, out.Bytes())
	}
	return r
}

func TestEncodeMode(t *testing.T) {
	dir := t.TempDir()
	in, mp3 := filepath.Join(dir, "in.raw"), filepath.Join(dir, "in.mp3")
	var out bytes.Buffer
	if err := run(context.Background(), []string{"pcm", "-o", in, "-seconds", "1.5", "-json"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	var p pcmReport
	if err := json.Unmarshal(out.Bytes(), &p); err != nil || p.Bytes != 1.5*pcmRate*4 || p.Seconds != 1.5 || len(p.SHA256) != 64 {
		t.Fatalf("bench pcm = %+v, %v", p, err)
	}

	r := runEncodeJSON(t, "-in", in, "-out", mp3, "-repeats", "2")
	if r.Encoder != "synthcast" || len(r.Runs) != 2 || r.AudioS != 1.5 || r.Out == nil || !r.Out.Valid {
		t.Fatalf("in-process encode = %+v", r)
	}
	if r.RTF.P50 <= 0 || r.RTF.Min > r.RTF.P50 || r.RTF.P50 > r.RTF.Max {
		t.Errorf("RTF = %+v; want 0 < min ≤ p50 ≤ max", r.RTF)
	}
	for _, x := range r.Runs {
		if want := rtfOf(r.AudioS, x.CPUS); x.CPUS > 0 && math.Abs(x.RTF-want) > 1e-3 {
			t.Errorf("run %+v: RTF %v; want %v", x, x.RTF, want)
		}
	}

	// A command encoder: cp writes the file the first run made.
	copied := filepath.Join(dir, "copy.mp3")
	c := runEncodeJSON(t, "-in", in, "-out", copied, "-repeats", "3", "--", "cp", mp3, copied)
	if c.Encoder != "command" || len(c.Runs) != 3 || len(c.Cmd) != 3 || c.Out == nil || !c.Out.Valid {
		t.Fatalf("command encode = %+v", c)
	}
	if c.Out.Frames != r.Out.Frames {
		t.Errorf("copied file: %d frames; want %d", c.Out.Frames, r.Out.Frames)
	}

	// A command that fails stops the mode.
	err := run(context.Background(), []string{"encode", "-in", in, "--", "false"}, io.Discard, io.Discard)
	if err == nil || errors.Is(err, errUsage) {
		t.Errorf("encode with a failing command: %v; want a run error", err)
	}
	if err := os.Remove(in); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"encode", "-in", in}, io.Discard, io.Discard); err == nil {
		t.Error("encode of a missing file: no error")
	}
}
