package web

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
)

func byPath(t *testing.T) map[string]Asset {
	t.Helper()
	m := map[string]Asset{}
	for _, a := range Assets() {
		if _, dup := m[a.Path]; dup {
			t.Errorf("two assets at %q", a.Path)
		}
		m[a.Path] = a
	}
	return m
}

func TestAssetsTypedAndTagged(t *testing.T) {
	assets := Assets()
	if len(assets) == 0 || assets[0].Path != "/" {
		t.Fatalf("Assets()[0] is not the page at \"/\": %d assets", len(assets))
	}
	if got := assets[0].ContentType; got != "text/html; charset=utf-8" {
		t.Errorf("page ContentType = %q; want text/html; charset=utf-8", got)
	}
	for _, a := range assets {
		if !strings.HasPrefix(a.Path, "/") {
			t.Errorf("asset path %q does not start with /", a.Path)
		}
		if a.ContentType == "" {
			t.Errorf("%s: no ContentType (add its extension to contentTypes)", a.Path)
		}
		if len(a.Body) == 0 {
			t.Errorf("%s: empty body", a.Path)
		}
		sum := sha256.Sum256(a.Body)
		if want := `"` + hex.EncodeToString(sum[:etagBytes]) + `"`; a.ETag != want {
			t.Errorf("%s: ETag = %s; want %s (a quoted strong tag of the body)", a.Path, a.ETag, want)
		}
	}
}

func TestAssetsComputedOnce(t *testing.T) {
	a, b := Assets(), Assets()
	if &a[0] != &b[0] {
		t.Errorf("Assets() built the files twice; want them computed once")
	}
}

var (
	// attrURL finds src= and href= values in the page.
	attrURL = regexp.MustCompile(`\b(?:src|href)="([^"]*)"`)
	// importURL finds the modules a script imports.
	importURL = regexp.MustCompile(`(?m)^\s*import\s[^'"]*['"]([^'"]+)['"]`)
	// cssURL finds url(…) in a style sheet.
	cssURL = regexp.MustCompile(`url\(\s*['"]?([^'")]+)`)
)

// TestPageReferencesExist checks that every file the page or a module asks
// for is an asset: links, scripts, imports, style sheet urls.
func TestPageReferencesExist(t *testing.T) {
	assets := byPath(t)
	for _, a := range assets {
		var refs [][]string
		switch {
		case strings.HasPrefix(a.ContentType, "text/html"):
			refs = attrURL.FindAllStringSubmatch(string(a.Body), -1)
		case strings.HasPrefix(a.ContentType, "text/javascript"):
			refs = importURL.FindAllStringSubmatch(string(a.Body), -1)
		case strings.HasPrefix(a.ContentType, "text/css"):
			refs = cssURL.FindAllStringSubmatch(string(a.Body), -1)
		}
		for _, m := range refs {
			ref := m[1]
			if strings.HasPrefix(ref, "#") || strings.HasPrefix(ref, "data:") {
				continue
			}
			path, _, _ := strings.Cut(ref, "?")
			if !strings.HasPrefix(path, "/") {
				t.Errorf("%s refers to %q; want an absolute path on this origin", a.Path, ref)
				continue
			}
			if _, ok := assets[path]; !ok {
				t.Errorf("%s refers to %q, which is not an asset", a.Path, ref)
			}
		}
	}
	page := string(assets["/"].Body)
	for _, want := range []string{`src="/app.js"`, `href="/style.css"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// svgNamespace is the one URL an asset may hold: an XML namespace, a name
// that is never fetched.
const svgNamespace = "http://www.w3.org/2000/svg"

var anyURL = regexp.MustCompile(`(?i)\b(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)

// TestNoOtherHosts checks that no asset loads anything from another host:
// no CDN, no external font, no analytics.
func TestNoOtherHosts(t *testing.T) {
	for _, a := range Assets() {
		body := strings.ReplaceAll(string(a.Body), svgNamespace, "")
		for _, u := range anyURL.FindAllString(body, -1) {
			t.Errorf("%s holds %q; want no URL of another host", a.Path, u)
		}
	}
}

var (
	scriptTag = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
	styleTag  = regexp.MustCompile(`(?i)<style\b`)
	inlineOn  = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleAttr = regexp.MustCompile(`(?i)\sstyle\s*=`)
	cspMeta   = regexp.MustCompile(`<meta http-equiv="Content-Security-Policy" content="([^"]*)"`)
)

// TestContentSecurityPolicy checks that the page sets a policy that allows
// nothing inline and nothing from another origin, and that it needs
// nothing the policy forbids: no inline script, handler or style.
func TestContentSecurityPolicy(t *testing.T) {
	page := string(byPath(t)["/"].Body)
	m := cspMeta.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the page sets no Content-Security-Policy")
	}
	policy := map[string]string{}
	for _, d := range strings.Split(m[1], ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		policy[name] = value
	}
	for dir, want := range map[string]string{
		"default-src": "'none'",
		"script-src":  "'self'",
		"style-src":   "'self'",
		"connect-src": "'self'",
		"media-src":   "'self' blob:", // blob: is the MediaSource the player feeds
	} {
		if got := policy[dir]; got != want {
			t.Errorf("CSP %s = %q; want %q", dir, got, want)
		}
	}
	for _, s := range scriptTag.FindAllStringSubmatch(page, -1) {
		if !strings.Contains(s[1], "src=") || strings.TrimSpace(s[2]) != "" {
			t.Errorf("inline script %q; the policy allows only files", s[0])
		}
	}
	if styleTag.MatchString(page) || styleAttr.MatchString(page) {
		t.Errorf("the page has inline style; the policy allows only style sheets")
	}
	if inlineOn.MatchString(page) {
		t.Errorf("the page has an inline event handler (on…=); the policy forbids it")
	}
}
