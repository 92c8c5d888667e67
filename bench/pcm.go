package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/synthcast/synthcast/render"
)

// PCM-mode limits and format.
const (
	// maxPCMSeconds bounds -seconds: an hour of 44.1 kHz stereo is 635 MB,
	// more than any encoder comparison here needs.
	maxPCMSeconds = 3600

	// pcmRate and pcmChannels are the test signal's format, the server's
	// default stream format (render.Defaults).
	pcmRate, pcmChannels = 44100, 2

	// pcmChunk is how many frames (samples per channel) are rendered per
	// Render call: one MP3 frame's worth, as a stream's render job does.
	pcmChunk = 1152
)

// pcmScene is one part of the encoder test signal: render.Defaults with
// some settings changed. The parts follow each other in one Synth, so the
// changes glide as a /set_param would.
type pcmScene struct {
	Name string `json:"name"`
	set  func(*render.Params)
}

// pcmScenes is the encoder test signal, in order, each given the same share
// of its length: mostly melodies (notes, attacks, silence between notes),
// with tones of each shape and some filtered noise, so no encoder is
// measured on a steady sine alone.
var pcmScenes = []pcmScene{
	{"melody: pentatonic on C4, sine, 120 bpm", func(p *render.Params) { p.Mode = render.ModeMelody }},
	{"tone: saw 220 Hz, low-pass 2 kHz", func(p *render.Params) { p.Wave, p.Freq, p.Cutoff = render.WaveSaw, 220, 2000 }},
	{"melody: blues on A3, square, 140 bpm, low-pass 5 kHz", func(p *render.Params) {
		p.Mode, p.Scale, p.Root, p.Wave, p.Tempo, p.Cutoff = render.ModeMelody, render.ScaleBlues, 57, render.WaveSquare, 140, 5000
	}},
	{"tone: triangle 660 Hz, pan -0.5", func(p *render.Params) { p.Wave, p.Freq, p.Pan = render.WaveTriangle, 660, -0.5 }},
	{"melody: minor on E3, saw, 90 bpm, seed 7", func(p *render.Params) {
		p.Mode, p.Scale, p.Root, p.Wave, p.Tempo, p.Seed = render.ModeMelody, render.ScaleMinor, 52, render.WaveSaw, 90, 7
	}},
	{"noise: low-pass 8 kHz, gain 0.3", func(p *render.Params) { p.Wave, p.Cutoff, p.Gain = render.WaveNoise, 8000, 0.3 }},
	{"melody: dorian on C3, triangle, 180 bpm, pan 0.4", func(p *render.Params) {
		p.Mode, p.Scale, p.Root, p.Wave, p.Tempo, p.Pan = render.ModeMelody, render.ScaleDorian, 48, render.WaveTriangle, 180, 0.4
	}},
	{"tone: square 110 Hz, low-pass 1.2 kHz", func(p *render.Params) { p.Wave, p.Freq, p.Cutoff = render.WaveSquare, 110, 1200 }},
}

// pcmReport is the pcm mode's JSON line.
type pcmReport struct {
	Mode       string     `json:"mode"` // "pcm"
	File       string     `json:"file"`
	Seconds    float64    `json:"seconds"`
	Bytes      int64      `json:"bytes"`
	SampleRate int        `json:"sample_rate"`
	Channels   int        `json:"channels"`
	Format     string     `json:"format"` // "s16le"
	SHA256     string     `json:"sha256"`
	Scenes     []pcmScene `json:"scenes"`
}

// runPCM writes the encoder test signal: -seconds of 44.1 kHz stereo
// s16le rendered by render.Synth through pcmScenes. The same -seconds gives
// the same bytes.
func runPCM(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("pcm", stderr)
	out := fs.String("o", "", "the `file` to write (required)")
	secs := fs.Float64("seconds", 200, "length in seconds")
	asJSON := fs.Bool("json", false, "print only the final JSON line")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: -o is required", errUsage)
	}
	if !(*secs > 0 && *secs <= maxPCMSeconds) {
		return fmt.Errorf("%w: -seconds must be in (0, %d]", errUsage, maxPCMSeconds)
	}
	frames := int64(*secs*pcmRate + 0.5)
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	h := sha256.New()
	w := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<16)
	n, err := writePCM(w, frames)
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pcm: %w", err)
	}
	r := pcmReport{Mode: "pcm", File: *out, Seconds: float64(frames) / pcmRate, Bytes: n,
		SampleRate: pcmRate, Channels: pcmChannels, Format: "s16le",
		SHA256: hex.EncodeToString(h.Sum(nil)), Scenes: pcmScenes}
	if !*asJSON {
		fmt.Fprintf(stderr, "pcm: %s: %.1f s of %d Hz stereo s16le (%d bytes), %d scenes, sha256 %.16s…\n",
			r.File, r.Seconds, r.SampleRate, r.Bytes, len(r.Scenes), r.SHA256)
	}
	return writeJSON(stdout, r)
}

// writePCM renders frames frames of the test signal to w as interleaved
// s16le and returns the bytes written. Scene i covers frames
// [i·frames/len, (i+1)·frames/len).
func writePCM(w io.Writer, frames int64) (int64, error) {
	p := render.Defaults()
	s := render.NewSynth(&p)
	buf := make([]int16, pcmChunk*pcmChannels)
	raw := make([]byte, 2*len(buf))
	var pos, written int64
	for i, sc := range pcmScenes {
		p = render.Defaults()
		sc.set(&p)
		end := frames * int64(i+1) / int64(len(pcmScenes))
		for pos < end {
			n := min(int64(pcmChunk), end-pos)
			b := buf[:n*pcmChannels]
			s.Render(b, &p)
			for j, v := range b {
				binary.LittleEndian.PutUint16(raw[2*j:], uint16(v))
			}
			k, err := w.Write(raw[:2*len(b)])
			written += int64(k)
			if err != nil {
				return written, err
			}
			pos += n
		}
	}
	return written, nil
}
