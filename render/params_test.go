package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// pairs builds a []Pair from alternating keys and values.
func pairs(kv ...string) []Pair {
	ps := make([]Pair, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		ps = append(ps, Pair{Key: []byte(kv[i]), Value: []byte(kv[i+1])})
	}
	return ps
}

// query renders pairs as "k=v&k=v" for test messages.
func query(ps []Pair) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		fmt.Fprintf(&b, "%s=%s", p.Key, p.Value)
	}
	return b.String()
}

// fieldJSON returns the JSON text AppendJSON writes for key.
func fieldJSON(t testing.TB, p *Params, key string) string {
	t.Helper()
	d := lookupKey([]byte(key))
	if d == nil {
		t.Fatalf("no key %q in keyTable", key)
	}
	return string(d.appendJSON(nil, p))
}

// Bad values every float key must refuse, whatever its range.
var badFloats = []string{
	"", " ", " 440", "440 ", "4 40", "\t1", "1\n", "NaN", "nan", "Inf", "+Inf", "-Inf", "inf",
	"infinity", "1e400", "-1e400", "1e99999999999", "0x1p4", "0x10", "1_0", "1,5", "1.2.3",
	"1e", "e1", ".", "-", "+", "--1", "1e+", "1ee1", "abc", "1abc", "\x00", "1\x00", "١",
	strings.Repeat("1", MaxValueLen+1), "0." + strings.Repeat("0", MaxValueLen),
}

func TestWithKey(t *testing.T) {
	type row struct {
		key, value string
		want       string // the key's JSON value after With; "" with err
		err        error
	}
	rows := []row{
		{"mode", "tone", `"tone"`, nil},
		{"mode", "melody", `"melody"`, nil},
		{"mode", "Melody", "", ErrInvalidValue},
		{"mode", "melody ", "", ErrInvalidValue},
		{"mode", "", "", ErrInvalidValue},
		{"mode", "0", "", ErrInvalidValue},

		{"freq", "440", "440", nil},
		{"freq", "20", "20", nil},
		{"freq", "20000", "20000", nil},
		{"freq", "2e4", "20000", nil},
		{"freq", "+261.625", "261.625", nil},
		{"freq", "440.", "440", nil},
		{"freq", "0440.50", "440.5", nil},
		{"freq", "19.999999", "", ErrInvalidValue},
		{"freq", "20000.001", "", ErrInvalidValue},
		{"freq", "-440", "", ErrInvalidValue},
		{"freq", "0", "", ErrInvalidValue},

		{"wave", "sine", `"sine"`, nil},
		{"wave", "square", `"square"`, nil},
		{"wave", "saw", `"saw"`, nil},
		{"wave", "triangle", `"triangle"`, nil},
		{"wave", "noise", `"noise"`, nil},
		{"wave", "SINE", "", ErrInvalidValue},
		{"wave", "sawtooth", "", ErrInvalidValue},
		{"wave", "sin", "", ErrInvalidValue},

		{"gain", "0", "0", nil},
		{"gain", "1", "1", nil},
		{"gain", "0.25", "0.25", nil},
		{"gain", ".5", "0.5", nil},
		{"gain", "-0", "0", nil},
		{"gain", "1e-400", "0", nil}, // underflows to 0, which is in range
		{"gain", "1.0000001", "", ErrInvalidValue},
		{"gain", "-0.1", "", ErrInvalidValue},

		{"tempo", "20", "20", nil},
		{"tempo", "300", "300", nil},
		{"tempo", "92.5", "92.5", nil},
		{"tempo", "19", "", ErrInvalidValue},
		{"tempo", "301", "", ErrInvalidValue},

		{"scale", "major", `"major"`, nil},
		{"scale", "minor", `"minor"`, nil},
		{"scale", "pentatonic", `"pentatonic"`, nil},
		{"scale", "blues", `"blues"`, nil},
		{"scale", "dorian", `"dorian"`, nil},
		{"scale", "chromatic", `"chromatic"`, nil},
		{"scale", "lydian", "", ErrInvalidValue},

		{"root", "60", "60", nil},
		{"root", "0", "0", nil},
		{"root", "127", "127", nil},
		{"root", "007", "7", nil},
		{"root", "C4", "60", nil},
		{"root", "c4", "60", nil},
		{"root", "A4", "69", nil},
		{"root", "A#3", "58", nil},
		{"root", "Bb2", "46", nil},
		{"root", "bb2", "46", nil},
		{"root", "B#3", "60", nil},
		{"root", "Cb4", "59", nil},
		{"root", "C-1", "0", nil},
		{"root", "G9", "127", nil},
		{"root", "128", "", ErrInvalidValue},
		{"root", "-1", "", ErrInvalidValue},
		{"root", "+60", "", ErrInvalidValue},
		{"root", "60.0", "", ErrInvalidValue},
		{"root", "G#9", "", ErrInvalidValue},
		{"root", "Cb-1", "", ErrInvalidValue},
		{"root", "A9", "", ErrInvalidValue},
		{"root", "C10", "", ErrInvalidValue},
		{"root", "C-2", "", ErrInvalidValue},
		{"root", "H4", "", ErrInvalidValue},
		{"root", "C", "", ErrInvalidValue},
		{"root", "C#", "", ErrInvalidValue},
		{"root", "C##4", "", ErrInvalidValue},
		{"root", "C#b4", "", ErrInvalidValue},
		{"root", "CB4", "", ErrInvalidValue},
		{"root", "C4 ", "", ErrInvalidValue},
		{"root", " C4", "", ErrInvalidValue},
		{"root", "", "", ErrInvalidValue},
		{"root", "1000000000000", "", ErrInvalidValue},

		{"seed", "1", "1", nil},
		{"seed", "0", "0", nil},
		{"seed", "18446744073709551615", "18446744073709551615", nil},
		{"seed", "000042", "42", nil},
		{"seed", "18446744073709551616", "", ErrInvalidValue},
		{"seed", "99999999999999999999999", "", ErrInvalidValue},
		{"seed", "-1", "", ErrInvalidValue},
		{"seed", "+1", "", ErrInvalidValue},
		{"seed", "1.0", "", ErrInvalidValue},
		{"seed", "1e3", "", ErrInvalidValue},
		{"seed", "0x10", "", ErrInvalidValue},
		{"seed", "1_000", "", ErrInvalidValue},
		{"seed", " 1", "", ErrInvalidValue},
		{"seed", "", "", ErrInvalidValue},

		{"cutoff", "20", "20", nil},
		{"cutoff", "1000", "1000", nil},
		{"cutoff", "20000", "20000", nil},
		{"cutoff", "19", "", ErrInvalidValue},
		{"cutoff", "20001", "", ErrInvalidValue},

		{"pan", "-1", "-1", nil},
		{"pan", "1", "1", nil},
		{"pan", "0", "0", nil},
		{"pan", "-0.0", "0", nil},
		{"pan", "-0.5", "-0.5", nil},
		{"pan", "1.5", "", ErrInvalidValue},
		{"pan", "-1.0000001", "", ErrInvalidValue},

		{"samplerate", "16000", "16000", nil},
		{"samplerate", "22050", "22050", nil},
		{"samplerate", "24000", "24000", nil},
		{"samplerate", "32000", "32000", nil},
		{"samplerate", "44100", "44100", nil},
		{"samplerate", "48000", "48000", nil},
		{"samplerate", "8000", "", ErrInvalidValue},
		{"samplerate", "44101", "", ErrInvalidValue},
		{"samplerate", "44100.0", "", ErrInvalidValue},
		{"samplerate", "44.1k", "", ErrInvalidValue},
		{"samplerate", "-44100", "", ErrInvalidValue},
		{"samplerate", "99999999999999999999", "", ErrInvalidValue},

		{"channels", "1", "1", nil},
		{"channels", "2", "2", nil},
		{"channels", "0", "", ErrInvalidValue},
		{"channels", "3", "", ErrInvalidValue},
		{"channels", "stereo", "", ErrInvalidValue},

		{"bitrate", "32", "32", nil},
		{"bitrate", "128", "128", nil},
		{"bitrate", "320", "320", nil},
		{"bitrate", "8", "", ErrInvalidValue},   // MPEG-2 only; default samplerate is 44100
		{"bitrate", "144", "", ErrInvalidValue}, // MPEG-2 only
		{"bitrate", "129", "", ErrInvalidValue},
		{"bitrate", "128k", "", ErrInvalidValue},
		{"bitrate", "0", "", ErrInvalidValue},
	}
	for _, k := range []string{"freq", "gain", "tempo", "cutoff", "pan"} {
		for _, v := range badFloats {
			rows = append(rows, row{k, v, "", ErrInvalidValue})
		}
	}
	for _, r := range rows {
		def := Defaults()
		ps := pairs(r.key, r.value)
		got, err := def.With(ps, true)
		if r.err != nil {
			if !errors.Is(err, r.err) {
				t.Errorf("With(%q) error = %v; want %v", query(ps), err, r.err)
			}
			if got != def {
				t.Errorf("With(%q) = %v on error; want the receiver unchanged", query(ps), &got)
			}
			var pe *ParamError
			if errors.As(err, &pe) && pe.Key != r.key {
				t.Errorf("With(%q) error key = %q; want %q", query(ps), pe.Key, r.key)
			}
			continue
		}
		if err != nil {
			t.Errorf("With(%q) error = %v; want nil", query(ps), err)
			continue
		}
		if v := fieldJSON(t, &got, r.key); v != r.want {
			t.Errorf("With(%q) = %s; want %s", query(ps), v, r.want)
		}
		// Only the key given may change.
		for _, k := range Keys() {
			if k.Name != r.key && fieldJSON(t, &got, k.Name) != fieldJSON(t, &def, k.Name) {
				t.Errorf("With(%q) changed %s to %s", query(ps), k.Name, fieldJSON(t, &got, k.Name))
			}
		}
	}
}

func TestErrorText(t *testing.T) {
	def := Defaults()
	rows := []struct {
		q    []Pair
		live bool
		want string
	}{
		{pairs("freq", "1e400"), false, "render: freq: must be a number in [20, 20000] Hz"},
		{pairs("gain", "2"), false, "render: gain: must be a number in [0, 1]"},
		{pairs("pan", "x"), false, "render: pan: must be a number in [-1, 1]"},
		{pairs("tempo", "0"), false, "render: tempo: must be a number in [20, 300] bpm"},
		{pairs("wave", "x"), false, "render: wave: must be one of sine, square, saw, triangle, noise"},
		{pairs("mode", "x"), false, "render: mode: must be one of tone, melody"},
		{pairs("scale", "x"), false, "render: scale: must be one of major, minor, pentatonic, blues, dorian, chromatic"},
		{pairs("root", "x"), false, "render: root: must be a MIDI note number in [0, 127] or a note name from C-1 to G9 such as C4, A#3 or Bb2"},
		{pairs("seed", "-1"), false, "render: seed: must be a decimal integer in [0, 18446744073709551615]"},
		{pairs("samplerate", "1"), false, "render: samplerate: must be one of 16000, 22050, 24000, 32000, 44100, 48000 Hz"},
		{pairs("channels", "3"), false, "render: channels: must be one of 1, 2"},
		{pairs("bitrate", "1"), false, "render: bitrate: must be one of 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 kbit/s at samplerate 32000, 44100 or 48000, or one of 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 kbit/s at samplerate 16000, 22050 or 24000"},
		{pairs("samplerate", "16000", "bitrate", "320"), false, "render: bitrate: must be one of 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160 kbit/s at samplerate 16000 with 2 channel(s)"},
		{pairs("bitrate", "8"), false, "render: bitrate: must be one of 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320 kbit/s at samplerate 44100 with 2 channel(s)"},
		{pairs("samplerate", "44100"), true, "render: samplerate: can only be set when the stream is created"},
		{pairs("fre", "440"), false, `render: unknown key "fre": must be one of mode, freq, wave, gain, tempo, scale, root, seed, cutoff, pan, samplerate, channels, bitrate`},
		{pairs("a\"b\\c\x00\xff d", "1"), false, `render: unknown key "a?b?c?? d": must be one of mode, freq, wave, gain, tempo, scale, root, seed, cutoff, pan, samplerate, channels, bitrate`},
	}
	for _, r := range rows {
		_, err := def.With(r.q, !r.live)
		if err == nil {
			t.Errorf("With(%q) error = nil; want %q", query(r.q), r.want)
			continue
		}
		if got := err.Error(); got != r.want {
			t.Errorf("With(%q) error = %q; want %q", query(r.q), got, r.want)
		}
	}
}

func TestErrorsIs(t *testing.T) {
	def := Defaults()
	rows := []struct {
		q               []Pair
		allowCreateOnly bool
		want            error
		key             string
	}{
		{pairs("nope", "1"), true, ErrUnknownKey, "nope"},
		{pairs("Freq", "440"), true, ErrUnknownKey, "Freq"},
		{pairs("", "440"), true, ErrUnknownKey, ""},
		{pairs("id", "abc"), true, ErrUnknownKey, "id"},
		{pairs("freq", "nan"), true, ErrInvalidValue, "freq"},
		{pairs("samplerate", "48000"), false, ErrCreateOnly, "samplerate"},
		{pairs("channels", "1"), false, ErrCreateOnly, "channels"},
		{pairs("bitrate", "64"), false, ErrCreateOnly, "bitrate"},
		{pairs("bitrate", "garbage"), false, ErrCreateOnly, "bitrate"}, // the key is refused before its value is read
		{pairs("freq", "100", "samplerate", "48000"), false, ErrCreateOnly, "samplerate"},
		{pairs("freq", "100", "bogus", "1", "gain", "2"), true, ErrUnknownKey, "bogus"}, // first fault wins
	}
	for _, r := range rows {
		_, err := def.With(r.q, r.allowCreateOnly)
		if !errors.Is(err, r.want) {
			t.Errorf("With(%q, %v) error = %v; want %v", query(r.q), r.allowCreateOnly, err, r.want)
			continue
		}
		for _, other := range []error{ErrUnknownKey, ErrInvalidValue, ErrCreateOnly} {
			if other != r.want && errors.Is(err, other) {
				t.Errorf("With(%q) error = %v; is also %v", query(r.q), err, other)
			}
		}
		var pe *ParamError
		if !errors.As(err, &pe) {
			t.Errorf("With(%q) error %T is not a *ParamError", query(r.q), err)
			continue
		}
		if pe.Key != r.key || pe.Allowed == "" {
			t.Errorf("With(%q) error = %#v; want Key %q and an Allowed text", query(r.q), pe, r.key)
		}
	}
}

// The error names at most MaxErrorKeyLen bytes of a key and never the value.
func TestErrorOmitsUserBytes(t *testing.T) {
	def := Defaults()
	const secret = "SECRET-VALUE"
	longKey := strings.Repeat("k", 10000)
	for _, q := range [][]Pair{
		pairs(longKey, secret),
		pairs("freq", secret),
		pairs("freq", "1"+secret),
		pairs("seed", secret+strings.Repeat("9", 1000)),
		pairs("samplerate", secret),
		pairs("root", secret),
		pairs("samplerate", "16000", "bitrate", "320"+secret),
	} {
		_, err := def.With(q, true)
		if err == nil {
			t.Fatalf("With(%.80q) error = nil; want one", query(q))
		}
		msg := err.Error()
		if strings.Contains(msg, secret) {
			t.Errorf("With(%.80q) error = %q; contains the value", query(q), msg)
		}
		var pe *ParamError
		errors.As(err, &pe)
		if len(pe.Key) > MaxErrorKeyLen {
			t.Errorf("With(%.80q) error key has %d bytes; want at most %d", query(q), len(pe.Key), MaxErrorKeyLen)
		}
		if len(msg) > 512 {
			t.Errorf("With(%.80q) error has %d bytes; want a short one", query(q), len(msg))
		}
		for _, c := range []byte(msg) {
			if c < 0x20 || c > 0x7e {
				t.Errorf("With(%.80q) error = %q; not printable ASCII", query(q), msg)
				break
			}
		}
	}
}

func TestCreateOnly(t *testing.T) {
	def := Defaults()
	for _, k := range Keys() {
		want := k.Name == "samplerate" || k.Name == "channels" || k.Name == "bitrate"
		if k.CreateOnly != want {
			t.Errorf("Keys() %s CreateOnly = %v; want %v", k.Name, k.CreateOnly, want)
		}
		q := pairs(k.Name, k.Default)
		if _, err := def.With(q, true); err != nil {
			t.Errorf("With(%q, true) error = %v; want nil", query(q), err)
		}
		_, err := def.With(q, false)
		if k.CreateOnly && !errors.Is(err, ErrCreateOnly) {
			t.Errorf("With(%q, false) error = %v; want ErrCreateOnly", query(q), err)
		}
		if !k.CreateOnly && err != nil {
			t.Errorf("With(%q, false) error = %v; want nil", query(q), err)
		}
	}
	l := NewLive(def)
	if p, err := l.Apply(pairs("channels", "1")); !errors.Is(err, ErrCreateOnly) || p != nil {
		t.Errorf("Apply(channels=1) = %v, %v; want nil, ErrCreateOnly", p, err)
	}
}

func TestAllOrNothing(t *testing.T) {
	base, err := Defaults().With(pairs("freq", "330", "wave", "saw", "seed", "7"), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range [][]Pair{
		pairs("freq", "100", "gain", "2"),
		pairs("freq", "100", "wave", "square", "nope", "1"),
		pairs("mode", "melody", "tempo", "90", "root", "C4", "seed", "-5"),
		pairs("pan", "1", "samplerate", "16000", "bitrate", "320"),
		pairs("gain", "0.1", "gain", "0.2", "gain", "NaN"),
	} {
		got, err := base.With(q, true)
		if err == nil {
			t.Errorf("With(%q) error = nil; want one", query(q))
		}
		if got != base {
			t.Errorf("With(%q) = %v; want %v unchanged", query(q), &got, &base)
		}
	}
	q := pairs("freq", "100", "gain", "0.1", "mode", "melody", "gain", "0.2")
	got, err := base.With(q, false)
	want := base
	want.Freq, want.Gain, want.Mode = 100, 0.2, ModeMelody
	if err != nil || got != want {
		t.Errorf("With(%q) = %v, %v; want %v, nil", query(q), &got, err, &want)
	}
	if got, err := base.With(nil, false); err != nil || got != base {
		t.Errorf("With(nil) = %v, %v; want %v, nil", &got, err, &base)
	}
}

func TestCrossField(t *testing.T) {
	rows := []struct {
		q       []Pair
		ok      bool
		allowed []int // the set the error must list
	}{
		{pairs("samplerate", "16000"), true, nil}, // default bitrate 128 is legal for MPEG-2
		{pairs("samplerate", "16000", "bitrate", "8"), true, nil},
		{pairs("samplerate", "24000", "bitrate", "144"), true, nil},
		{pairs("samplerate", "22050", "bitrate", "160"), true, nil},
		{pairs("bitrate", "8", "samplerate", "16000"), true, nil}, // order does not matter
		{pairs("samplerate", "48000", "bitrate", "320"), true, nil},
		{pairs("samplerate", "32000", "bitrate", "32"), true, nil},
		{pairs("samplerate", "16000", "bitrate", "320"), false, mpeg2BitrateSet},
		{pairs("bitrate", "320", "samplerate", "16000"), false, mpeg2BitrateSet},
		{pairs("samplerate", "24000", "bitrate", "192"), false, mpeg2BitrateSet},
		{pairs("samplerate", "44100", "bitrate", "144"), false, mpeg1BitrateSet},
		{pairs("samplerate", "32000", "bitrate", "8"), false, mpeg1BitrateSet},
		{pairs("samplerate", "16000", "bitrate", "8", "samplerate", "48000"), false, mpeg1BitrateSet},
	}
	for _, r := range rows {
		def := Defaults()
		got, err := def.With(r.q, true)
		if r.ok {
			if err != nil || got.Validate() != nil {
				t.Errorf("With(%q) error = %v; want nil", query(r.q), err)
			}
			continue
		}
		var pe *ParamError
		if !errors.As(err, &pe) || !errors.Is(err, ErrInvalidValue) || pe.Key != "bitrate" {
			t.Errorf("With(%q) error = %v; want an ErrInvalidValue naming bitrate", query(r.q), err)
			continue
		}
		if want := joinInts(r.allowed); !strings.Contains(pe.Allowed, want) {
			t.Errorf("With(%q) error allowed = %q; want it to list %s", query(r.q), pe.Allowed, want)
		}
		if got != def {
			t.Errorf("With(%q) = %v on error; want defaults", query(r.q), &got)
		}
	}
}

func TestValidate(t *testing.T) {
	def := Defaults()
	if err := def.Validate(); err != nil {
		t.Fatalf("Defaults().Validate() = %v; want nil", err)
	}
	rows := []struct {
		name   string
		mutate func(*Params)
		key    string
	}{
		{"zero", func(p *Params) { *p = Params{} }, "freq"},
		{"NaN freq", func(p *Params) { p.Freq = math.NaN() }, "freq"},
		{"Inf gain", func(p *Params) { p.Gain = math.Inf(1) }, "gain"},
		{"mode", func(p *Params) { p.Mode = 2 }, "mode"},
		{"wave", func(p *Params) { p.Wave = 5 }, "wave"},
		{"scale", func(p *Params) { p.Scale = 6 }, "scale"},
		{"root", func(p *Params) { p.Root = 128 }, "root"},
		{"root negative", func(p *Params) { p.Root = -1 }, "root"},
		{"pan", func(p *Params) { p.Pan = -2 }, "pan"},
		{"samplerate", func(p *Params) { p.SampleRate = 8000 }, "samplerate"},
		{"channels", func(p *Params) { p.Channels = 0 }, "channels"},
		{"bitrate", func(p *Params) { p.SampleRate = 16000; p.Bitrate = 192 }, "bitrate"},
	}
	for _, r := range rows {
		p := def
		r.mutate(&p)
		err := p.Validate()
		var pe *ParamError
		if !errors.As(err, &pe) || pe.Key != r.key || !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s: Validate() = %v; want an ErrInvalidValue naming %s", r.name, err, r.key)
		}
		// With refuses to build on an invalid receiver.
		if got, err := p.With(pairs("seed", "2"), true); err == nil || got.String() != p.String() {
			t.Errorf("%s: With on an invalid receiver = %v, %v; want it unchanged and an error", r.name, &got, err)
		}
		// AppendJSON stays valid JSON.
		if b := p.AppendJSON(nil); !json.Valid(b) {
			t.Errorf("%s: AppendJSON() = %s; not valid JSON", r.name, b)
		}
	}
}

func TestKeys(t *testing.T) {
	ks := Keys()
	want := []string{"mode", "freq", "wave", "gain", "tempo", "scale", "root", "seed", "cutoff", "pan", "samplerate", "channels", "bitrate"}
	var names []string
	for _, k := range ks {
		names = append(names, k.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("Keys() names = %q; want %q", names, want)
	}
	def := Defaults()
	for _, k := range ks {
		if k.Kind < KindFloat || k.Kind > KindNote || k.Doc == "" || k.Allowed == "" || k.Default == "" {
			t.Errorf("Keys() %s = %+v; want a kind, doc, allowed text and default", k.Name, k)
		}
		switch k.Kind {
		case KindEnum, KindInt:
			if len(k.Choices) == 0 {
				t.Errorf("Keys() %s has no choices", k.Name)
			}
			if !slices.Contains(k.Choices, k.Default) {
				t.Errorf("Keys() %s default %q not in choices %q", k.Name, k.Default, k.Choices)
			}
		case KindFloat, KindNote:
			if !(k.Min < k.Max) {
				t.Errorf("Keys() %s range [%g, %g] is empty", k.Name, k.Min, k.Max)
			}
		}
		// Every Default is accepted and gives Defaults() back.
		q := pairs(k.Name, k.Default)
		if got, err := def.With(q, true); err != nil || got != def {
			t.Errorf("With(%q) = %v, %v; want defaults", query(q), &got, err)
		}
		if strings.Contains(k.Doc, "\n") {
			t.Errorf("Keys() %s doc is not one line", k.Name)
		}
	}
	// The result is a copy.
	ks[0].Name = "changed"
	ks[0].Choices[0] = "changed"
	if k := Keys()[0]; k.Name != "mode" || k.Choices[0] != "tone" {
		t.Errorf("Keys() after modifying a previous result = %+v; want the keyTable unchanged", k)
	}
	if kinds := fmt.Sprint(KindFloat, KindInt, KindEnum, KindSeed, KindNote, Kind(0)); kinds != "float int enum seed note Kind(0)" {
		t.Errorf("Kind strings = %q", kinds)
	}
}

func TestDefaults(t *testing.T) {
	p := Defaults()
	want := `{"mode":"tone","freq":440,"wave":"sine","gain":0.75,"tempo":120,"scale":"pentatonic","root":60,"seed":1,"cutoff":20000,"pan":0,"samplerate":44100,"channels":2,"bitrate":128}`
	if got := string(p.AppendJSON(nil)); got != want {
		t.Errorf("Defaults().AppendJSON() = %s; want %s", got, want)
	}
	if p.String() != want {
		t.Errorf("Defaults().String() = %s; want %s", p.String(), want)
	}
}

func TestAppendJSON(t *testing.T) {
	melody, err := Defaults().With(pairs("mode", "melody", "freq", "261.6255653005986", "wave", "triangle",
		"gain", "1e-7", "tempo", "299.99", "scale", "blues", "root", "Bb2", "seed", "18446744073709551615",
		"cutoff", "1234.5", "pan", "-0.75", "samplerate", "22050", "channels", "1", "bitrate", "144"), true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Params{Defaults(), melody} {
		prefix := []byte(`{"x":`)
		b := p.AppendJSON(slices.Clone(prefix))
		if !bytes.HasPrefix(b, prefix) {
			t.Fatalf("AppendJSON(%s) overwrote dst: %s", prefix, b)
		}
		b = b[len(prefix):]
		if !json.Valid(b) {
			t.Fatalf("AppendJSON() = %s; not valid JSON", b)
		}
		// Keys come in table order, each once.
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var keys []string
		if tok, _ := dec.Token(); tok != json.Delim('{') {
			t.Fatalf("AppendJSON() = %s; want an object", b)
		}
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
		var want []string
		for _, k := range Keys() {
			want = append(want, k.Name)
		}
		if !slices.Equal(keys, want) {
			t.Errorf("AppendJSON() keys = %q; want %q", keys, want)
		}
		// Round trip: every value, as text, gives the same Params.
		got, err := Defaults().With(jsonPairs(t, b), true)
		if err != nil || got != p {
			t.Errorf("With(pairs of %s) = %v, %v; want the same", b, &got, err)
		}
	}
}

// jsonPairs turns a flat JSON object into pairs, strings unquoted and numbers as written.
func jsonPairs(t testing.TB, b []byte) []Pair {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v", b, err)
	}
	var ps []Pair
	for k, raw := range m {
		v := []byte(raw)
		if len(v) > 0 && v[0] == '"' {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				t.Fatal(err)
			}
			v = []byte(s)
		}
		ps = append(ps, Pair{Key: []byte(k), Value: v})
	}
	return ps
}

func TestAppendKeysJSON(t *testing.T) {
	b := AppendKeysJSON(nil)
	var got []struct {
		Name       string          `json:"name"`
		Kind       string          `json:"kind"`
		Min        *float64        `json:"min"`
		Max        *float64        `json:"max"`
		Choices    []any           `json:"choices"`
		Default    json.RawMessage `json:"default"`
		Unit       string          `json:"unit"`
		CreateOnly bool            `json:"create_only"`
		Doc        string          `json:"doc"`
		Allowed    string          `json:"allowed"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("AppendKeysJSON() = %s; json.Unmarshal: %v", b, err)
	}
	ks := Keys()
	if len(got) != len(ks) {
		t.Fatalf("AppendKeysJSON() has %d keys; want %d", len(got), len(ks))
	}
	def := Defaults()
	for i, k := range ks {
		g := got[i]
		if g.Name != k.Name || g.Kind != k.Kind.String() || g.Unit != k.Unit || g.CreateOnly != k.CreateOnly ||
			g.Doc != k.Doc || g.Allowed != k.Allowed || len(g.Choices) != len(k.Choices) {
			t.Errorf("AppendKeysJSON()[%d] = %+v; want %+v", i, g, k)
		}
		if (g.Min != nil) != (k.Kind == KindFloat || k.Kind == KindNote) || g.Min != nil && (*g.Min != k.Min || *g.Max != k.Max) {
			t.Errorf("AppendKeysJSON()[%d] min, max = %v, %v; want %g, %g", i, g.Min, g.Max, k.Min, k.Max)
		}
		if want := fieldJSON(t, &def, k.Name); string(g.Default) != want {
			t.Errorf("AppendKeysJSON()[%d] default = %s; want %s", i, g.Default, want)
		}
	}
}

func TestFormatHelpers(t *testing.T) {
	rows := []struct {
		q                          []Pair
		version, samples, maxBytes int
	}{
		{nil, 1, 1152, 418}, // 144*128000/44100 = 417.9
		{pairs("samplerate", "48000", "bitrate", "320"), 1, 1152, 961}, // 144*320000/48000 = 960
		{pairs("samplerate", "32000", "bitrate", "32"), 1, 1152, 145},
		{pairs("samplerate", "24000", "bitrate", "160"), 2, 576, 481},
		{pairs("samplerate", "16000", "bitrate", "8"), 2, 576, 37},
		{pairs("samplerate", "22050"), 2, 576, 418},
	}
	for _, r := range rows {
		p, err := Defaults().With(r.q, true)
		if err != nil {
			t.Fatal(err)
		}
		if v, s, m := p.MPEGVersion(), p.FrameSamples(), p.MaxFrameBytes(); v != r.version || s != r.samples || m != r.maxBytes {
			t.Errorf("With(%q): MPEGVersion, FrameSamples, MaxFrameBytes = %d, %d, %d; want %d, %d, %d",
				query(r.q), v, s, m, r.version, r.samples, r.maxBytes)
		}
		if got, want := p.BytesPerSecond(), p.Bitrate*125; got != want {
			t.Errorf("With(%q).BytesPerSecond() = %d; want %d", query(r.q), got, want)
		}
	}
	if got := BitratesFor(16000, 2); !slices.Equal(got, mpeg2BitrateSet) {
		t.Errorf("BitratesFor(16000, 2) = %v; want %v", got, mpeg2BitrateSet)
	}
	if got := BitratesFor(44100, 2); !slices.Equal(got, mpeg1BitrateSet) {
		t.Errorf("BitratesFor(44100, 2) = %v; want %v", got, mpeg1BitrateSet)
	}
	// Mono frames at the top bitrates are more than the encoder can fill.
	if got := BitratesFor(44100, 1); slices.Contains(got, 320) || !slices.Contains(got, 256) {
		t.Errorf("BitratesFor(44100, 1) = %v; want 256 but not 320", got)
	}
	if got := BitratesFor(8000, 2); got != nil {
		t.Errorf("BitratesFor(8000, 2) = %v; want nil", got)
	}
	if got := BitratesFor(44100, 3); got != nil {
		t.Errorf("BitratesFor(44100, 3) = %v; want nil", got)
	}
	// Every format the table admits is one the encoder takes.
	for _, sr := range SampleRates() {
		for ch := 1; ch <= 2; ch++ {
			for _, br := range BitratesFor(sr, ch) {
				if err := CheckFormat(sr, ch, br); err != nil {
					t.Errorf("BitratesFor(%d, %d) lists %d, but CheckFormat says %v", sr, ch, br, err)
				}
				p := Defaults()
				p.SampleRate, p.Channels, p.Bitrate = sr, ch, br
				if err := p.Validate(); err != nil {
					t.Errorf("Validate(%d Hz, %d ch, %d kbit/s) = %v; want nil", sr, ch, br, err)
				}
			}
		}
	}
	mono := Defaults()
	mono.Channels, mono.Bitrate = 1, 320
	if err := mono.Validate(); !errors.Is(err, ErrInvalidValue) {
		t.Errorf("Validate(44100 Hz mono 320 kbit/s) = %v; want ErrInvalidValue", err)
	}
	BitratesFor(44100, 2)[0] = 1
	SampleRates()[0] = 1
	if mpeg1BitrateSet[0] != 32 || sampleRateSet[0] != 16000 {
		t.Errorf("BitratesFor or SampleRates returned the keyTable itself")
	}
	if got := (&Params{}).MaxFrameBytes(); got != 0 {
		t.Errorf("Params{}.MaxFrameBytes() = %d; want 0", got)
	}
}

func TestEnumStrings(t *testing.T) {
	got := fmt.Sprint(ModeMelody, WaveTriangle, ScaleDorian, Mode(9), Wave(200), Scale(6))
	if want := "melody triangle dorian Mode(9) Wave(200) Scale(6)"; got != want {
		t.Errorf("enum strings = %q; want %q", got, want)
	}
}

func TestLiveApply(t *testing.T) {
	l := NewLive(Defaults())
	before := l.Load()
	p, err := l.Apply(pairs("freq", "220", "wave", "square"))
	if err != nil || p.Freq != 220 || p.Wave != WaveSquare || l.Load() != p {
		t.Fatalf("Apply(freq=220&wave=square) = %v, %v; want it published", p, err)
	}
	if before.Freq != 440 || before.Wave != WaveSine {
		t.Errorf("Apply modified the previous snapshot: %v", before)
	}
	if p2, err := l.Apply(pairs("freq", "220")); err != nil || p2 != p {
		t.Errorf("Apply(no change) = %p, %v; want the current snapshot %p", p2, err, p)
	}
	if p3, err := l.Apply(pairs("freq", "220", "gain", "7")); err == nil || p3 != nil || l.Load() != p {
		t.Errorf("Apply(gain=7) = %v, %v; want nil, an error and nothing published", p3, err)
	}
}

// TestLiveConcurrentApply has every goroutine own one key and step it through
// a sequence of values. Only that goroutine writes the key, so once its Apply
// returns, every later snapshot must show its latest value: a lost update
// (a blind store of a stale snapshot) would show an older one.
func TestLiveConcurrentApply(t *testing.T) {
	l := NewLive(Defaults())
	type stepper struct {
		key   string
		value func(i int) string
	}
	num := func(base, step float64) func(int) string {
		return func(i int) string { return strconv.FormatFloat(base+step*float64(i%1000), 'g', -1, 64) }
	}
	word := func(words []string) func(int) string { return func(i int) string { return words[i%len(words)] } }
	steppers := []stepper{
		{"mode", word(modeNames)},
		{"freq", num(20, 19.9)},
		{"wave", word(waveNames)},
		{"gain", num(0, 0.001)},
		{"tempo", num(20, 0.25)},
		{"scale", word(scaleNames)},
		{"root", func(i int) string { return strconv.Itoa(i % 128) }},
		{"seed", func(i int) string { return strconv.Itoa(i) }},
		{"cutoff", num(20, 19)},
		{"pan", num(-1, 0.002)},
	}
	const steps = 2000
	var wg sync.WaitGroup
	for _, s := range steppers {
		wg.Go(func() {
			for i := range steps {
				v := s.value(i)
				if _, err := l.Apply(pairs(s.key, v)); err != nil {
					t.Errorf("Apply(%s=%s) error = %v", s.key, v, err)
					return
				}
				cur := l.Load()
				want := fieldJSON(t, mustWith(t, cur, s.key, v), s.key)
				if got := fieldJSON(t, cur, s.key); got != want {
					t.Errorf("after Apply(%s=%s): Load() %s = %s; want %s (update lost)", s.key, v, s.key, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	final := l.Load()
	want := Defaults()
	for _, s := range steppers {
		want = *mustWith(t, &want, s.key, s.value(steps-1))
	}
	if *final != want {
		t.Errorf("final Load() = %v; want %v", final, &want)
	}
}

func mustWith(t testing.TB, p *Params, key, value string) *Params {
	t.Helper()
	q, err := p.With(pairs(key, value), true)
	if err != nil {
		t.Fatalf("With(%s=%s) error = %v", key, value, err)
	}
	return &q
}

func BenchmarkWith(b *testing.B) {
	def := Defaults()
	q := pairs("freq", "261.63", "wave", "triangle", "gain", "0.8")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := def.With(q, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLiveApply(b *testing.B) {
	l := NewLive(Defaults())
	qs := [][]Pair{pairs("freq", "261.63"), pairs("freq", "440")}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := l.Apply(qs[i&1]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	p := Defaults()
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = p.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkAppendJSONEncodingJSON is the encoding/json way, for comparison.
func BenchmarkAppendJSONEncodingJSON(b *testing.B) {
	p := Defaults()
	type out struct {
		Mode       string  `json:"mode"`
		Freq       float64 `json:"freq"`
		Wave       string  `json:"wave"`
		Gain       float64 `json:"gain"`
		Tempo      float64 `json:"tempo"`
		Scale      string  `json:"scale"`
		Root       int     `json:"root"`
		Seed       uint64  `json:"seed"`
		Cutoff     float64 `json:"cutoff"`
		Pan        float64 `json:"pan"`
		SampleRate int     `json:"samplerate"`
		Channels   int     `json:"channels"`
		Bitrate    int     `json:"bitrate"`
	}
	b.ReportAllocs()
	var n int
	for b.Loop() {
		buf, err := json.Marshal(out{p.Mode.String(), p.Freq, p.Wave.String(), p.Gain, p.Tempo, p.Scale.String(),
			p.Root, p.Seed, p.Cutoff, p.Pan, p.SampleRate, p.Channels, p.Bitrate})
		if err != nil {
			b.Fatal(err)
		}
		n = len(buf)
	}
	b.SetBytes(int64(n))
}
