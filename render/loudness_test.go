package render

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// TestDefaultLoudness measures, with ffmpeg's ebur128 filter, the decoded
// loudness of 20 s of the default melody and of the default tone: the
// melody at the −14 to −16 LUFS that streaming services normalise to (the
// README states −16), the tone where a steady sine of that peak is, and
// neither near clipping.
func TestDefaultLoudness(t *testing.T) {
	needTool(t, "ffmpeg")
	for _, c := range []struct {
		name          string
		mode          Mode
		lo, hi, maxTP float64 // LUFS range, true peak ceiling (dBFS)
	}{
		{"melody", ModeMelody, -17, -14, -6},
		{"tone", ModeTone, -7, -5, -4},
	} {
		p := Defaults()
		p.Mode = c.mode
		e := mustEncoder(t, p.SampleRate, p.Channels, p.Bitrate)
		s := NewSynth(&p)
		pcm := make([]int16, e.FrameSamples()*p.Channels)
		var out []byte
		for range 20 * p.SampleRate / e.FrameSamples() {
			s.Render(pcm, &p)
			var err error
			if out, err = e.EncodeFrame(out, pcm); err != nil {
				t.Fatal(err)
			}
		}
		file := filepath.Join(t.TempDir(), c.name+".mp3")
		if err := os.WriteFile(file, out, 0o644); err != nil {
			t.Fatal(err)
		}
		report, err := exec.Command("ffmpeg", "-hide_banner", "-nostats", "-i", file,
			"-af", "ebur128=peak=true", "-f", "null", "-").CombinedOutput()
		if err != nil {
			t.Fatalf("ffmpeg: %v\n%s", err, report)
		}
		lufs := lastFloat(t, report, `I:\s+(-?[0-9.]+) LUFS`)
		peak := lastFloat(t, report, `Peak:\s+(-?[0-9.]+) dBFS`)
		t.Logf("default %s: %.1f LUFS integrated, true peak %.1f dBFS", c.name, lufs, peak)
		if lufs < c.lo || lufs > c.hi || peak > c.maxTP {
			t.Errorf("default %s: %.1f LUFS, true peak %.1f dBFS; want %.0f to %.0f LUFS, peak below %.0f dBFS",
				c.name, lufs, peak, c.lo, c.hi, c.maxTP)
		}
	}
}

// lastFloat returns the number in the last match of pattern's group in out.
func lastFloat(t *testing.T, out []byte, pattern string) float64 {
	t.Helper()
	m := regexp.MustCompile(pattern).FindAllSubmatch(out, -1)
	if len(m) == 0 {
		t.Fatalf("no %q in ffmpeg's report:\n%s", pattern, out)
	}
	v, err := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
