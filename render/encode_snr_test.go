package render

import (
	"math"
	"testing"
)

// TestEncoderSNRFloor guards the patched encoder (shine-mp3/README.md):
// decoded with ffmpeg, a sine and a chirp keep at least the
// signal-to-noise ratios upstream shine v0.1.0 reached, to within a few dB.
// Upstream measured 75.2–78.4 dB for the sine and 58.2–75.2 dB for the
// chirp over these formats; the float front end and the reworked loop
// 78.4–81.8 dB and 58.6–78.2 dB. Each format's codec delay comes from
// noise (codecDelay): a sine's own best lag can be a period off.
func TestEncoderSNRFloor(t *testing.T) {
	needTool(t, "ffmpeg")
	signals := []struct {
		name  string
		floor float64
		f     func(x float64, ch int) float64 // x in seconds
	}{
		{"sine", 70, func(x float64, ch int) float64 { return 0.9 * math.Sin(2*math.Pi*440*x*float64(ch+1)) }},
		{"chirp", 55, func(x float64, ch int) float64 { return 0.99 * math.Sin(2*math.Pi*(100*x+2000*x*x)*float64(ch+1)) }},
	}
	for _, f := range []struct{ rate, ch, br int }{{44100, 2, 128}, {48000, 2, 192}, {22050, 2, 64}, {16000, 1, 32}} {
		delay := codecDelay(t, f.rate, f.ch, f.br)
		for _, s := range signals {
			e := mustEncoder(t, f.rate, f.ch, f.br)
			n := e.FrameSamples() * (2 * f.rate / e.FrameSamples())
			in := make([]int16, n*f.ch)
			for i := range n {
				for c := range f.ch {
					in[i*f.ch+c] = int16(32767 * s.f(float64(i)/float64(f.rate), c))
				}
			}
			out := decodeMP3(t, encodeAll(t, e, in))
			for c := range f.ch {
				snr, _ := compareDecodedAt(channel(in, f.ch, c), channel(out, f.ch, c), f.rate/10, delay)
				t.Logf("%d Hz %d ch %d kbit/s, %s, channel %d: SNR %.1f dB", f.rate, f.ch, f.br, s.name, c, snr)
				if snr < s.floor {
					t.Errorf("%d Hz %d ch %d kbit/s, %s, channel %d: SNR %.1f dB; want >= %.0f", f.rate, f.ch, f.br, s.name, c, snr, s.floor)
				}
			}
		}
	}
}
