package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/synthcast/synthcast/render"
)

// Encode-mode limits.
const (
	// maxEncodeRepeats bounds -repeats: the median of a few runs is the
	// figure; more only lengthen the run.
	maxEncodeRepeats = 50

	// maxEncodeInput bounds the PCM read into memory (the synthcast encoder
	// encodes from memory): an hour of 44.1 kHz stereo s16le.
	maxEncodeInput = maxPCMSeconds * pcmRate * pcmChannels * 2

	// maxEncodeTimeout bounds -timeout, the whole run's bound.
	maxEncodeTimeout = time.Hour

	// encodeSlackS is how much longer than its input an encoded file's
	// frames may play and still count as valid: the last frame's padding
	// (up to 26 ms at 44.1 kHz), and LAME's encoder delay and padding (at
	// most 2880 samples, 65 ms) and its Info frame (26 ms).
	encodeSlackS = 0.15

	// rusageThread is RUSAGE_THREAD on Linux (missing from package syscall):
	// the calling thread's CPU time alone.
	rusageThread = 1
)

// cpuTimes is the CPU one run used: user and system seconds, their sum,
// and the wall-clock time.
type cpuTimes struct {
	UserS float64 `json:"user_s"`
	SysS  float64 `json:"sys_s"`
	CPUS  float64 `json:"cpu_s"`
	WallS float64 `json:"wall_s"`
	// ThreadCPUS is the encoding thread's own CPU (RUSAGE_THREAD), for the
	// in-process encoder only: the process figure minus the Go runtime's
	// other threads.
	ThreadCPUS float64 `json:"thread_cpu_s,omitempty"`
	RTF        float64 `json:"rtf"` // audio seconds over CPUS
}

// mp3Check is what the frame walker found in an encoded file.
type mp3Check struct {
	File         string         `json:"file"`
	Bytes        int64          `json:"bytes"`
	Frames       int64          `json:"frames"`
	AudioS       float64        `json:"audio_s"`       // seconds of audio in its frames
	DiffS        float64        `json:"audio_diff_s"`  // AudioS − the input's seconds
	SyncLosses   int64          `json:"sync_losses"`   // as listen's
	SkippedBytes int64          `json:"skipped_bytes"` // before the first frame (an ID3 tag) or while resyncing
	Bitrates     map[string]int `json:"bitrates_kbps"` // frames per bitrate
	SampleRates  map[string]int `json:"sample_rates"`  // frames per sample rate
	Channels     map[string]int `json:"channels"`      // frames per channel count
	Valid        bool           `json:"valid"`         // see checkMP3
	Why          string         `json:"why,omitempty"` // why not valid
}

// encodeReport is the encode mode's JSON line.
type encodeReport struct {
	Mode    string `json:"mode"`    // "encode"
	Encoder string `json:"encoder"` // "synthcast" or "command"
	// Cmd is the command run (command encoder only), as given.
	Cmd     []string   `json:"cmd,omitempty"`
	Build   string     `json:"build"`    // the Go build tags of this binary's render package ("" or "purego")
	In      string     `json:"in"`       // the PCM file
	InBytes int64      `json:"in_bytes"` // its size
	AudioS  float64    `json:"audio_s"`  // its length: bytes / (rate · channels · 2)
	Format  string     `json:"format"`   // e.g. "s16le 44100 Hz 2 ch → 128 kbit/s"
	Repeats int        `json:"repeats"`
	Runs    []cpuTimes `json:"runs"`
	// CPU and RTF: min, p50 (nearest rank) and max over the runs. RTF is
	// the real-time factor per core: seconds of audio encoded per CPU-second
	// (user + system) of the encoding process.
	CPU spread `json:"cpu_s"`
	RTF spread `json:"rtf"`
	// Out is the check of the encoded file (-out), see checkMP3.
	Out *mp3Check `json:"out,omitempty"`
}

type encodeConfig struct {
	in       string
	out      string
	rate     int
	channels int
	bitrate  int
	repeats  int
	timeout  time.Duration
	json     bool
	cmd      []string // after "--": an external encoder
}

func parseEncode(args []string, stderr io.Writer) (encodeConfig, error) {
	var c encodeConfig
	if i := slices.Index(args, "--"); i >= 0 {
		args, c.cmd = args[:i], args[i+1:]
		if len(c.cmd) == 0 {
			return c, fmt.Errorf("%w: no command after --", errUsage)
		}
	}
	fs := newFlagSet("encode", stderr)
	fs.StringVar(&c.in, "in", "", "raw s16le PCM `file` to encode (required; `bench pcm` writes one)")
	fs.StringVar(&c.out, "out", "", "the encoded `file`, checked frame by frame: the in-process encoder writes its first run there; a command must write it itself")
	fs.IntVar(&c.rate, "rate", pcmRate, "the input's sample rate in Hz")
	fs.IntVar(&c.channels, "channels", pcmChannels, "the input's channels")
	fs.IntVar(&c.bitrate, "bitrate", 128, "kbit/s to encode at (the in-process encoder) and to expect in -out")
	fs.IntVar(&c.repeats, "repeats", 3, "runs measured")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "bound of the whole run (at most 1h)")
	fs.BoolVar(&c.json, "json", false, "print only the final JSON line")
	if err := parseFlags(fs, args); err != nil {
		return c, err
	}
	switch {
	case c.in == "":
		return c, fmt.Errorf("%w: -in is required", errUsage)
	case c.repeats < 1 || c.repeats > maxEncodeRepeats:
		return c, fmt.Errorf("%w: -repeats must be in [1, %d]", errUsage, maxEncodeRepeats)
	case c.timeout <= 0 || c.timeout > maxEncodeTimeout:
		return c, fmt.Errorf("%w: -timeout must be in (0, %v]", errUsage, maxEncodeTimeout)
	}
	if err := render.CheckFormat(c.rate, c.channels, c.bitrate); err != nil {
		return c, fmt.Errorf("%w: %w", errUsage, err)
	}
	return c, nil
}

// runEncode measures one MP3 encoder's CPU over a PCM file: synthcast's
// (render.Encoder, in this process, on one locked thread), or, after "--",
// an external command run -repeats times, whose CPU is its rusage from
// wait4.
func runEncode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseEncode(args, stderr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	st, err := os.Stat(c.in)
	if err != nil {
		return err
	}
	r := encodeReport{Mode: "encode", Build: buildTags(), In: c.in, InBytes: st.Size(),
		AudioS: pcmSeconds(st.Size(), c.rate, c.channels), Repeats: c.repeats,
		Format: fmt.Sprintf("s16le %d Hz %d ch → %d kbit/s", c.rate, c.channels, c.bitrate)}
	if c.cmd != nil {
		r.Encoder, r.Cmd = "command", c.cmd
		err = encodeCommand(ctx, c, &r)
	} else {
		r.Encoder = "synthcast"
		err = encodeInProcess(ctx, c, &r)
	}
	if err != nil {
		return err
	}
	var cpu, rtf []float64
	for i := range r.Runs {
		t := &r.Runs[i]
		t.RTF = round3(rtfOf(r.AudioS, t.CPUS))
		t.UserS, t.SysS, t.CPUS, t.WallS, t.ThreadCPUS = round6(t.UserS), round6(t.SysS), round6(t.CPUS), round6(t.WallS), round6(t.ThreadCPUS)
		cpu, rtf = append(cpu, t.CPUS), append(rtf, t.RTF)
	}
	r.CPU, r.RTF = spreadOf(cpu), spreadOf(rtf)
	if c.out != "" {
		chk, err := checkMP3File(c.out, r.AudioS, c.rate, c.channels, c.bitrate)
		if err != nil {
			return err
		}
		r.Out = &chk
	}
	if !c.json {
		fmt.Fprintf(stderr, "encode: %s%s: %.1f s of audio, %d runs: CPU s %.3f / %.3f / %.3f, RTF per core %.1f / %.1f / %.1f (min / p50 / max)\n",
			r.Encoder, tagSuffix(r.Build), r.AudioS, len(r.Runs), r.CPU.Min, r.CPU.P50, r.CPU.Max, r.RTF.Min, r.RTF.P50, r.RTF.Max)
		if r.Out != nil {
			fmt.Fprintf(stderr, "encode: %s: %d frames, %.3f s of audio (%+.3f s), %d sync losses, valid %v %s\n",
				r.Out.File, r.Out.Frames, r.Out.AudioS, r.Out.DiffS, r.Out.SyncLosses, r.Out.Valid, r.Out.Why)
		}
	}
	return writeJSON(stdout, r)
}

func tagSuffix(tags string) string {
	if tags == "" {
		return ""
	}
	return " (-tags " + tags + ")"
}

// pcmSeconds is the length of n bytes of s16le PCM.
func pcmSeconds(n int64, rate, channels int) float64 {
	return float64(n) / float64(2*rate*channels)
}

// rtfOf is the real-time factor per core: audio seconds per CPU-second, or
// 0 when no CPU time was measured (a run too short for the clock).
func rtfOf(audioS, cpuS float64) float64 {
	if cpuS <= 0 {
		return 0
	}
	return audioS / cpuS
}

// timeval seconds.
func tvSeconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

// cpuDelta is the CPU between two rusage readings.
func cpuDelta(a, b *syscall.Rusage) (user, sys float64) {
	return tvSeconds(b.Utime) - tvSeconds(a.Utime), tvSeconds(b.Stime) - tvSeconds(a.Stime)
}

// encodeInProcess encodes c.in with render.Encoder c.repeats times on one
// locked OS thread, each run with a new Encoder, and times each with
// getrusage: the process (RUSAGE_SELF) and the thread. The input is read
// into memory and the output buffer touched before the first run, so no run
// pays for page faults the others do not; the first run's frames go to
// c.out.
func encodeInProcess(ctx context.Context, c encodeConfig, r *encodeReport) error {
	if r.InBytes > maxEncodeInput {
		return fmt.Errorf("encode: %s: %d bytes, more than the %d this mode reads into memory", c.in, r.InBytes, maxEncodeInput)
	}
	pcm, err := readPCM(c.in)
	if err != nil {
		return err
	}
	e, err := render.NewEncoder(c.rate, c.channels, c.bitrate) // for its frame size
	if err != nil {
		return err
	}
	frames := len(pcm)/c.channels/e.FrameSamples() + 1
	dst := make([]byte, frames*render.MaxFrameLen)
	clear(dst) // faults its pages in now, not during a run
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for i := range c.repeats {
		if err := ctx.Err(); err != nil {
			return err
		}
		runtime.GC() // none during the run: the encoder allocates nothing per frame
		out, t, err := encodePCM(dst[:0], pcm, c.rate, c.channels, c.bitrate)
		if err != nil {
			return err
		}
		r.Runs = append(r.Runs, t)
		if i == 0 && c.out != "" {
			if err := os.WriteFile(c.out, out, 0o644); err != nil {
				return err
			}
		}
	}
	return nil
}

// readPCM reads a file of interleaved s16le samples.
func readPCM(name string) ([]int16, error) {
	raw, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	pcm := make([]int16, len(raw)/2)
	for i := range pcm {
		pcm[i] = int16(binary.LittleEndian.Uint16(raw[2*i:]))
	}
	return pcm, nil
}

// encodePCM encodes interleaved pcm with a new render.Encoder, the last
// frame padded with silence, appends the stream to dst and returns it with
// the CPU it took (the Encoder's creation included). dst grows if it has
// less room than the stream needs. Call it on a locked thread.
func encodePCM(dst []byte, pcm []int16, rate, channels, bitrate int) ([]byte, cpuTimes, error) {
	var self0, self1, th0, th1 syscall.Rusage
	t0 := time.Now()
	if err := errors.Join(syscall.Getrusage(syscall.RUSAGE_SELF, &self0), syscall.Getrusage(rusageThread, &th0)); err != nil {
		return nil, cpuTimes{}, fmt.Errorf("getrusage: %w", err)
	}
	e, err := render.NewEncoder(rate, channels, bitrate)
	if err != nil {
		return nil, cpuTimes{}, err
	}
	block := e.FrameSamples() * channels
	frames := (len(pcm) + block - 1) / block
	last := make([]int16, block)
	out := dst
	for k := 0; k < frames; k++ {
		b := pcm[k*block : min((k+1)*block, len(pcm))]
		if len(b) < block {
			b = last[:copy(last, b)]
			b = b[:block]
		}
		if out, err = e.EncodeFrame(out, b); err != nil {
			return nil, cpuTimes{}, fmt.Errorf("encode: frame %d: %w", k, err)
		}
	}
	if err := errors.Join(syscall.Getrusage(syscall.RUSAGE_SELF, &self1), syscall.Getrusage(rusageThread, &th1)); err != nil {
		return nil, cpuTimes{}, fmt.Errorf("getrusage: %w", err)
	}
	wall := time.Since(t0).Seconds()
	u, s := cpuDelta(&self0, &self1)
	tu, ts := cpuDelta(&th0, &th1)
	return out, cpuTimes{UserS: u, SysS: s, CPUS: u + s, WallS: wall, ThreadCPUS: tu + ts}, nil
}

// encodeCommand runs c.cmd c.repeats times, each to its end, stdin from
// /dev/null and its output kept for an error message, and takes each run's
// CPU from the rusage wait4 returns (the command and the children it waited
// for). A run that fails stops the mode.
func encodeCommand(ctx context.Context, c encodeConfig, r *encodeReport) error {
	for range c.repeats {
		var log strings.Builder
		cmd := exec.CommandContext(ctx, c.cmd[0], c.cmd[1:]...)
		cmd.Stdout, cmd.Stderr = &log, &log
		cmd.WaitDelay = 5 * time.Second
		t0 := time.Now()
		err := cmd.Run()
		wall := time.Since(t0).Seconds()
		if err != nil {
			return fmt.Errorf("encode: %s: %w: %s", c.cmd[0], err, tail(log.String(), 600))
		}
		ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if !ok {
			return errors.New("encode: no rusage for the command")
		}
		u, s := tvSeconds(ru.Utime), tvSeconds(ru.Stime)
		r.Runs = append(r.Runs, cpuTimes{UserS: u, SysS: s, CPUS: u + s, WallS: wall})
	}
	return nil
}

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// checkMP3File walks the frames of the MP3 file name (see checkMP3).
func checkMP3File(name string, inAudioS float64, rate, channels, bitrate int) (mp3Check, error) {
	f, err := os.Open(name)
	if err != nil {
		return mp3Check{}, err
	}
	defer f.Close()
	c, err := checkMP3(f, inAudioS, rate, channels, bitrate)
	c.File = name
	return c, err
}

// checkMP3 walks the frames read from rd as listen does (frameWalker: an ID3
// tag or other bytes before the first frame are skipped, not a loss) and
// judges the stream against the input it was encoded from: valid when it
// has frames, no sync loss, every frame of the given sample rate, channels
// and bitrate, and between inAudioS and inAudioS + encodeSlackS of audio.
func checkMP3(rd io.Reader, inAudioS float64, rate, channels, bitrate int) (mp3Check, error) {
	c := mp3Check{Bitrates: map[string]int{}, SampleRates: map[string]int{}, Channels: map[string]int{}}
	w := frameWalker{hook: func(h render.FrameHeader, _ []byte, _ float64) {
		c.Bitrates[fmt.Sprint(h.Bitrate)]++
		c.SampleRates[fmt.Sprint(h.SampleRate)]++
		c.Channels[fmt.Sprint(h.Channels)]++
	}}
	buf := make([]byte, 1<<16)
	for {
		n, err := rd.Read(buf)
		w.Write(buf[:n])
		c.Bytes += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return c, err
		}
	}
	c.Frames, c.SyncLosses, c.SkippedBytes, c.AudioS = w.frames, w.syncLosses, w.skipped, w.audio
	c.DiffS = c.AudioS - inAudioS
	c.Why = judgeMP3(&c, rate, channels, bitrate)
	c.Valid = c.Why == ""
	c.AudioS, c.DiffS = round6(c.AudioS), round6(c.DiffS)
	return c, nil
}

// judgeMP3 returns why c is not a valid encoding of its input, or "".
func judgeMP3(c *mp3Check, rate, channels, bitrate int) string {
	const tol = 1e-9
	only := func(m map[string]int, want int) bool { return len(m) == 1 && m[fmt.Sprint(want)] > 0 }
	switch {
	case c.Frames == 0:
		return "no frame"
	case c.SyncLosses > 0:
		return "sync lost"
	case !only(c.SampleRates, rate):
		return fmt.Sprintf("sample rates %v, want %d", c.SampleRates, rate)
	case !only(c.Channels, channels):
		return fmt.Sprintf("channels %v, want %d", c.Channels, channels)
	case !only(c.Bitrates, bitrate):
		return fmt.Sprintf("bitrates %v, want %d", c.Bitrates, bitrate)
	case c.DiffS < -tol || c.DiffS > encodeSlackS+tol:
		return fmt.Sprintf("%.3f s of audio for %.3f s of input", c.AudioS, c.AudioS-c.DiffS)
	}
	return ""
}

// round6 rounds to 6 decimals (a microsecond) for readable JSON.
func round6(v float64) float64 { return math.Round(v*1e6) / 1e6 }
