package server

import "github.com/synthcast/synthcast/web"

// The web player's files (package web), served at their paths from the
// event loops: fixed bytes with an ETag, revalidated on each load.

// pageAssets indexes web.Assets by path.
type pageAssets map[string]*web.Asset

func newPageAssets() pageAssets {
	as := web.Assets()
	m := make(pageAssets, len(as))
	for i := range as {
		m[as[i].Path] = &as[i]
	}
	return m
}

// handlePage serves one of the page's files (c.asset, found by the router).
func (s *transport) handlePage(c *conn, out []byte, flags respFlags) []byte {
	a := c.asset
	return appendCached(out, *s.date.Load(), flags, c.req.Header("If-None-Match"), a.ContentType, a.ETag, a.Body)
}
