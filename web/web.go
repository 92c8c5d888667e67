package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
)

// files holds the page as it ships. static/index.html is served at "/".
//
//go:embed static
var files embed.FS

// Asset is one file of the page.
type Asset struct {
	Path        string // URL path: "/" for the page, "/app.js", …
	ContentType string // e.g. "text/html; charset=utf-8"
	Body        []byte
	ETag        string // quoted strong ETag of Body, e.g. "\"3f2a…\""
}

// contentTypes maps the extensions under static/ to their media types. It
// is a table rather than mime.TypeByExtension, whose answers depend on the
// machine's /etc/mime.types; a file of another extension fails the tests.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
}

// etagBytes is how much of a body's SHA-256 its ETag holds: 128 bits, as
// many as a stream token, so two versions of a file never share one.
const etagBytes = 16

// Assets returns the page's files, computed once (never modified by callers).
// The page is first; the rest follow in path order. Safe from any goroutine.
func Assets() []Asset { return assets() }

var assets = sync.OnceValue(func() []Asset {
	var out []Asset
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		urlPath := strings.TrimPrefix(p, "static")
		if urlPath == "/index.html" {
			urlPath = "/"
		}
		sum := sha256.Sum256(body)
		out = append(out, Asset{
			Path:        urlPath,
			ContentType: contentTypes[path.Ext(p)],
			Body:        body,
			ETag:        `"` + hex.EncodeToString(sum[:etagBytes]) + `"`,
		})
		return nil
	})
	if err != nil { // the files are compiled in: only a broken build gets here
		panic("web: reading the embedded page: " + err.Error())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
})
