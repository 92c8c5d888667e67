package render

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"

	"github.com/braheezy/shine-mp3/pkg/mp3"
)

// Encoder errors.
var (
	// ErrFormat: NewEncoder or CheckFormat was given a sample rate, channel
	// count or bitrate the encoder does not support. The returned error wraps
	// it and says which value and what is allowed.
	ErrFormat = errors.New("render: unsupported MP3 format")

	// ErrFrameSize: EncodeFrame was given a PCM block that is not exactly one
	// frame. The Encoder is unaffected.
	ErrFrameSize = errors.New("render: PCM block is not exactly one MP3 frame")

	// ErrEncoder: the underlying encoder produced output that is not one
	// well-formed frame of the expected length. This is a bug (or a changed
	// dependency), never the caller's fault; the Encoder then fails every
	// later call and must be replaced.
	ErrEncoder = errors.New("render: MP3 encoder produced a malformed frame")
)

// MaxFrameLen is the length in bytes of the longest frame EncodeFrame
// appends for any supported format: 320 kbit/s stereo at 32 kHz, padded
// (144·320000/32000 + 1). A dst with this much spare capacity never grows.
const MaxFrameLen = 1441

// DecodedLevel is the level at which Encoder's output decodes relative to
// its input: 1, full scale in, full scale out.
//
// Upstream shine sums its fixed-point filterbank and MDCT in 32 bits, which
// wrap around (a loud crack, not clipping) on strong input: a full-scale
// sine overflows above 0.67 of full scale, the worst possible input
// (testdata/shine_worst_case.txt, a windowed square near 7.35 kHz) above
// 0.546. So EncodeFrame used to halve its input, and audio decoded at 9/16
// of its level (−5 dB, with the filterbank's gain of 9/8). The patched front
// end (render/shine-mp3's README, patch 5) computes in float32, leaves
// headroom in the spectrum that the global gain gives back, and cancels the
// filterbank's gain: TestEncoderFullScale decodes a 0 dBFS sine and the
// worst case with ffmpeg.
const DecodedLevel = 1.0

// maxGranuleBits is the most main-data bits one granule of one channel can
// hold: the side information's part2_3_length field is 12 bits.
const maxGranuleBits = 1<<12 - 1

// mpegFormat is a supported output format, worked out from the MPEG tables.
type mpegFormat struct {
	version  int // 1 or 2
	brIndex  int // bitrate index in the frame header
	samples  int // per channel per frame
	granules int // 2 for MPEG-1, 1 for MPEG-2
	whole    int // bytes in an unpadded frame
	rem      int // remainder of the frame length's division: padding is needed iff rem != 0
}

// sideInfoBytes[version-1][channels-1] is the header plus side information
// before a frame's main data.
var sideInfoBytes = [2][2]int{{4 + 17, 4 + 32}, {4 + 9, 4 + 17}}

// lookupFormat validates a format and returns its MPEG parameters, or an
// error wrapping ErrFormat.
func lookupFormat(sampleRate, channels, bitrate int) (mpegFormat, error) {
	var version int
	switch sampleRate {
	case 32000, 44100, 48000:
		version = 1
	case 16000, 22050, 24000:
		version = 2
	default:
		return mpegFormat{}, fmt.Errorf("%w: sample rate %d Hz (want 16000, 22050, 24000, 32000, 44100 or 48000)", ErrFormat, sampleRate)
	}
	if channels != 1 && channels != 2 {
		return mpegFormat{}, fmt.Errorf("%w: %d channels (want 1 or 2)", ErrFormat, channels)
	}
	table := mpegBitrates[version-1][1:15]
	index := 0
	for i, br := range table {
		if br == bitrate {
			index = i + 1
		}
	}
	if index == 0 {
		return mpegFormat{}, fmt.Errorf("%w: %d kbit/s at %d Hz (want one of %s)", ErrFormat, bitrate, sampleRate, joinInts(table))
	}
	f := frameGeometry(version, sampleRate, bitrate)
	f.brIndex = index
	if !f.fits(channels) {
		// The encoder caps each granule at maxGranuleBits and has no way to
		// pad the rest of a frame, so its frames come out short and the
		// stream loses sync (TestShineOverfullFrames shows it).
		top := 0
		for _, br := range table {
			if g := frameGeometry(version, sampleRate, br); g.fits(channels) {
				top = br
			}
		}
		return mpegFormat{}, fmt.Errorf("%w: %d kbit/s is too high for %d channel(s) at %d Hz (the encoder fills frames up to %d kbit/s)",
			ErrFormat, bitrate, channels, sampleRate, top)
	}
	return f, nil
}

// frameGeometry returns the frame layout of an MPEG version, sample rate and
// bitrate, without the bitrate index.
func frameGeometry(version, sampleRate, bitrate int) mpegFormat {
	f := mpegFormat{version: version, samples: 1152, granules: 2}
	if version == 2 {
		f.samples, f.granules = 576, 1
	}
	n := f.samples / 8 * bitrate * 1000 // frame length × sample rate
	f.whole, f.rem = n/sampleRate, n%sampleRate
	return f
}

// fits reports whether a padded frame's main data fits in its granules.
func (f *mpegFormat) fits(channels int) bool {
	longest := f.whole
	if f.rem != 0 {
		longest++
	}
	main := (longest - sideInfoBytes[f.version-1][channels-1]) * 8
	return main <= f.granules*channels*maxGranuleBits
}

// CheckFormat reports whether NewEncoder accepts the format: nil, or an
// error wrapping ErrFormat that names the offending value and the allowed
// ones. Supported are 16000, 22050 and 24000 Hz (MPEG-2 Layer III, 8 to 160
// kbit/s) and 32000, 44100 and 48000 Hz (MPEG-1 Layer III, 32 to 320
// kbit/s), mono or stereo, except the mono bitrates whose frames the
// encoder cannot fill: above 224 kbit/s at 32 kHz, above 256 kbit/s at
// 44.1 kHz and above 112 kbit/s at 16 kHz.
func CheckFormat(sampleRate, channels, bitrateKbps int) error {
	_, err := lookupFormat(sampleRate, channels, bitrateKbps)
	return err
}

// Encoder encodes interleaved 16-bit PCM into a constant-bitrate MP3 stream
// one frame at a time. Frames carry no bit reservoir (main_data_begin is
// always 0), so every frame decodes on its own and any frame boundary is a
// valid place for a listener to start.
//
// The output decodes at the input's level (DecodedLevel); no input,
// however loud, wraps around inside the encoder.
//
// An Encoder holds about 22 KiB (nearly all of it shine's state, most of
// that the filterbank's history) and takes about 0.1 ms to create; it
// allocates nothing per frame. While a frame encodes it borrows another
// 18 KiB of working memory, shared through a pool by all Encoders.
// It is not safe for concurrent use; distinct Encoders are independent.
type Encoder struct {
	shine      *mp3.Encoder
	sampleRate int
	channels   int
	bitrate    int
	samples    int // per channel per frame
	maxFrame   int // bytes in a padded frame

	sink byteSink // collects what shine writes for one frame

	// The encoder's bit writer flushes 32-bit words, so the last 0 to 3
	// bytes of a frame stay in its cache until the next frame pushes them
	// out. EncodeFrame reads them from there (cache, cacheBits: read-only
	// reflect views of its unexported fields), appends them to the frame,
	// and drops them from the head of the next frame's output.
	cache     reflect.Value
	cacheBits reflect.Value
	carry     [4]byte
	ncarry    int

	err error // sticky ErrEncoder
}

// NewEncoder returns an Encoder for the given format, or an error wrapping
// ErrFormat if CheckFormat rejects it.
func NewEncoder(sampleRate, channels, bitrateKbps int) (*Encoder, error) {
	f, err := lookupFormat(sampleRate, channels, bitrateKbps)
	if err != nil {
		return nil, err
	}
	s, err := newShine(f, sampleRate, channels, bitrateKbps)
	if err != nil {
		return nil, err
	}
	maxFrame := f.whole + btoi(f.rem != 0)
	e := &Encoder{
		shine:      s,
		sampleRate: sampleRate,
		channels:   channels,
		bitrate:    bitrateKbps,
		samples:    f.samples,
		maxFrame:   maxFrame,
		// A frame, and the up to 3 bytes of the one before that the bit
		// writer held back (see cache).
		sink: byteSink{b: make([]byte, 0, maxFrame+4)},
	}
	bs := reflect.ValueOf(s).Elem().FieldByName("bitstream")
	if bs.Kind() == reflect.Struct {
		e.cache, e.cacheBits = bs.FieldByName("cache"), bs.FieldByName("cacheBits")
	}
	if e.cache.Kind() != reflect.Uint32 || e.cacheBits.Kind() != reflect.Int {
		return nil, fmt.Errorf("%w: cannot find the encoder's bit cache (changed dependency?)", ErrEncoder)
	}
	return e, nil
}

// newShine returns a shine encoder set up for the format f of the given
// sample rate, channels and bitrate.
func newShine(f mpegFormat, sampleRate, channels, bitrate int) (*mp3.Encoder, error) {
	s := mp3.NewEncoder(sampleRate, channels)
	// NewEncoder fixes 128 kbit/s; set the bitrate and redo the slot
	// arithmetic it derives from it, exactly (in integers) rather than in
	// its floating point, so an exact rate never pads.
	m := &s.Mpeg
	m.Bitrate = int64(bitrate)
	m.BitrateIndex = int64(f.brIndex)
	m.WholeSlotsPerFrame = int64(f.whole)
	m.FracSlotsPerFrame = float64(f.rem) / float64(sampleRate)
	m.Slot_lag = -m.FracSlotsPerFrame
	m.Padding = 0
	if int(m.GranulesPerFrame) != f.granules || int(m.SampleRateIndex)%3 != sampleRateIndex(f.version, sampleRate) {
		return nil, fmt.Errorf("%w: unexpected encoder configuration for %d Hz", ErrEncoder, sampleRate)
	}
	return s, nil
}

func sampleRateIndex(version, sampleRate int) int {
	for i, sr := range mpegSampleRates[version-1] {
		if sr == sampleRate {
			return i
		}
	}
	return -1
}

// FrameSamples returns the samples per channel in one frame: 1152 at 32 kHz
// and up, 576 below. EncodeFrame takes FrameSamples()·Channels() samples.
func (e *Encoder) FrameSamples() int { return e.samples }

// MaxFrameBytes returns the length in bytes of this format's longest
// frame (a padded one): n frames from EncodeFrame never need more than n
// times this.
func (e *Encoder) MaxFrameBytes() int { return e.maxFrame }

// SampleRate returns the sample rate in Hz.
func (e *Encoder) SampleRate() int { return e.sampleRate }

// Channels returns the channel count, 1 or 2.
func (e *Encoder) Channels() int { return e.channels }

// Bitrate returns the bitrate in kbit/s.
func (e *Encoder) Bitrate() int { return e.bitrate }

// EncodeFrame encodes pcm, exactly FrameSamples()·Channels() interleaved
// samples (left first), and appends the resulting frame, header included,
// to dst. The frame's length is that of its header (see ParseFrameHeader):
// the stream's average is exactly the bitrate. dst is the caller's; it is
// grown only if it has less than MaxFrameLen spare capacity, and neither it
// nor pcm is retained.
//
// A pcm of any other length returns dst unchanged and an error wrapping
// ErrFrameSize; nothing is read from it. An error wrapping ErrEncoder also
// returns dst unchanged, and the Encoder is then unusable.
func (e *Encoder) EncodeFrame(dst []byte, pcm []int16) ([]byte, error) {
	if e.err != nil {
		return dst, e.err
	}
	if want := e.samples * e.channels; len(pcm) != want {
		return dst, fmt.Errorf("%w: got %d samples, want %d (%d per channel × %d)",
			ErrFrameSize, len(pcm), want, e.samples, e.channels)
	}
	// shine reads the frame through the slice and keeps nothing of it.
	e.sink.b = e.sink.b[:0]
	if err := e.shine.Write(&e.sink, pcm); err != nil {
		return dst, e.fail("write failed")
	}
	out := e.sink.b
	if len(out) < e.ncarry || !bytes.Equal(out[:e.ncarry], e.carry[:e.ncarry]) {
		return dst, e.fail("previous frame's tail missing")
	}
	out = out[e.ncarry:]
	pending := 32 - int(e.cacheBits.Int())
	if pending < 0 || pending >= 32 || pending%8 != 0 {
		return dst, e.fail("frame does not end on a byte")
	}
	e.ncarry = pending / 8
	c := uint32(e.cache.Uint())
	for i := range e.ncarry {
		e.carry[i] = byte(c >> (24 - 8*i))
	}
	n := len(out) + e.ncarry
	if n != int(e.shine.Mpeg.WholeSlotsPerFrame+e.shine.Mpeg.Padding) {
		return dst, e.fail("frame length differs from its slot count")
	}
	start := len(dst)
	dst = append(dst, out...)
	dst = append(dst, e.carry[:e.ncarry]...)
	h, err := ParseFrameHeader(dst[start:])
	if err != nil || h.Length != n || h.Bitrate != e.bitrate || h.SampleRate != e.sampleRate || h.Channels != e.channels {
		return dst[:start], e.fail("frame header does not match the format")
	}
	return dst, nil
}

func (e *Encoder) fail(why string) error {
	e.err = fmt.Errorf("%w: %s", ErrEncoder, why)
	return e.err
}

// byteSink is the io.Writer handed to shine: it appends to a buffer we own.
type byteSink struct{ b []byte }

func (s *byteSink) Write(p []byte) (int, error) {
	s.b = append(s.b, p...)
	return len(p), nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
