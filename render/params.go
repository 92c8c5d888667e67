package render

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
)

// Mode selects what the synthesiser plays.
type Mode uint8

const (
	ModeTone   Mode = iota // a steady Freq of Wave
	ModeMelody             // generative notes of Scale/Root at Tempo
)

// Wave is an oscillator shape.
type Wave uint8

const (
	WaveSine Wave = iota
	WaveSquare
	WaveSaw
	WaveTriangle
	WaveNoise
)

// Scale is a musical scale used by ModeMelody.
type Scale uint8

const (
	ScaleMajor Scale = iota
	ScaleMinor
	ScalePentatonic
	ScaleBlues
	ScaleDorian
	ScaleChromatic
)

// The words the "mode", "wave" and "scale" keys accept, indexed by value.
var (
	modeNames  = []string{"tone", "melody"}
	waveNames  = []string{"sine", "square", "saw", "triangle", "noise"}
	scaleNames = []string{"major", "minor", "pentatonic", "blues", "dorian", "chromatic"}
)

// String returns the word the "mode" key accepts for m, or "Mode(n)" if m is out of range.
func (m Mode) String() string { return enumString(modeNames, "Mode", uint8(m)) }

// String returns the word the "wave" key accepts for w, or "Wave(n)" if w is out of range.
func (w Wave) String() string { return enumString(waveNames, "Wave", uint8(w)) }

// String returns the word the "scale" key accepts for s, or "Scale(n)" if s is out of range.
func (s Scale) String() string { return enumString(scaleNames, "Scale", uint8(s)) }

func enumString(names []string, typ string, v uint8) string {
	if int(v) < len(names) {
		return names[v]
	}
	return typ + "(" + strconv.Itoa(int(v)) + ")"
}

// Params is one immutable snapshot of a stream's rendering settings.
// A Params value is never modified after it is published; a change builds a new value.
//
// A valid Params comes from Defaults, With, Live or ParseBinary; Validate
// reports whether a Params built any other way holds only legal values.
// Params values are comparable with ==.
type Params struct {
	Mode   Mode
	Freq   float64 // Hz, tone frequency (ModeTone)
	Wave   Wave
	Gain   float64 // 0..1 linear
	Tempo  float64 // beats per minute (ModeMelody)
	Scale  Scale
	Root   int     // MIDI note number of the scale's root (ModeMelody)
	Seed   uint64  // seeds every random choice (melody, noise)
	Cutoff float64 // Hz, low-pass cutoff
	Pan    float64 // -1 (left) .. +1 (right)

	// Output format: fixed when the stream is created (KeySpec.CreateOnly).
	SampleRate int // Hz
	Channels   int // 1 or 2
	Bitrate    int // kbit/s

	// Anchor places the melody on the stream's timeline. It is not a key:
	// see the type's doc, Retimed and Live.ApplyAt.
	Anchor Anchor
}

// Defaults returns the settings of a stream created without parameters:
// a 440 Hz sine at gain 0.75, centred, unfiltered, 44100 Hz stereo at 128 kbit/s.
// In ModeMelody the defaults play the pentatonic scale on C4 at 120 bpm.
func Defaults() Params {
	return Params{
		Mode:       ModeTone,
		Freq:       440,
		Wave:       WaveSine,
		Gain:       0.75,
		Tempo:      120,
		Scale:      ScalePentatonic,
		Root:       60,
		Seed:       1,
		Cutoff:     20000,
		Pan:        0,
		SampleRate: 44100,
		Channels:   2,
		Bitrate:    128,
	}
}

// Limits on user-supplied bytes.
const (
	// MaxValueLen is the longest value any key accepts, in bytes. The longest
	// value AppendJSON writes is a 24-byte float such as
	// -2.2250738585072014e-308; 64 leaves room for a written-out decimal or
	// leading zeros and bounds the work spent on a hostile value.
	MaxValueLen = 64

	// MaxErrorKeyLen is the most bytes of an unknown key a ParamError keeps,
	// so an error (and a log line or response built from it) stays short
	// whatever a client sends.
	MaxErrorKeyLen = 64
)

// Sentinel errors; test with errors.Is. Every error With, Validate and
// Live.Apply return is a *ParamError wrapping one of the first three, all the
// client's fault (HTTP 400 at the server). ParseBinary's errors wrap
// ErrBadEncoding: stored bytes that are not a Params, the server's fault or
// its store's (HTTP 500).
var (
	ErrUnknownKey   = errors.New("render: unknown key")
	ErrInvalidValue = errors.New("render: invalid value")
	ErrCreateOnly   = errors.New("render: key can only be set when the stream is created")
	ErrBadEncoding  = errors.New("render: bad binary Params")
)

// ParamError describes a rejected key or value. It never contains the
// rejected value itself.
type ParamError struct {
	// Key is the table name of the key, or for ErrUnknownKey at most
	// MaxErrorKeyLen bytes of the key sent, with every byte that is not
	// printable ASCII, and every '"' and '\\', replaced by '?'.
	Key string
	// Allowed says in words what the key accepts, e.g. "a number in [20, 20000] Hz";
	// for ErrUnknownKey it lists the known keys.
	Allowed string
	// Err is ErrUnknownKey, ErrInvalidValue or ErrCreateOnly.
	Err error
}

// Error reads like "render: freq: must be a number in [20, 20000] Hz".
// It is printable ASCII.
func (e *ParamError) Error() string {
	switch e.Err {
	case ErrUnknownKey:
		return "render: unknown key \"" + e.Key + "\": must be " + e.Allowed
	case ErrCreateOnly:
		return "render: " + e.Key + ": can only be set when the stream is created"
	}
	return "render: " + e.Key + ": must be " + e.Allowed
}

// Unwrap returns the sentinel, e.Err.
func (e *ParamError) Unwrap() error { return e.Err }

// Kind is the type of a key's value.
type Kind uint8

const (
	// KindFloat is a decimal number in [Min, Max]: digits with an optional
	// sign, point and exponent ("440", "-0.25", "2e4"); no NaN, infinity,
	// hex or underscores.
	KindFloat Kind = iota + 1
	// KindInt is a decimal integer from Choices (for bitrate, those legal at
	// the final samplerate: see BitratesFor).
	KindInt
	// KindEnum is one of the words in Choices, lower case, exactly.
	KindEnum
	// KindSeed is a decimal integer in [0, 2^64-1], no sign.
	KindSeed
	// KindNote is a MIDI note number in [Min, Max] = [0, 127] in decimal, or a
	// note name: a letter A-G (either case), an optional '#' or 'b', and an
	// octave -1..9, where C4 = 60 and A4 = 69 (scientific pitch notation).
	KindNote
)

var kindNames = []string{KindFloat: "float", KindInt: "int", KindEnum: "enum", KindSeed: "seed", KindNote: "note"}

// String returns "float", "int", "enum", "seed" or "note".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// KeySpec describes one key of the parameter table.
type KeySpec struct {
	Name    string   // the query key, e.g. "freq"
	Kind    Kind     // how the value is written
	Min     float64  // inclusive lower bound for KindFloat and KindNote; 0 otherwise
	Max     float64  // inclusive upper bound for KindFloat and KindNote; 0 otherwise
	Choices []string // KindEnum: the words; KindInt: the legal values in decimal; nil otherwise
	Default string   // the default value in the text form With accepts, e.g. "440", "sine"
	Unit    string   // e.g. "Hz", "bpm", "kbit/s"; "" if none
	Doc     string   // one line
	// CreateOnly keys set the output format: With accepts them only when
	// allowCreateOnly is true, and Live.Apply never does.
	CreateOnly bool
	// Allowed says in words what the key accepts; ParamError.Allowed holds it.
	Allowed string
}

// keyID names a row of the table. Field access goes through switch
// statements on it rather than stored closures, so the compiler can see that
// With and AppendJSON never let a *Params escape: they allocate nothing.
type keyID uint8

const (
	keyMode keyID = iota
	keyFreq
	keyWave
	keyGain
	keyTempo
	keyScale
	keyRoot
	keySeed
	keyCutoff
	keyPan
	keySampleRate
	keyChannels
	keyBitrate
)

// keyDef is one row of the table.
type keyDef struct {
	KeySpec
	id      keyID
	ints    []int  // KindInt: the legal values
	jsonKey string // `"name":`, as AppendJSON writes it
}

// The MPEG audio formats With accepts: sample rates in Hz, bitrates in kbit/s.
var (
	sampleRateSet   = []int{16000, 22050, 24000, 32000, 44100, 48000}
	mpeg1BitrateSet = []int{32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320}
	mpeg2BitrateSet = []int{8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160}
	allBitrateSet   = []int{8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 192, 224, 256, 320}

	mpeg1BitratesAllowed = "one of " + joinInts(mpeg1BitrateSet) + " kbit/s"
	mpeg2BitratesAllowed = "one of " + joinInts(mpeg2BitrateSet) + " kbit/s"
	// bitratesAt[i][ch-1] lists the bitrates legal at sampleRateSet[i] with
	// ch channels: the MPEG version's table less what the encoder cannot
	// fill (CheckFormat), and bitratesAllowedAt the matching error text.
	bitratesAt, bitratesAllowedAt = func() (sets [][2][]int, texts [][2]string) {
		sets = make([][2][]int, len(sampleRateSet))
		texts = make([][2]string, len(sampleRateSet))
		for i, sr := range sampleRateSet {
			table := mpeg2BitrateSet
			if sr >= 32000 {
				table = mpeg1BitrateSet
			}
			for ch := 1; ch <= 2; ch++ {
				for _, br := range table {
					if CheckFormat(sr, ch, br) == nil {
						sets[i][ch-1] = append(sets[i][ch-1], br)
					}
				}
				texts[i][ch-1] = "one of " + joinInts(sets[i][ch-1]) + " kbit/s at samplerate " + strconv.Itoa(sr) + " with " + strconv.Itoa(ch) + " channel(s)"
			}
		}
		return sets, texts
	}()
)

// keyTable is the parameter table, in the order Keys and AppendJSON use.
// Allowed texts left empty here, Choices of int keys, every Default and
// jsonKey are filled in by init.
var keyTable = []keyDef{
	{id: keyMode, KeySpec: KeySpec{Name: "mode", Kind: KindEnum, Choices: modeNames,
		Doc: "what to play: a steady tone of freq and wave, or a generated melody of scale and root at tempo"}},
	{id: keyFreq, KeySpec: KeySpec{Name: "freq", Kind: KindFloat, Min: 20, Max: 20000, Unit: "Hz",
		Doc: "tone frequency (mode=tone)"}},
	{id: keyWave, KeySpec: KeySpec{Name: "wave", Kind: KindEnum, Choices: waveNames,
		Doc: "oscillator shape; noise ignores freq"}},
	{id: keyGain, KeySpec: KeySpec{Name: "gain", Kind: KindFloat, Min: 0, Max: 1,
		Doc: "output level, linear; 1 is full scale"}},
	{id: keyTempo, KeySpec: KeySpec{Name: "tempo", Kind: KindFloat, Min: 20, Max: 300, Unit: "bpm",
		Doc: "melody speed in beats per minute (mode=melody)"}},
	{id: keyScale, KeySpec: KeySpec{Name: "scale", Kind: KindEnum, Choices: scaleNames,
		Doc: "the scale the melody draws its notes from (mode=melody)"}},
	{id: keyRoot, KeySpec: KeySpec{Name: "root", Kind: KindNote, Min: 0, Max: 127,
		Doc:     "root note of the scale (mode=melody), as a MIDI number or a note name; C4 = 60; JSON shows the MIDI number",
		Allowed: "a MIDI note number in [0, 127] or a note name from C-1 to G9 such as C4, A#3 or Bb2"}},
	{id: keySeed, KeySpec: KeySpec{Name: "seed", Kind: KindSeed,
		Doc:     "seeds every random choice (melody notes, noise): the same seed gives the same audio",
		Allowed: "a decimal integer in [0, 18446744073709551615]"}},
	{id: keyCutoff, KeySpec: KeySpec{Name: "cutoff", Kind: KindFloat, Min: 20, Max: 20000, Unit: "Hz",
		Doc: "low-pass filter cutoff; 20000 leaves the signal unfiltered"}},
	{id: keyPan, KeySpec: KeySpec{Name: "pan", Kind: KindFloat, Min: -1, Max: 1,
		Doc: "stereo position: -1 left, 0 centre, 1 right; ignored when channels=1"}},
	{id: keySampleRate, ints: sampleRateSet, KeySpec: KeySpec{Name: "samplerate", Kind: KindInt, Unit: "Hz", CreateOnly: true,
		Doc: "output sample rate; 32000 and up encode MPEG-1, below MPEG-2 (fixed at creation)"}},
	{id: keyChannels, ints: []int{1, 2}, KeySpec: KeySpec{Name: "channels", Kind: KindInt, CreateOnly: true,
		Doc: "1 for mono, 2 for stereo (fixed at creation)"}},
	{id: keyBitrate, ints: allBitrateSet, KeySpec: KeySpec{Name: "bitrate", Kind: KindInt, Unit: "kbit/s", CreateOnly: true,
		Doc: "MP3 bitrate; the legal set depends on samplerate (fixed at creation)",
		Allowed: mpeg1BitratesAllowed + " at samplerate 32000, 44100 or 48000, or " +
			mpeg2BitratesAllowed + " at samplerate 16000, 22050 or 24000"}},
}

// unknownKeyAllowed is the Allowed text of an ErrUnknownKey error.
var unknownKeyAllowed string

// init completes the table. Default texts come from Defaults, so the two
// cannot disagree.
func init() {
	def := Defaults()
	names := make([]string, len(keyTable))
	for i := range keyTable {
		d := &keyTable[i]
		names[i] = d.Name
		d.jsonKey = `"` + d.Name + `":`
		if d.Kind == KindInt {
			d.Choices = make([]string, len(d.ints))
			for j, n := range d.ints {
				d.Choices[j] = strconv.Itoa(n)
			}
		}
		if d.Allowed == "" {
			switch d.Kind {
			case KindFloat:
				d.Allowed = "a number in [" + formatFloat(d.Min) + ", " + formatFloat(d.Max) + "]"
			default:
				d.Allowed = "one of " + strings.Join(d.Choices, ", ")
			}
			if d.Unit != "" {
				d.Allowed += " " + d.Unit
			}
		}
		v := d.appendJSON(nil, &def)
		if d.Kind == KindEnum {
			v = v[1 : len(v)-1] // unquote the word
		}
		d.Default = string(v)
	}
	unknownKeyAllowed = "one of " + strings.Join(names, ", ")
}

// floatField returns the float64 field of key id.
func (p *Params) floatField(id keyID) *float64 {
	switch id {
	case keyFreq:
		return &p.Freq
	case keyGain:
		return &p.Gain
	case keyTempo:
		return &p.Tempo
	case keyCutoff:
		return &p.Cutoff
	case keyPan:
		return &p.Pan
	}
	panic("render: no float field for key " + strconv.Itoa(int(id))) // a bug in the table
}

// enumField returns the enum field of key id.
func (p *Params) enumField(id keyID) *uint8 {
	switch id {
	case keyMode:
		return (*uint8)(&p.Mode)
	case keyWave:
		return (*uint8)(&p.Wave)
	case keyScale:
		return (*uint8)(&p.Scale)
	}
	panic("render: no enum field for key " + strconv.Itoa(int(id))) // a bug in the table
}

// intField returns the int field of key id.
func (p *Params) intField(id keyID) *int {
	switch id {
	case keySampleRate:
		return &p.SampleRate
	case keyChannels:
		return &p.Channels
	case keyBitrate:
		return &p.Bitrate
	case keyRoot:
		return &p.Root
	}
	panic("render: no int field for key " + strconv.Itoa(int(id))) // a bug in the table
}

// set parses v into p's field for d and reports whether v is a legal value;
// if not, p is unchanged.
func (d *keyDef) set(p *Params, v []byte) bool {
	switch d.Kind {
	case KindFloat:
		f, ok := parseFloatValue(v)
		if !ok || !(f >= d.Min && f <= d.Max) {
			return false
		}
		*p.floatField(d.id) = f
	case KindEnum:
		i := indexWord(d.Choices, v)
		if i < 0 {
			return false
		}
		*p.enumField(d.id) = uint8(i)
	case KindInt:
		n, ok := parseSmallUint(v)
		if !ok || indexInt(d.ints, n) < 0 {
			return false
		}
		*p.intField(d.id) = n
	case KindSeed:
		n, ok := parseSeed(v)
		if !ok {
			return false
		}
		p.Seed = n
	case KindNote:
		n, ok := parseNote(v)
		if !ok {
			return false
		}
		*p.intField(d.id) = n
	default:
		return false
	}
	return true
}

// valid reports whether p's field for d holds a legal value. For bitrate
// that means legal at p.SampleRate.
func (d *keyDef) valid(p *Params) bool {
	switch d.Kind {
	case KindFloat:
		f := *p.floatField(d.id)
		return f >= d.Min && f <= d.Max // false for NaN
	case KindEnum:
		return int(*p.enumField(d.id)) < len(d.Choices)
	case KindInt:
		if d.id == keyBitrate {
			return indexInt(bitratesFor(p.SampleRate, p.Channels), p.Bitrate) >= 0
		}
		return indexInt(d.ints, *p.intField(d.id)) >= 0
	case KindSeed:
		return true
	case KindNote:
		n := float64(*p.intField(d.id))
		return n >= d.Min && n <= d.Max
	}
	return false
}

// allowedFor returns the Allowed text for an invalid field of p: for bitrate,
// the set legal at p.SampleRate.
func (d *keyDef) allowedFor(p *Params) string {
	if d.id == keyBitrate {
		if i := indexInt(sampleRateSet, p.SampleRate); i >= 0 && (p.Channels == 1 || p.Channels == 2) {
			return bitratesAllowedAt[i][p.Channels-1]
		}
	}
	return d.Allowed
}

// appendJSON appends p's field for d as a JSON value.
func (d *keyDef) appendJSON(dst []byte, p *Params) []byte {
	switch d.Kind {
	case KindFloat:
		return appendJSONFloat(dst, *p.floatField(d.id))
	case KindEnum:
		v := *p.enumField(d.id)
		if int(v) >= len(d.Choices) {
			return append(dst, "null"...)
		}
		dst = append(dst, '"')
		dst = append(dst, d.Choices[v]...)
		return append(dst, '"')
	case KindInt, KindNote:
		return strconv.AppendInt(dst, int64(*p.intField(d.id)), 10)
	case KindSeed:
		return strconv.AppendUint(dst, p.Seed, 10)
	}
	return append(dst, "null"...)
}

// Keys returns the parameter table in its fixed order (the order of
// AppendJSON). The result is a fresh copy the caller may keep and modify.
func Keys() []KeySpec {
	ks := make([]KeySpec, len(keyTable))
	for i := range keyTable {
		ks[i] = keyTable[i].KeySpec
		ks[i].Choices = append([]string(nil), keyTable[i].Choices...)
	}
	return ks
}

// lookupKey returns the table row for key, or nil.
func lookupKey(key []byte) *keyDef {
	for i := range keyTable {
		if string(key) == keyTable[i].Name {
			return &keyTable[i]
		}
	}
	return nil
}

// Pair is one key=value of a request, already percent-decoded.
// With reads Key and Value only during the call and keeps no reference to
// them, so they may be views into a buffer the caller reuses.
type Pair struct {
	Key, Value []byte
}

// With returns a copy of p (its Anchor unchanged) with pairs applied in
// order (a key given twice takes its last value), after checking each pair
// and then the whole result (Validate), so that bitrate is checked against
// the final samplerate. Keys marked CreateOnly are refused with
// ErrCreateOnly unless allowCreateOnly is true.
//
// All or nothing: on any error With returns p unchanged and a *ParamError for
// the first fault found. With does not retain pairs and allocates nothing
// unless it fails.
func (p Params) With(pairs []Pair, allowCreateOnly bool) (Params, error) {
	q := p
	for i := range pairs {
		d := lookupKey(pairs[i].Key)
		if d == nil {
			return p, &ParamError{Key: sanitizeKey(pairs[i].Key), Allowed: unknownKeyAllowed, Err: ErrUnknownKey}
		}
		if d.CreateOnly && !allowCreateOnly {
			return p, &ParamError{Key: d.Name, Allowed: d.Allowed, Err: ErrCreateOnly}
		}
		if !d.set(&q, pairs[i].Value) {
			return p, &ParamError{Key: d.Name, Allowed: d.Allowed, Err: ErrInvalidValue}
		}
	}
	if err := q.Validate(); err != nil {
		return p, err
	}
	return q, nil
}

// Validate reports whether every key's field of p holds a legal value,
// including a bitrate legal at p's sample rate. The error is a *ParamError
// wrapping ErrInvalidValue that names the first bad key in table order.
// The Anchor is not a key and not checked here (ParseBinary checks it).
func (p *Params) Validate() error {
	for i := range keyTable {
		d := &keyTable[i]
		if !d.valid(p) {
			return &ParamError{Key: d.Name, Allowed: d.allowedFor(p), Err: ErrInvalidValue}
		}
	}
	return nil
}

// AppendJSON appends p as one JSON object, every key in table order, and
// returns the extended buffer:
//
//	{"mode":"tone","freq":440,"wave":"sine","gain":0.75,"tempo":120,"scale":"pentatonic","root":60,"seed":1,"cutoff":20000,"pan":0,"samplerate":44100,"channels":2,"bitrate":128}
//
// Numbers are in the shortest form that reads back exactly, words are
// strings, root is the MIDI number. Each value, unquoted, is accepted by
// With for its key and gives back the same field. The Anchor, not a key, is
// not written. The output is valid JSON even for an invalid p (an unknown
// enum or a non-finite number is null). AppendJSON allocates only if dst
// must grow.
func (p *Params) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	for i := range keyTable {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, keyTable[i].jsonKey...)
		dst = keyTable[i].appendJSON(dst, p)
	}
	return append(dst, '}')
}

// String returns p as AppendJSON writes it.
func (p *Params) String() string { return string(p.AppendJSON(nil)) }

// AppendKeysJSON appends the parameter table as a JSON array of objects, one
// per key in table order, and returns the extended buffer, e.g.
//
//	{"name":"freq","kind":"float","min":20,"max":20000,"default":440,"unit":"Hz","create_only":false,"doc":"…","allowed":"…"}
//
// "min" and "max" appear for float and note keys, "choices" for enum (strings)
// and int keys (numbers); "default" is written as AppendJSON writes the value.
func AppendKeysJSON(dst []byte) []byte {
	def := Defaults()
	dst = append(dst, '[')
	for i := range keyTable {
		d := &keyTable[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"name":`...)
		dst = appendJSONString(dst, d.Name)
		dst = append(dst, `,"kind":`...)
		dst = appendJSONString(dst, d.Kind.String())
		switch d.Kind {
		case KindFloat, KindNote:
			dst = append(dst, `,"min":`...)
			dst = appendJSONFloat(dst, d.Min)
			dst = append(dst, `,"max":`...)
			dst = appendJSONFloat(dst, d.Max)
		case KindEnum, KindInt:
			dst = append(dst, `,"choices":[`...)
			for j, c := range d.Choices {
				if j > 0 {
					dst = append(dst, ',')
				}
				if d.Kind == KindInt {
					dst = append(dst, c...)
				} else {
					dst = appendJSONString(dst, c)
				}
			}
			dst = append(dst, ']')
		}
		dst = append(dst, `,"default":`...)
		dst = d.appendJSON(dst, &def)
		dst = append(dst, `,"unit":`...)
		dst = appendJSONString(dst, d.Unit)
		dst = append(dst, `,"create_only":`...)
		dst = strconv.AppendBool(dst, d.CreateOnly)
		dst = append(dst, `,"doc":`...)
		dst = appendJSONString(dst, d.Doc)
		dst = append(dst, `,"allowed":`...)
		dst = appendJSONString(dst, d.Allowed)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// MPEGVersion returns 1 for sample rates of 32000 Hz and up (MPEG-1 Layer
// III) and 2 below (MPEG-2 Layer III, the low-sample-rate extension).
func (p *Params) MPEGVersion() int {
	if p.SampleRate >= 32000 {
		return 1
	}
	return 2
}

// FrameSamples returns the samples per channel in one MP3 frame: 1152 for
// MPEG-1, 576 for MPEG-2.
func (p *Params) FrameSamples() int {
	if p.MPEGVersion() == 1 {
		return 1152
	}
	return 576
}

// MaxFrameBytes returns the size in bytes of the longest MP3 frame at p's
// format (a padded frame), for sizing a caller-owned output buffer.
// It returns 0 if SampleRate is not positive.
func (p *Params) MaxFrameBytes() int {
	if p.SampleRate <= 0 {
		return 0
	}
	return p.FrameSamples()/8*p.Bitrate*1000/p.SampleRate + 1
}

// BytesPerSecond returns the size of one second of the encoded stream.
func (p *Params) BytesPerSecond() int { return p.Bitrate * 1000 / 8 }

// SampleRates returns the sample rates the "samplerate" key accepts, in Hz,
// ascending, as a fresh slice.
func SampleRates() []int { return append([]int(nil), sampleRateSet...) }

// BitratesFor returns the bitrates in kbit/s legal at sampleRate with
// channels, ascending, as a fresh slice, or nil if sampleRate is not one of
// SampleRates or channels is not 1 or 2. It is the MPEG version's table less
// the mono bitrates the encoder cannot fill (see CheckFormat).
func BitratesFor(sampleRate, channels int) []int {
	return append([]int(nil), bitratesFor(sampleRate, channels)...)
}

// bitratesFor is BitratesFor without the copy: the result must not be modified.
func bitratesFor(sampleRate, channels int) []int {
	i := indexInt(sampleRateSet, sampleRate)
	if i < 0 || channels < 1 || channels > 2 {
		return nil
	}
	return bitratesAt[i][channels-1]
}

// Live holds the current Params of one stream: an immutable snapshot that a
// change of settings replaces atomically. All its methods are safe from any
// goroutine.
type Live struct {
	p atomic.Pointer[Params]
}

// NewLive returns a Live holding a copy of p, which should be valid (from
// Defaults or With): Apply on an invalid one fails until the fault is fixed.
func NewLive(p Params) *Live {
	l := new(Live)
	l.p.Store(&p)
	return l
}

// Load returns the current snapshot. It is shared: the caller must never
// modify it, and may keep it as long as it likes (a later Apply publishes a
// new value rather than changing this one).
func (l *Live) Load() *Params { return l.p.Load() }

// Apply applies pairs atomically, as With(pairs, false) on the current
// snapshot, and returns the snapshot it published. Concurrent Applies never
// lose an update: each is applied on top of the latest snapshot (a
// compare-and-swap loop retries if another Apply won the race). A CreateOnly
// key fails with ErrCreateOnly. On error nothing changes and Apply returns
// nil and the *ParamError. A change that alters nothing publishes nothing and
// returns the current snapshot.
//
// Apply carries the Anchor over unchanged, so a tempo change moves the
// melody's position at every frame since the anchor: a stream with a
// timeline changes its settings with ApplyAt instead.
func (l *Live) Apply(pairs []Pair) (*Params, error) { return l.apply(pairs, 0, false) }

// ApplyAt is Apply for a change first rendered at timeline frame frame: the
// snapshot it publishes is p.Retimed(old, frame), where old is the snapshot
// it replaces, so a tempo change keeps the melody's step position
// continuous at frame and no note is skipped or repeated.
func (l *Live) ApplyAt(pairs []Pair, frame int64) (*Params, error) {
	return l.apply(pairs, frame, true)
}

func (l *Live) apply(pairs []Pair, frame int64, retime bool) (*Params, error) {
	for {
		old := l.p.Load()
		p, err := old.With(pairs, false)
		if err != nil {
			return nil, err
		}
		if retime {
			p = p.Retimed(old, frame)
		}
		if p == *old {
			return old, nil
		}
		if l.p.CompareAndSwap(old, &p) {
			return &p, nil
		}
	}
}

// parseFloatValue parses a decimal number: an optional sign, digits with an
// optional point, an optional exponent. It rejects what strconv.ParseFloat
// would also take (NaN, Inf, hex, underscores) and results that overflow.
// -0 becomes 0.
func parseFloatValue(v []byte) (float64, bool) {
	if len(v) == 0 || len(v) > MaxValueLen {
		return 0, false
	}
	for _, c := range v {
		if !('0' <= c && c <= '9' || c == '.' || c == '-' || c == '+' || c == 'e' || c == 'E') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(string(v), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 {
		f = 0 // no -0
	}
	return f, true
}

// maxSmallUintDigits bounds parseSmallUint so its result cannot overflow an int.
const maxSmallUintDigits = 9

// parseSmallUint parses up to maxSmallUintDigits decimal digits.
func parseSmallUint(v []byte) (int, bool) {
	if len(v) == 0 || len(v) > maxSmallUintDigits {
		return 0, false
	}
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// noteNameSemitones maps 'A'..'G' to semitones above C.
var noteNameSemitones = [7]int{9, 11, 0, 2, 4, 5, 7}

// parseNote parses a MIDI note number 0..127 or a note name such as C4, A#3,
// Bb2 or C-1 (C4 = 60).
func parseNote(v []byte) (int, bool) {
	if len(v) == 0 {
		return 0, false
	}
	if v[0] >= '0' && v[0] <= '9' {
		n, ok := parseSmallUint(v)
		return n, ok && n <= 127
	}
	c := v[0] | 0x20 // lower case
	if c < 'a' || c > 'g' {
		return 0, false
	}
	n := noteNameSemitones[c-'a']
	v = v[1:]
	if len(v) > 0 && (v[0] == '#' || v[0] == 'b') {
		if v[0] == '#' {
			n++
		} else {
			n--
		}
		v = v[1:]
	}
	var octave int
	switch {
	case len(v) == 1 && v[0] >= '0' && v[0] <= '9':
		octave = int(v[0] - '0')
	case len(v) == 2 && v[0] == '-' && v[1] == '1':
		octave = -1
	default:
		return 0, false
	}
	n += (octave + 1) * 12
	return n, n >= 0 && n <= 127
}

// parseSeed parses a decimal uint64 with no sign, rejecting overflow.
func parseSeed(v []byte) (uint64, bool) {
	if len(v) == 0 || len(v) > MaxValueLen {
		return 0, false
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(string(v), 10, 64)
	return n, err == nil
}

// indexWord returns the index of v in words, or -1.
func indexWord(words []string, v []byte) int {
	for i, w := range words {
		if string(v) == w {
			return i
		}
	}
	return -1
}

// sanitizeKey returns at most MaxErrorKeyLen bytes of key with every byte
// that is not printable ASCII, and '"' and '\\', replaced by '?'.
func sanitizeKey(key []byte) string {
	if len(key) > MaxErrorKeyLen {
		key = key[:MaxErrorKeyLen]
	}
	b := make([]byte, len(key))
	for i, c := range key {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			c = '?'
		}
		b[i] = c
	}
	return string(b)
}

func indexInt(s []int, n int) int {
	for i, v := range s {
		if v == n {
			return i
		}
	}
	return -1
}

func joinInts(s []int) string {
	var b []byte
	for i, n := range s {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return string(b)
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// appendJSONFloat appends f in the shortest form that reads back exactly, or
// null if f is not finite (JSON has no NaN or infinity).
func appendJSONFloat(dst []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, f, 'g', -1, 64)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c < 0x20:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, '"')
}
