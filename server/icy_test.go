package server

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/synthcast/synthcast/render"
)

// walkICY splits an ICY body into its audio and the titles of its metadata
// blocks (empty string for a zero block), failing on a malformed block.
func walkICY(t *testing.T, body []byte) (audio []byte, titles []string) {
	t.Helper()
	for len(body) > 0 {
		n := min(icyMetaInt, len(body))
		audio = append(audio, body[:n]...)
		body = body[n:]
		if len(body) == 0 {
			break
		}
		l := int(body[0]) * 16
		if 1+l > len(body) {
			t.Fatalf("metadata block of %d bytes cut at %d", l, len(body)-1)
		}
		block := body[1 : 1+l]
		body = body[1+l:]
		if l == 0 {
			titles = append(titles, "")
			continue
		}
		text := string(bytes.TrimRight(block, "\x00"))
		if !strings.HasPrefix(text, "StreamTitle='") || !strings.HasSuffix(text, "';") {
			t.Fatalf("metadata block %q", text)
		}
		titles = append(titles, strings.TrimSuffix(strings.TrimPrefix(text, "StreamTitle='"), "';"))
	}
	return audio, titles
}

// The byte layout, exactly: a block after every 16,000 audio bytes counted
// from the first, whatever the sizes of the deliveries; the title when it
// changed, a zero byte when not; the audio untouched between.
func TestICYViewsLayout(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a := newICYBlock([]byte("first"))
	b := newICYBlock([]byte("second · ünïcode"))
	var st icyState
	st.on, st.left = true, icyMetaInt
	var sent, want []byte
	var views [][]byte
	title := a
	for i := 0; len(want) < 200000; i++ {
		chunk := make([]byte, 1+rng.IntN(9000))
		for k := range chunk {
			chunk[k] = byte(rng.Uint32())
		}
		if i == 20 {
			title = b
		}
		views = st.appendViews(views[:0], chunk, title)
		for _, v := range views {
			sent = append(sent, v...)
		}
		want = append(want, chunk...)
	}
	audio, titles := walkICY(t, sent)
	if !bytes.Equal(audio, want) {
		t.Fatalf("audio between the blocks differs from what was sent")
	}
	if len(titles) != len(want)/icyMetaInt-boolInt(len(want)%icyMetaInt == 0) {
		t.Fatalf("%d blocks for %d audio bytes", len(titles), len(want))
	}
	if titles[0] != "first" {
		t.Errorf("first block = %q; want the title", titles[0])
	}
	changes := 0
	for _, ti := range titles[1:] {
		if ti != "" {
			changes++
			if ti != "second · ünïcode" {
				t.Errorf("changed title = %q", ti)
			}
		}
	}
	if changes != 1 {
		t.Errorf("%d full blocks after the first; want exactly 1 (the change), zero blocks otherwise", changes)
	}
	// Without metadata the bytes pass untouched.
	plain := icyState{}
	if v := plain.appendViews(nil, want[:100], a); len(v) != 1 || !bytes.Equal(v[0], want[:100]) {
		t.Errorf("a listener without metadata got %d views", len(v))
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Cutting a delivery for ICY allocates nothing once the scratch has grown.
func TestICYViewsAllocs(t *testing.T) {
	st := icyState{on: true, left: icyMetaInt}
	title := newICYBlock([]byte("x"))
	data := make([]byte, 40000)
	views := st.appendViews(nil, data, title)
	if n := testing.AllocsPerRun(100, func() { views = st.appendViews(views[:0], data, title) }); n != 0 {
		t.Errorf("appendViews allocates %v times; want 0", n)
	}
}

// Titles summarise the params, lead with the name, and never carry what
// would end an ICY title early or corrupt it.
func TestICYTitle(t *testing.T) {
	mel := render.Defaults()
	mel.Mode, mel.Tempo, mel.Root, mel.Scale = render.ModeMelody, 96, 57, render.ScaleMinor
	tone := render.Defaults()
	for _, tc := range []struct {
		name string
		p    *render.Params
		want string
	}{
		{"", &mel, "melody · A3 minor · 96 bpm"},
		{"Night drive", &mel, "Night drive · melody · A3 minor · 96 bpm"},
		{"", &tone, "tone · 440 Hz sine"},
		{"it';s", &tone, "it;s · tone · 440 Hz sine"},
		{"a\x00b\x1fc\x7fd\xffe", &tone, "abcde · tone · 440 Hz sine"},
	} {
		if got := string(appendTitle(nil, tc.name, tc.p)); got != tc.want {
			t.Errorf("title(%q) = %q; want %q", tc.name, got, tc.want)
		}
	}
	long := strings.Repeat("é", 150) // 300 bytes
	got := appendTitle(nil, long, &tone)
	if len(got) > maxTitleBytes || !utf8.Valid(got) {
		t.Errorf("a long name's title: %d bytes, valid UTF-8 %v; want ≤ %d, valid", len(got), utf8.Valid(got), maxTitleBytes)
	}
	blk := newICYBlock(got)
	if len(blk.b)%16 != 1 || int(blk.b[0])*16 != len(blk.b)-1 {
		t.Errorf("block of %d bytes with length byte %d", len(blk.b), blk.b[0])
	}
}

func TestCheckName(t *testing.T) {
	for _, ok := range []string{"", "Night drive", "Ünïcode ♪", "it's; fine", strings.Repeat("a", 64)} {
		if err := checkName([]byte(ok)); err != nil {
			t.Errorf("checkName(%q) = %v; want nil", ok, err)
		}
	}
	for _, bad := range []string{"a';b", "a\nb", "a\x00", "\xff", strings.Repeat("a", 65), "a\rb"} {
		if err := checkName([]byte(bad)); err == nil {
			t.Errorf("checkName(%q) = nil; want an error", bad)
		}
	}
}

// A record keeps the listen token and the name; older formats still read.
func TestRecordFormats(t *testing.T) {
	p := render.Defaults()
	id := newToken()
	lid := newListenToken(id)
	b := appendRecord(nil, 123, 456, lid, "Night drive", &p)
	r, err := parseRecord(b)
	if err != nil || r.listenID != lid || r.name != "Night drive" || r.epoch != 123 || r.heard != 456 || r.params != p {
		t.Fatalf("parseRecord = %+v, %v", r, err)
	}
	v1 := append([]byte{1}, b[1:recordHead]...)
	v1 = p.AppendBinary(v1)
	if r, err := parseRecord(v1); err != nil || r.name != "" || r.listenID != "" || r.params != p {
		t.Fatalf("format-1 record = %+v, %v", r, err)
	}
	v2 := append([]byte{2}, b[1:recordHead]...)
	v2 = append(v2, 3, 'a', 'b', 'c')
	v2 = p.AppendBinary(v2)
	if r, err := parseRecord(v2); err != nil || r.name != "abc" || r.listenID != "" || r.params != p {
		t.Fatalf("format-2 record = %+v, %v", r, err)
	}
	if _, err := parseRecord(appendRecord(nil, 1, 0, lid, "a';b", &p)); err == nil {
		t.Errorf("a record with a name that would break a title parsed")
	}
	bad := appendRecord(nil, 1, 0, lid, "", &p)
	bad[recordHead+3] = '/'
	if _, err := parseRecord(bad); err == nil {
		t.Errorf("a record with a listen token that is not URL-safe parsed")
	}
}

// FuzzParseRecord: any bytes, no panic; what parses re-encodes the same.
func FuzzParseRecord(f *testing.F) {
	p := render.Defaults()
	f.Add(appendRecord(nil, 1, 2, newListenToken(newToken()), "x", &p))
	f.Add([]byte{2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 200})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseRecord(b)
		if err != nil {
			return
		}
		if r.listenID == "" {
			return // an older format: re-encoding adds what it lacks
		}
		again, err := parseRecord(appendRecord(nil, r.epoch, r.heard, r.listenID, r.name, &r.params))
		if err != nil || again != r {
			t.Fatalf("re-encoded record %+v: %+v, %v", r, again, err)
		}
	})
}
