package httpparse

import "errors"

// Error is a final parse failure: the server answers with Status and closes
// the connection. Msg never contains bytes from the request, so it is safe
// to send back to the client.
type Error struct {
	Status int    // HTTP status code to answer with
	Msg    string // fixed text, prefixed "httpparse: "
}

// Error returns e.Msg.
func (e *Error) Error() string { return e.Msg }

// The errors Parse returns. ErrNeedMore is the only one that is not final;
// every other is an *Error, to be told apart with errors.Is or unpacked with
// errors.As for its Status.
var (
	// ErrNeedMore means the head is incomplete: keep the bytes and call Parse
	// again with them and whatever arrives next.
	ErrNeedMore = errors.New("httpparse: need more data")

	// Request line.
	ErrBadRequestLine      = &Error{400, "httpparse: malformed request line"}
	ErrBadMethod           = &Error{400, "httpparse: method is not a token"}
	ErrBadTarget           = &Error{400, "httpparse: malformed request-target"}
	ErrUnsupportedTarget   = &Error{400, "httpparse: unsupported request-target form"}
	ErrBadEscape           = &Error{400, "httpparse: malformed percent-encoding in request-target"}
	ErrTooManyParams       = &Error{400, "httpparse: too many query parameters"}
	ErrTargetTooLong       = &Error{414, "httpparse: request-target too long"}
	ErrBadVersion          = &Error{400, "httpparse: malformed HTTP version"}
	ErrVersionNotSupported = &Error{505, "httpparse: HTTP version not supported"}

	// Line structure.
	ErrBareCR = &Error{400, "httpparse: CR not followed by LF"}
	ErrBareLF = &Error{400, "httpparse: line ends in LF without CR"}

	// Header fields.
	ErrBadHeaderName     = &Error{400, "httpparse: malformed header name"}
	ErrSpaceBeforeColon  = &Error{400, "httpparse: whitespace between header name and colon"}
	ErrObsFold           = &Error{400, "httpparse: header line begins with whitespace (obs-fold)"}
	ErrBadHeaderValue    = &Error{400, "httpparse: control character in header value"}
	ErrMissingHost       = &Error{400, "httpparse: HTTP/1.1 request without Host header"}
	ErrDuplicateHost     = &Error{400, "httpparse: more than one Host header"}
	ErrBadHost           = &Error{400, "httpparse: malformed Host header"}
	ErrExpectationFailed = &Error{417, "httpparse: Expect holds an expectation other than 100-continue"}
	ErrBadContentLength  = &Error{400, "httpparse: malformed Content-Length"}
	ErrDuplicateLength   = &Error{400, "httpparse: more than one Content-Length header"}
	ErrBodyNotAccepted   = &Error{413, "httpparse: request bodies are not accepted"}
	ErrHeadTooLarge      = &Error{431, "httpparse: request head too large"}
	ErrTooManyHeaders    = &Error{431, "httpparse: too many header fields"}
)
