package render

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestBinaryGolden pins version 1 byte for byte: stored streams must read
// back after any later change, so this test changes only with a new version.
func TestBinaryGolden(t *testing.T) {
	p := Defaults()
	want := strings.Join([]string{
		"01",               // version 1
		"00",               // mode tone
		"0000000000807b40", // freq 440
		"00",               // wave sine
		"000000000000e83f", // gain 0.75
		"0000000000005e40", // tempo 120
		"02",               // scale pentatonic
		"78",               // root 60, zigzag 120
		"0100000000000000", // seed 1
		"000000000088d340", // cutoff 20000
		"0000000000000000", // pan 0
		"88b105",           // samplerate 44100
		"04",               // channels 2
		"8002",             // bitrate 128
		"00",               // anchor frame 0
		"0000000000000000", // anchor step 0
	}, "")
	if got := hex.EncodeToString(p.AppendBinary(nil)); got != want {
		t.Errorf("Defaults().AppendBinary() = %s; want %s", got, want)
	}
	b, _ := hex.DecodeString(want)
	if got, err := ParseBinary(b); err != nil || got != p {
		t.Errorf("ParseBinary(%s) = %v, %v; want the defaults", want, &got, err)
	}
}

// binaryCases are valid Params at the edges of every field.
func binaryCases(t testing.TB) []Params {
	t.Helper()
	melody, err := Defaults().With(pairs("mode", "melody", "freq", "261.6255653005986", "wave", "noise",
		"gain", "1e-7", "tempo", "299.99", "scale", "chromatic", "root", "127", "seed", "18446744073709551615",
		"cutoff", "20", "pan", "-1", "samplerate", "48000", "channels", "1", "bitrate", "320"), true)
	if err != nil {
		t.Fatal(err)
	}
	melody.Anchor = Anchor{Frame: MaxAnchorFrame, Step: -MaxAnchorStep}
	low, err := Defaults().With(pairs("samplerate", "16000", "bitrate", "8", "channels", "1", "root", "0", "seed", "0"), true)
	if err != nil {
		t.Fatal(err)
	}
	low.Anchor = Anchor{Frame: -MaxAnchorFrame, Step: 1234.5678}
	retimed, def := Defaults(), Defaults()
	retimed.Tempo = 97
	retimed = retimed.Retimed(&def, 26460000) // ten minutes in: step 2400
	if retimed.Anchor != (Anchor{Frame: 26460000, Step: 2400}) {
		t.Fatalf("Retimed anchor = %+v", retimed.Anchor)
	}
	return []Params{Defaults(), melody, low, retimed}
}

// TestBinaryRoundTrip: every field, the Anchor too, reads back exactly, into
// at most MaxBinaryLen bytes appended after what dst held.
func TestBinaryRoundTrip(t *testing.T) {
	for _, p := range binaryCases(t) {
		prefix := []byte("xyz")
		b := p.AppendBinary(bytes.Clone(prefix))
		if !bytes.HasPrefix(b, prefix) {
			t.Fatalf("AppendBinary overwrote dst: %q", b)
		}
		b = b[len(prefix):]
		if len(b) > MaxBinaryLen {
			t.Errorf("AppendBinary(%v) is %d bytes; want at most MaxBinaryLen = %d", &p, len(b), MaxBinaryLen)
		}
		got, err := ParseBinary(b)
		if err != nil || got != p || got.Anchor != p.Anchor {
			t.Errorf("ParseBinary(AppendBinary(%v, %+v)) = %v, %+v, %v", &p, p.Anchor, &got, got.Anchor, err)
		}
	}
}

// TestBinaryErrors: anything but what AppendBinary writes for a valid Params
// is refused with ErrBadEncoding and the zero Params, at every truncation
// and with every byte flipped, and never panics.
func TestBinaryErrors(t *testing.T) {
	def := Defaults()
	valid := def.AppendBinary(nil)
	with := func(f func(*Params)) []byte {
		p := Defaults()
		f(&p)
		return p.AppendBinary(nil)
	}
	rows := []struct {
		name string
		b    []byte
		also error // a second sentinel the error wraps, or nil
	}{
		{"empty", nil, nil},
		{"version 0", append([]byte{0}, valid[1:]...), nil},
		{"version 2", append([]byte{2}, valid[1:]...), nil},
		{"trailing byte", append(bytes.Clone(valid), 0), nil},
		{"too long", append(bytes.Clone(valid), make([]byte, 100)...), nil},
		{"non-minimal varint", append(append(bytes.Clone(valid[:len(valid)-9]), 0x80, 0x00), valid[len(valid)-8:]...), nil},
		{"overlong varint", append(append(bytes.Clone(valid[:len(valid)-9]), bytes.Repeat([]byte{0xff}, 11)...), valid[len(valid)-8:]...), nil},
		{"freq NaN", with(func(p *Params) { p.Freq = math.NaN() }), ErrInvalidValue},
		{"gain 2", with(func(p *Params) { p.Gain = 2 }), ErrInvalidValue},
		{"mode 9", with(func(p *Params) { p.Mode = 9 }), ErrInvalidValue},
		{"root 128", with(func(p *Params) { p.Root = 128 }), ErrInvalidValue},
		{"root 2^32+60", with(func(p *Params) { p.Root = 1<<32 + 60 }), nil},
		{"bitrate 320 at 16000", with(func(p *Params) { p.SampleRate, p.Bitrate = 16000, 320 }), ErrInvalidValue},
		{"anchor step NaN", with(func(p *Params) { p.Anchor.Step = math.NaN() }), nil},
		{"anchor step +Inf", with(func(p *Params) { p.Anchor.Step = math.Inf(1) }), nil},
		{"anchor step too far", with(func(p *Params) { p.Anchor.Step = 2 * MaxAnchorStep }), nil},
		{"anchor frame too far", with(func(p *Params) { p.Anchor.Frame = -MaxAnchorFrame - 1 }), nil},
	}
	for i := range len(valid) {
		rows = append(rows, struct {
			name string
			b    []byte
			also error
		}{"truncated to " + strconv.Itoa(i), valid[:i], nil})
	}
	for _, r := range rows {
		p, err := ParseBinary(r.b)
		if !errors.Is(err, ErrBadEncoding) || (r.also != nil && !errors.Is(err, r.also)) {
			t.Errorf("%s: ParseBinary error = %v; want ErrBadEncoding (and %v)", r.name, err, r.also)
		}
		if p != (Params{}) {
			t.Errorf("%s: ParseBinary = %v on error; want the zero Params", r.name, &p)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "render: bad binary Params: ") {
			t.Errorf("%s: error text %q; want the sentinel's prefix", r.name, err)
		}
	}
	// One flipped bit anywhere either still decodes to a valid Params or is
	// refused; it never panics.
	for i := range len(valid) * 8 {
		b := bytes.Clone(valid)
		b[i/8] ^= 1 << (i % 8)
		if p, err := ParseBinary(b); err == nil {
			if err := p.Validate(); err != nil {
				t.Errorf("bit %d flipped: decoded %v, which fails Validate: %v", i, &p, err)
			}
		} else if !errors.Is(err, ErrBadEncoding) {
			t.Errorf("bit %d flipped: error %v; want ErrBadEncoding", i, err)
		}
	}
}

// FuzzParseBinary feeds ParseBinary arbitrary bytes. It must never panic;
// what it accepts is valid, within MaxBinaryLen, and exactly what
// AppendBinary writes for the result.
func FuzzParseBinary(f *testing.F) {
	for _, p := range binaryCases(f) {
		b := p.AppendBinary(nil)
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{2, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := ParseBinary(b)
		if err != nil {
			if !errors.Is(err, ErrBadEncoding) || p != (Params{}) {
				t.Fatalf("ParseBinary(%x) = %v, %v; want the zero Params and ErrBadEncoding", b, &p, err)
			}
			return
		}
		if err := p.Validate(); err != nil || !p.Anchor.valid() || len(b) > MaxBinaryLen {
			t.Fatalf("ParseBinary(%x) = %v, anchor %+v: Validate %v, %d bytes", b, &p, p.Anchor, err, len(b))
		}
		if again := p.AppendBinary(nil); !bytes.Equal(again, b) {
			t.Fatalf("ParseBinary(%x) = %v; AppendBinary gives %x", b, &p, again)
		}
	})
}

// FuzzBinaryRoundTrip builds a Params from two fuzzed key=value pairs (as a
// create_stream would) and a fuzzed Anchor, and requires AppendBinary then
// ParseBinary to give it back bit for bit, or, for an Anchor out of range,
// ErrBadEncoding.
func FuzzBinaryRoundTrip(f *testing.F) {
	for i, d := range keyTable {
		f.Add(uint8(i), d.Default, uint8(len(keyTable)-1-i), keyTable[len(keyTable)-1-i].Default, int64(i)*44100, float64(i)/3)
	}
	f.Add(uint8(1), "261.6255653005986", uint8(4), "299.99", int64(MaxAnchorFrame), float64(MaxAnchorStep))
	f.Add(uint8(10), "16000", uint8(12), "8", int64(-1), math.Inf(1))
	f.Add(uint8(7), "18446744073709551615", uint8(6), "Bb2", int64(math.MinInt64), math.NaN())
	f.Fuzz(func(t *testing.T, k1 uint8, v1 string, k2 uint8, v2 string, frame int64, step float64) {
		q := []Pair{
			{Key: []byte(keyTable[int(k1)%len(keyTable)].Name), Value: []byte(v1)},
			{Key: []byte(keyTable[int(k2)%len(keyTable)].Name), Value: []byte(v2)},
		}
		p, err := Defaults().With(q, true)
		if err != nil {
			return
		}
		p.Anchor = Anchor{Frame: frame, Step: step}
		b := p.AppendBinary(nil)
		got, err := ParseBinary(b)
		if !p.Anchor.valid() {
			if !errors.Is(err, ErrBadEncoding) {
				t.Fatalf("anchor %+v: ParseBinary error = %v; want ErrBadEncoding", p.Anchor, err)
			}
			return
		}
		if err != nil || got != p || math.Float64bits(got.Anchor.Step) != math.Float64bits(step) || len(b) > MaxBinaryLen {
			t.Fatalf("%v %+v: %d bytes %x; ParseBinary = %v %+v, %v", &p, p.Anchor, len(b), b, &got, got.Anchor, err)
		}
	})
}

func BenchmarkParamsBinary(b *testing.B) {
	p := Defaults()
	p.Anchor = Anchor{Frame: 26460000, Step: 2400.5}
	buf := p.AppendBinary(nil)
	b.Run("append", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			buf = p.AppendBinary(buf[:0])
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ParseBinary(buf); err != nil {
				b.Fatal(err)
			}
		}
	})
}
