package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"
)

func TestAppendJSONString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"\x00\n\x1f\x7f", `"\u0000\u000a\u001f\u007f"`},
		{"héllo ✓", `"héllo ✓"`},
		{"bad\xffutf8\xc3", `"bad\ufffdutf8\ufffd"`},
	}
	for _, tt := range tests {
		got := string(appendJSONString(nil, tt.in))
		if got != tt.want {
			t.Errorf("appendJSONString(%q) = %s; want %s", tt.in, got, tt.want)
		}
		var back string
		if err := json.Unmarshal([]byte(got), &back); err != nil {
			t.Errorf("appendJSONString(%q) = %s: not JSON: %v", tt.in, got, err)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("a\"b\\c\x00\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := appendJSONString(nil, s)
		if !json.Valid(out) {
			t.Fatalf("appendJSONString(%q) = %s: not valid JSON", s, out)
		}
	})
}

func TestAppendJSONResponseParses(t *testing.T) {
	date := appendHTTPDate(nil, time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC))
	if string(date) != "Mon, 23 Nov 2026 20:00:00 GMT" {
		t.Fatalf("appendHTTPDate = %q", date)
	}
	body := []byte(`{"ok":true}`)
	for _, tt := range []struct {
		flags     respFlags
		conn      string
		allow     string
		wantBody  string
		method    string
		wantClose bool
	}{
		{0, "", "", `{"ok":true}`, "GET", false},
		{respClose, "close", "", `{"ok":true}`, "GET", true},
		{respKeepAlive, "keep-alive", "", `{"ok":true}`, "GET", false},
		{respHead, "", "", "", "HEAD", false},
		{respAllow, "", "GET, HEAD, OPTIONS", `{"ok":true}`, "GET", false},
	} {
		raw := appendJSONResponse(nil, 405, date, tt.flags, body)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), &http.Request{Method: tt.method})
		if err != nil {
			t.Fatalf("flags %b: %q does not parse: %v", tt.flags, raw, err)
		}
		got, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 405 || resp.Status != "405 Method Not Allowed" || string(got) != tt.wantBody ||
			resp.Close != tt.wantClose || tt.conn == "keep-alive" && resp.Header.Get("Connection") != "keep-alive" || resp.Header.Get("Allow") != tt.allow ||
			resp.Header.Get("Content-Length") != "11" || resp.Header.Get("Content-Type") != "application/json" ||
			resp.Header.Get("Date") != string(date) {
			t.Errorf("flags %b: response %q", tt.flags, raw)
		}
	}
}
