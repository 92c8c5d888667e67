package render

import (
	"testing"
	"time"
)

// The cost of one second of a 44.1 kHz stereo 128 kbit/s stream: encoding
// pre-rendered PCM alone, and rendering plus encoding as a stream's render
// job does, for the same sound (the encoder's cost depends on the signal,
// so each case compares like with like). The difference is what the
// synthesiser and plumbing add on top of the encoder; "streams/core" is
// how many such streams one core sustains in real time.
//
//	go test -run '^$' -bench 'Second' -count 5 ./render/

var benchSounds = []struct {
	name string
	set  func(*Params)
}{
	{"sine", func(p *Params) {}},
	{"saw-filtered", func(p *Params) { p.Wave, p.Cutoff = WaveSaw, 2000 }},
	{"melody", func(p *Params) { p.Mode = ModeMelody }},
}

const benchRate, benchChannels = 44100, 2

func BenchmarkEncodeSecond(b *testing.B) {
	for _, c := range benchSounds {
		b.Run(c.name, func(b *testing.B) {
			e := mustEncoder(b, benchRate, benchChannels, 128)
			frames := benchRate / e.FrameSamples()
			block := e.FrameSamples() * benchChannels
			p := testParams()
			c.set(&p)
			pcm := renderN(NewSynth(&p), &p, frames*e.FrameSamples())
			dst := make([]byte, 0, MaxFrameLen)
			b.SetBytes(int64(2 * len(pcm)))
			b.ReportAllocs()
			for b.Loop() {
				for k := range frames {
					var err error
					if dst, err = e.EncodeFrame(dst[:0], pcm[k*block:(k+1)*block]); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportStreams(b, frames*e.FrameSamples())
		})
	}
}

func BenchmarkRenderEncodeSecond(b *testing.B) {
	for _, c := range benchSounds {
		b.Run(c.name, func(b *testing.B) {
			e := mustEncoder(b, benchRate, benchChannels, 128)
			frames := benchRate / e.FrameSamples()
			p := testParams()
			c.set(&p)
			s := NewSynth(&p)
			pcm := make([]int16, e.FrameSamples()*benchChannels)
			dst := make([]byte, 0, MaxFrameLen)
			b.SetBytes(int64(2 * frames * len(pcm)))
			b.ReportAllocs()
			for b.Loop() {
				for range frames {
					s.Render(pcm, &p)
					var err error
					if dst, err = e.EncodeFrame(dst[:0], pcm); err != nil {
						b.Fatal(err)
					}
				}
			}
			reportStreams(b, frames*e.FrameSamples())
		})
	}
}

// reportStreams reports how many streams one core keeps up with: the
// audio duration of an op over its wall time.
func reportStreams(b *testing.B, samples int) {
	audio := time.Duration(samples) * time.Second / benchRate
	perOp := b.Elapsed() / time.Duration(b.N)
	b.ReportMetric(float64(audio)/float64(perOp), "streams/core")
}
