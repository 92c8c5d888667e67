package httpparse

import "bytes"

// Byte classes, as bit flags in one table so a loop tests a class with one
// load and one AND.
const (
	cToken  = 1 << iota // tchar (RFC 9110 §5.6.2): methods and header names
	cTarget             // allowed unescaped in a request-target (RFC 3986 + '%')
	cHost               // allowed in a registered name (RFC 3986 unreserved / sub-delims)
	cHex                // HEXDIG
)

var class = func() (t [256]uint8) {
	set := func(chars string, c uint8) {
		for i := 0; i < len(chars); i++ {
			t[chars[i]] |= c
		}
	}
	const (
		alpha      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		digit      = "0123456789"
		unreserved = alpha + digit + "-._~"
		subDelims  = "!$&'()*+,;="
	)
	set(alpha+digit+"!#$%&'*+-.^_`|~", cToken)
	set(unreserved+subDelims+":@/?%[]", cTarget)
	set(unreserved+subDelims, cHost)
	set(digit+"ABCDEFabcdef", cHex)
	return t
}()

func isToken(c byte) bool { return class[c]&cToken != 0 }
func isHex(c byte) bool   { return class[c]&cHex != 0 }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	default:
		return c - 'a' + 10
	}
}

// equalFold reports whether b equals s ignoring ASCII case. s must be lower
// case or contain no letters where b may differ.
func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := 0; i < len(b); i++ {
		c, d := b[i], s[i]
		if c == d {
			continue
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if 'A' <= d && d <= 'Z' {
			d += 'a' - 'A'
		}
		if c != d {
			return false
		}
	}
	return true
}

// trimOWS trims optional whitespace (SP, HTAB) from both ends of b.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// validHost reports whether h is uri-host [":" port] (RFC 3986 §3.2.2-3):
// an IPv6 address in brackets, or a non-empty registered name (which covers
// IPv4 addresses) of unreserved and sub-delims characters; then optionally
// ':' and decimal digits. Percent-encoding, userinfo, zone identifiers and
// IPvFuture are not accepted. The empty string is not valid; callers decide
// about it.
func validHost(h []byte) bool {
	if len(h) == 0 {
		return false
	}
	var port []byte
	if h[0] == '[' {
		end := bytes.IndexByte(h, ']')
		if end < 0 || !validIPv6(h[1:end]) {
			return false
		}
		port = h[end+1:]
	} else {
		i := 0
		for i < len(h) && class[h[i]]&cHost != 0 {
			i++
		}
		if i == 0 {
			return false
		}
		port = h[i:]
	}
	if len(port) == 0 {
		return true
	}
	if port[0] != ':' {
		return false
	}
	for _, c := range port[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validIPv6 reports whether s is an IPv6address of RFC 3986 §3.2.2: eight
// groups of one to four hex digits separated by ':', of which the last two
// may be a dotted IPv4 address, and one "::" may stand for one or more
// groups of zeros.
func validIPv6(s []byte) bool {
	groups, ellipsis := 0, false
	i := 0
	if len(s) >= 2 && s[0] == ':' && s[1] == ':' {
		ellipsis = true
		i = 2
	}
	for i < len(s) {
		j := i
		for j < len(s) && j-i < 4 && isHex(s[j]) {
			j++
		}
		if j == i {
			return false
		}
		if j < len(s) && s[j] == '.' {
			if !validIPv4(s[i:]) {
				return false
			}
			groups += 2
			break
		}
		groups++
		i = j
		if i == len(s) {
			break
		}
		if s[i] != ':' || i+1 == len(s) {
			return false // a group too long, a stray byte, or a trailing ':'
		}
		i++
		if s[i] == ':' {
			if ellipsis {
				return false
			}
			ellipsis = true
			i++
		}
	}
	if ellipsis {
		return groups <= 7
	}
	return groups == 8
}

// validIPv4 reports whether s is four dec-octets (RFC 3986 §3.2.2: 0-255,
// no leading zeros) separated by '.'.
func validIPv4(s []byte) bool {
	for part := range 4 {
		if part > 0 {
			if len(s) == 0 || s[0] != '.' {
				return false
			}
			s = s[1:]
		}
		n, digits := 0, 0
		for digits < len(s) && '0' <= s[digits] && s[digits] <= '9' {
			n = n*10 + int(s[digits]-'0')
			digits++
			if digits > 3 {
				return false
			}
		}
		if digits == 0 || n > 255 || digits > 1 && s[0] == '0' {
			return false
		}
		s = s[digits:]
	}
	return len(s) == 0
}
