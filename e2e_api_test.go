package main

// End-to-end tests of the routes the web player uses: /keys, /events, and
// the listen-only token, on the real binary with real clients.

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/synthcast/synthcast/render"
	"github.com/synthcast/synthcast/web"
)

// /keys lists every key render has, with its range, default and whether it
// may change live; ETag and If-None-Match give 304; HEAD has no body.
func TestE2EKeys(t *testing.T) {
	in := start(t, "-store", "memory")
	resp, err := client.Get(in.url("/keys"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/keys = %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var keys []struct {
		Name       string
		Kind       string
		Min, Max   *float64
		Choices    []any
		Default    any
		CreateOnly bool `json:"create_only"`
		Doc        string
	}
	if err := json.Unmarshal(raw, &keys); err != nil {
		t.Fatal(err)
	}
	specs := render.Keys()
	if len(keys) != len(specs) {
		t.Fatalf("/keys has %d keys; render has %d", len(keys), len(specs))
	}
	for i, spec := range specs {
		k := keys[i]
		if k.Name != spec.Name || k.Kind != spec.Kind.String() || k.CreateOnly != spec.CreateOnly || k.Doc == "" || k.Default == nil {
			t.Errorf("/keys[%d] = %+v; want %s", i, k, spec.Name)
		}
		if (k.Min == nil || k.Max == nil) && len(k.Choices) == 0 && k.Kind != "seed" {
			t.Errorf("/keys %s has neither a range nor choices", k.Name)
		}
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("/keys without ETag")
	}
	req, _ := http.NewRequest("GET", in.url("/keys"), nil)
	req.Header.Set("If-None-Match", etag)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 304 || len(body) != 0 {
		t.Errorf("/keys with If-None-Match = %d, %d bytes; want 304, none", resp.StatusCode, len(body))
	}
	if r := in.do(t, "HEAD", "/keys"); r.status != 200 || len(r.raw) != 0 {
		t.Errorf("HEAD /keys = %d with %d bytes", r.status, len(r.raw))
	}
}

// Each route with each token: the listen token plays, follows and reads,
// but cannot steer (403) and does not reveal the control token; both
// tokens share their routing key.
func TestE2EListenToken(t *testing.T) {
	in := start(t, "-store", "memory")
	r := in.get(t, "/create_stream?name=Shared")
	id, _ := r.body["id"].(string)
	lid, _ := r.body["listen_id"].(string)
	if len(id) != 22 || len(lid) != 30 || id[:8] != lid[:8] || strings.Contains(lid, id) {
		t.Fatalf("create: id %q listen_id %q; want 22 and 30 characters sharing the first 8", id, lid)
	}
	for _, tc := range []struct {
		path  string
		token string
		want  int
	}{
		{"/set_param?id=%s&freq=300", id, 200},
		{"/set_param?id=%s&freq=300", lid, 403},
		{"/params?id=%s", id, 200},
		{"/params?id=%s", lid, 200},
		{"/params?id=%s", lid[:29] + map[bool]string{true: "B", false: "A"}[lid[29] == 'A'], 404},
	} {
		path := strings.Replace(tc.path, "%s", tc.token, 1)
		r := in.get(t, path)
		if r.status != tc.want {
			t.Errorf("GET %s = %d %s; want %d", path, r.status, r.raw, tc.want)
		}
		if tc.token == lid && strings.Contains(string(r.raw), id) {
			t.Errorf("GET %s with the listen token revealed the control token: %s", path, r.raw)
		}
	}
	if r := in.get(t, "/params?id="+lid); r.body["role"] != "listen" || r.body["id"] != lid || r.body["title"] == nil {
		t.Errorf("/params with the listen token = %s", r.raw)
	}
	if r := in.get(t, "/params?id="+id); r.body["role"] != "control" || r.body["listen_id"] != lid {
		t.Errorf("/params with the control token = %s", r.raw)
	}
	for _, tok := range []string{id, lid} {
		s := dialStream(t, in.addr, tok, 0)
		s.readHead(t)
		if s.status != 200 || s.header.Get("icy-name") != "Shared" {
			t.Errorf("/stream with %q = %d, icy-name %q", tok, s.status, s.header.Get("icy-name"))
		}
		s.readFor(t, time.Now().Add(300*time.Millisecond), nil)
		if s.frames < 5 {
			t.Errorf("/stream with %q: %d frames", tok, s.frames)
		}
	}
}

// /events through a real SSE client (curl -N): the current state at once,
// then an event per accepted change (none for a rejected one), with either
// token.
func TestE2EEventsCurl(t *testing.T) {
	needTool(t, "curl")
	in := start(t, "-store", "memory")
	r := in.get(t, "/create_stream?mode=melody")
	id, lid := r.body["id"].(string), r.body["listen_id"].(string)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", "-sS", "-N", "-i", in.url("/events?id="+lid))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	lines := make(chan string, 64)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	next := func(what string) map[string]any {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("events ended before %s", what)
				}
				if data, ok := strings.CutPrefix(l, "data: "); ok {
					var ev map[string]any
					if err := json.Unmarshal([]byte(data), &ev); err != nil {
						t.Fatalf("event data %q: %v", data, err)
					}
					return ev
				}
				if strings.HasPrefix(l, "Content-Type:") && !strings.Contains(l, "text/event-stream") {
					t.Fatalf("events %s", l)
				}
			case <-time.After(3 * time.Second):
				t.Fatalf("no event for %s within 3 s", what)
			}
		}
	}
	first := next("the current state")
	if p := first["params"].(map[string]any); p["tempo"] != 120.0 || first["title"] != "melody · C4 pentatonic · 120 bpm" {
		t.Errorf("first event = %v", first)
	}
	in.get(t, "/set_param?id="+id+"&tempo=nope") // rejected: no event
	in.get(t, "/set_param?id="+id+"&tempo=90")
	t0 := time.Now()
	ev := next("the change")
	if p := ev["params"].(map[string]any); p["tempo"] != 90.0 {
		t.Errorf("event after set_param tempo=90 = %v", ev)
	}
	if d := time.Since(t0); d > time.Second {
		t.Errorf("the change's event came %v after the answer; want within a second", d)
	}
}

// The web player's files are served at their paths with their types and
// ETags, revalidated with If-None-Match; HEAD has no body.
func TestE2EPageFiles(t *testing.T) {
	in := start(t, "-store", "memory")
	for _, a := range web.Assets() {
		resp, err := client.Get(in.url(a.Path))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != a.ContentType || resp.Header.Get("ETag") != a.ETag || string(body) != string(a.Body) {
			t.Errorf("GET %s = %d %q %q, %d bytes", a.Path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("ETag"), len(body))
		}
		req, _ := http.NewRequest("GET", in.url(a.Path), nil)
		req.Header.Set("If-None-Match", a.ETag)
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 304 {
			t.Errorf("GET %s with If-None-Match = %d; want 304", a.Path, resp.StatusCode)
		}
	}
	if r := in.do(t, "HEAD", "/"); r.status != 200 || len(r.raw) != 0 {
		t.Errorf("HEAD / = %d, %d bytes", r.status, len(r.raw))
	}
}
