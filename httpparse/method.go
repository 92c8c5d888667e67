package httpparse

import "strconv"

// Method is a request method, as Parse classifies it. The parser accepts any
// method that is a token (RFC 9110 §9.1: 1*tchar) and names the standard ones;
// every other token is MethodOther. What a method means for a resource (served,
// 405 Method Not Allowed, 501 Not Implemented) is the server's decision.
//
// Methods are case-sensitive (RFC 9110 §9.1): "get" is MethodOther, not
// MethodGet.
//
// Its underlying type is int, not a byte, so that go vet reports
// string(req.Method) (a one-rune string) in code written against the time
// when Request.Method held the token's bytes; the bytes are now RawMethod.
type Method int

// The methods Parse names: those of RFC 9110 §9.3 and PATCH (RFC 5789).
const (
	MethodOther   Method = iota // any other token; the zero value. Request.RawMethod has it.
	MethodGet                   // GET
	MethodHead                  // HEAD
	MethodOptions               // OPTIONS
	MethodPost                  // POST
	MethodPut                   // PUT
	MethodDelete                // DELETE
	MethodPatch                 // PATCH
	MethodConnect               // CONNECT
	MethodTrace                 // TRACE
)

// methodNames holds each named method's token, indexed by Method.
var methodNames = [...]string{
	MethodOther:   "other",
	MethodGet:     "GET",
	MethodHead:    "HEAD",
	MethodOptions: "OPTIONS",
	MethodPost:    "POST",
	MethodPut:     "PUT",
	MethodDelete:  "DELETE",
	MethodPatch:   "PATCH",
	MethodConnect: "CONNECT",
	MethodTrace:   "TRACE",
}

// String returns the method's token, e.g. "GET". For MethodOther it returns
// "other", which stands for every token the package does not name: the
// token itself is in Request.RawMethod.
func (m Method) String() string {
	if m >= 0 && int(m) < len(methodNames) {
		return methodNames[m]
	}
	return "Method(" + strconv.Itoa(int(m)) + ")"
}

// methodOf classifies a method token, matching it exactly (case-sensitive).
// It does not allocate: the compiler turns a switch on string(b) into
// comparisons without a conversion.
func methodOf(b []byte) Method {
	switch string(b) {
	case "GET":
		return MethodGet
	case "HEAD":
		return MethodHead
	case "OPTIONS":
		return MethodOptions
	case "POST":
		return MethodPost
	case "PUT":
		return MethodPut
	case "DELETE":
		return MethodDelete
	case "PATCH":
		return MethodPatch
	case "CONNECT":
		return MethodConnect
	case "TRACE":
		return MethodTrace
	}
	return MethodOther
}
