// Package web holds the browser player that synthcast serves at "/": an
// HTML page, its script modules, its style sheet and its icon, embedded in
// the binary, with a content type and a strong ETag for each.
//
// The page plays a stream (Media Source Extensions fed by fetch, a plain
// <audio src> where MSE cannot take MP3), draws its spectrum with the Web
// Audio API, builds one control per key of GET /keys, sends changes with
// /set_param and follows the changes made elsewhere through GET /events. The
// files under static/ are the source: there is no build step, no CDN and no
// external font, and every URL in them is a path on the serving origin.
//
// # Invariants
//
// Assets returns the same slice, computed once at the first call, and its
// bytes never change while the process runs. The page runs under the
// Content-Security-Policy its <meta> tag sets (scripts, styles, media and
// connections from the same origin only; no inline script or style), so
// every script and style is a file here.
//
// # Non-goals
//
// The package serves nothing itself: it knows no sockets, HTTP handlers or
// streams, and imports only the standard library. Compression, caching
// headers and conditional requests are the server's. It keeps no state of a
// listener: a page's token lives in its URL.
package web
