package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParamValue applies one fuzzed value to one key of the table. It must
// never panic; it either fails with ErrInvalidValue and leaves the defaults
// unchanged, or gives a valid Params whose JSON value for the key, applied
// again, gives the same Params.
func FuzzParamValue(f *testing.F) {
	for i, d := range keyTable {
		f.Add(uint8(i), []byte(d.Default))
		for _, c := range d.Choices {
			f.Add(uint8(i), []byte(c))
		}
	}
	for _, v := range []string{"", "0", "-0", "1", "-1", "20", "20000", "1e400", "NaN", "Inf", "0x1p4",
		"1_0", " 1", "1 ", "1e-400", "0.30000000000000004", "18446744073709551616", "C4", "A#3", "Bb2",
		"C-1", "G9", "G#9", "Cb-1", "127", "128", "44100", "16000", "320", "8", "2"} {
		for i := range keyTable {
			f.Add(uint8(i), []byte(v))
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, value []byte) {
		d := &keyTable[int(k)%len(keyTable)]
		def := Defaults()
		q := []Pair{{Key: []byte(d.Name), Value: value}}
		p, err := def.With(q, true)
		if err != nil {
			if !errors.Is(err, ErrInvalidValue) {
				t.Fatalf("With(%q) error = %v; want ErrInvalidValue", query(q), err)
			}
			if p != def {
				t.Fatalf("With(%q) = %v on error; want defaults", query(q), &p)
			}
			checkError(t, err)
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("With(%q) = %v, which fails Validate: %v", query(q), &p, err)
		}
		// Round trip through the JSON form of the value.
		v := d.appendJSON(nil, &p)
		if len(v) > 0 && v[0] == '"' {
			v = v[1 : len(v)-1]
		}
		for _, base := range []Params{def, p} {
			q2 := []Pair{{Key: []byte(d.Name), Value: v}}
			p2, err := base.With(q2, true)
			if err != nil || p2 != p {
				t.Fatalf("With(%q) = %v; then With(%q) = %v, %v; want the same", query(q), &p, query(q2), &p2, err)
			}
		}
		checkJSON(t, &p)
	})
}

// FuzzParamPairs applies a fuzzed query string ("k=v&k=v…", already
// decoded) as pairs. It must never panic and must be all or nothing.
func FuzzParamPairs(f *testing.F) {
	for _, s := range []string{
		"", "freq=440", "freq=440&gain=0.1", "mode=melody&scale=blues&root=Bb2&tempo=90&seed=42",
		"samplerate=16000", "samplerate=16000&bitrate=320", "bitrate=8&samplerate=22050",
		"channels=1&pan=1", "freq=1e400", "nope=1", "freq", "=", "&&", "freq=100&freq=200",
		"wave=noise&cutoff=200&seed=18446744073709551615",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, allowCreateOnly bool) {
		var q []Pair
		for part := range bytes.SplitSeq([]byte(s), []byte("&")) {
			k, v, _ := bytes.Cut(part, []byte("="))
			q = append(q, Pair{Key: k, Value: v})
		}
		base, err := Defaults().With(pairs("freq", "330", "mode", "melody"), true)
		if err != nil {
			t.Fatal(err)
		}
		p, err := base.With(q, allowCreateOnly)
		if err != nil {
			if p != base {
				t.Fatalf("With(%q) = %v on error; want the receiver unchanged", s, &p)
			}
			if !errors.Is(err, ErrUnknownKey) && !errors.Is(err, ErrInvalidValue) && !errors.Is(err, ErrCreateOnly) {
				t.Fatalf("With(%q) error = %v; want one of the sentinels", s, err)
			}
			if errors.Is(err, ErrCreateOnly) && allowCreateOnly {
				t.Fatalf("With(%q, true) error = %v", s, err)
			}
			checkError(t, err)
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("With(%q) = %v, which fails Validate: %v", s, &p, err)
		}
		if !allowCreateOnly && (p.SampleRate != base.SampleRate || p.Channels != base.Channels || p.Bitrate != base.Bitrate) {
			t.Fatalf("With(%q, false) = %v; changed the output format", s, &p)
		}
		// The JSON form, applied as pairs, gives the same Params.
		b := checkJSON(t, &p)
		p2, err := Defaults().With(jsonPairs(t, b), true)
		if err != nil || p2 != p {
			t.Fatalf("With(%q) = %s; applying that JSON gives %v, %v", s, b, &p2, err)
		}
	})
}

// checkError checks the shape of an error from With.
func checkError(t *testing.T, err error) {
	t.Helper()
	var pe *ParamError
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not a *ParamError", err, err)
	}
	if len(pe.Key) > MaxErrorKeyLen || pe.Allowed == "" {
		t.Fatalf("error = %#v; want a short key and an allowed text", pe)
	}
	for _, c := range []byte(err.Error()) {
		if c < 0x20 || c > 0x7e {
			t.Fatalf("error = %q; not printable ASCII", err.Error())
		}
	}
}

// checkJSON checks that AppendJSON gives a valid JSON object and returns it.
func checkJSON(t *testing.T, p *Params) []byte {
	t.Helper()
	b := p.AppendJSON(nil)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || len(m) != len(keyTable) {
		t.Fatalf("AppendJSON() = %s; json.Unmarshal: %v, %d keys", b, err, len(m))
	}
	return b
}
