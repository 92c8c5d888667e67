//go:build !race

package render

import "testing"

// TestEncoderAllocs: after warm-up, EncodeFrame allocates nothing when dst
// has room for a frame.
func TestEncoderAllocs(t *testing.T) {
	for _, f := range []struct{ rate, channels, bitrate int }{{44100, 2, 128}, {22050, 1, 64}, {32000, 2, 320}} {
		e := mustEncoder(t, f.rate, f.channels, f.bitrate)
		pcm := twoTonePCM(f.rate, f.channels, 8*e.FrameSamples())
		block := e.FrameSamples() * e.Channels()
		dst := make([]byte, 0, MaxFrameLen)
		k := 0
		encode := func() {
			var err error
			if dst, err = e.EncodeFrame(dst[:0], pcm[k*block:(k+1)*block]); err != nil {
				t.Fatal(err)
			}
			k = (k + 1) % 8
		}
		for range 3 {
			encode()
		}
		if n := testing.AllocsPerRun(100, encode); n != 0 {
			t.Errorf("%d Hz %d ch %d kbit/s: EncodeFrame allocates %v times per frame; want 0", f.rate, f.channels, f.bitrate, n)
		}
	}
}
