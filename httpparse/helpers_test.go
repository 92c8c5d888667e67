package httpparse

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// outcome renders the result of a Parse call, so results reached by
// different feeding patterns can be compared as strings.
func outcome(n int, err error, req *Request) string {
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return fmt.Sprintf("error %d %q", e.Status, e.Msg)
		}
		return "error " + err.Error()
	}
	return fmt.Sprintf("n=%d %s", n, describe(req))
}

// describe renders every field and accessor of a parsed Request.
func describe(r *Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/%d.%d method=%v path=%s query=%s host=%s keep-alive=%t headers=[",
		r.RawMethod, r.Target, r.Major, r.Minor, r.Method, nilOrQuote(r.Path), nilOrQuote(r.RawQuery), nilOrQuote(r.Host), r.KeepAlive)
	for i := range r.NumHeaders() {
		name, value := r.HeaderAt(i)
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%q:%q", name, value)
	}
	b.WriteString("] params=[")
	for i := range r.NumParams() {
		k, v := r.Param(i)
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%q=%q", k, v)
	}
	b.WriteString("]")
	return b.String()
}

func nilOrQuote(b []byte) string {
	if b == nil {
		return "nil"
	}
	return fmt.Sprintf("%q", b)
}

// result is what one Parse call returned, with a copy of the Request it
// filled, so results of different feeding patterns can be compared.
type result struct {
	n   int
	err error
	req Request
}

func (r *result) String() string { return outcome(r.n, r.err, &r.req) }

// equal compares two results field by field, without formatting them (the
// table's long rows are compared tens of thousands of times).
func (r *result) equal(o *result) bool {
	if r.n != o.n || r.err != o.err {
		return false
	}
	if r.err != nil {
		return true
	}
	a, b := &r.req, &o.req
	if a.Method != b.Method || !sameBytes(a.RawMethod, b.RawMethod) || !sameBytes(a.Target, b.Target) || !sameBytes(a.Path, b.Path) ||
		!sameBytes(a.RawQuery, b.RawQuery) || !sameBytes(a.Host, b.Host) ||
		a.Major != b.Major || a.Minor != b.Minor || a.KeepAlive != b.KeepAlive ||
		a.NumHeaders() != b.NumHeaders() || a.NumParams() != b.NumParams() {
		return false
	}
	for i := range a.NumHeaders() {
		an, av := a.HeaderAt(i)
		bn, bv := b.HeaderAt(i)
		if !sameBytes(an, bn) || !sameBytes(av, bv) {
			return false
		}
	}
	for i := range a.NumParams() {
		ak, av := a.Param(i)
		bk, bv := b.Param(i)
		if !sameBytes(ak, bk) || !sameBytes(av, bv) {
			return false
		}
	}
	return true
}

// sameBytes is bytes.Equal that also tells nil from empty.
func sameBytes(a, b []byte) bool { return bytes.Equal(a, b) && (a == nil) == (b == nil) }

// parseWhole parses in with one call.
func parseWhole(in []byte) *result {
	r := new(result)
	var p Parser
	r.n, r.err = p.Parse(in, &r.req)
	return r
}

// parseByteByByte feeds growing prefixes of in, one byte longer each call,
// as a gnet Peek would after each byte arrives, and returns the first result
// that is not ErrNeedMore (or ErrNeedMore if every prefix needs more).
// It also returns the Parser, for tests that inspect its work counter.
func parseByteByByte(in []byte) (*result, *Parser) {
	r := new(result)
	var p Parser
	for k := min(1, len(in)); k <= len(in); k++ {
		r.n, r.err = p.Parse(in[:k], &r.req)
		if !errors.Is(r.err, ErrNeedMore) {
			break
		}
	}
	return r, &p
}

// parseSplit feeds in[:k], in a buffer of its own, then all of in: the second
// call sees the bytes moved, as after a gnet buffer grows.
func parseSplit(in []byte, k int) *result {
	r := new(result)
	var p Parser
	r.n, r.err = p.Parse(append([]byte(nil), in[:k]...), &r.req)
	if errors.Is(r.err, ErrNeedMore) {
		r.n, r.err = p.Parse(in, &r.req)
	}
	return r
}

// splitOffsets returns the offsets at which to split an input of n bytes:
// all of them, except for long inputs in -short or -race runs, which split
// at every offset of their first and last KiB and at every 61st between
// (the normal run covers every offset; under -race it would take minutes).
func splitOffsets(n int) []int {
	var ks []int
	for k := 0; k <= n; k++ {
		if n <= 4096 || !(raceEnabled || testing.Short()) || k < 1024 || n-k < 1024 || k%61 == 0 {
			ks = append(ks, k)
		}
	}
	return ks
}
