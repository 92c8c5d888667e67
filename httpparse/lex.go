package httpparse

import "bytes"

// Byte classes, as bit flags in one table so a loop tests a class with one
// load and one AND.
const (
	cToken      = 1 << iota // tchar (RFC 9110 §5.6.2): methods and header names
	cTarget                 // allowed unescaped in a request-target (RFC 3986 + '%')
	cHost                   // allowed in a registered name (RFC 3986 unreserved / sub-delims)
	cHex                    // HEXDIG
	cUnreserved             // RFC 3986 unreserved: what an IPv6 zone ID holds (RFC 6874)
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
	set(unreserved, cUnreserved)
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

// nextElement splits the first element off a comma-separated list (RFC 9110
// §5.6.1) and returns it, OWS trimmed, and the rest of the list. The element
// may be empty. Quoted strings are not parsed: a comma inside one splits it.
func nextElement(v []byte) (elem, rest []byte) {
	if i := bytes.IndexByte(v, ','); i >= 0 {
		return trimOWS(v[:i]), v[i+1:]
	}
	return trimOWS(v), nil
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
// an IP-literal (see validIPLiteral), or a non-empty registered name (which
// covers IPv4 addresses) of unreserved and sub-delims characters; then
// optionally ':' and decimal digits. Percent-encoding outside a zone ID,
// userinfo and IPvFuture are not accepted. The empty string is not valid;
// callers decide about it.
func validHost(h []byte) bool {
	if len(h) == 0 {
		return false
	}
	var port []byte
	if h[0] == '[' {
		end := bytes.IndexByte(h, ']')
		if end < 0 || !validIPLiteral(h[1:end]) {
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

// validAuthorityForm reports whether t is authority-form (RFC 9112 §3.2.3),
// the target of CONNECT: uri-host ":" port, the host as validHost takes it
// and the port present and not empty (RFC 9110 §9.3.6: there is no default
// port).
func validAuthorityForm(t []byte) bool {
	if !validHost(t) {
		return false
	}
	// validHost allows ':' only before the port, and in an IP-literal.
	i := bytes.LastIndexByte(t, ':')
	return i > bytes.LastIndexByte(t, ']') && i+1 < len(t)
}

// validIPLiteral reports whether s, the inside of an IP-literal's brackets,
// is an IPv6 address (validIPv6), optionally followed by "%25" and a zone ID
// (RFC 6874 §2: IPv6addrz = IPv6address "%25" ZoneID, as in
// "[fe80::1%25en0]"). A bare '%' does not introduce a zone.
//
// RFC 6874 allows a zone ID of unreserved characters and any percent-encoded
// octets; we take the percent-encoded ones only when they decode to an
// unreserved character or a space (Windows names interfaces "Ethernet 2").
// So a zone cannot smuggle in a control byte, a delimiter such as '/' or
// '%', or non-ASCII; net/url holds zones to a similar rule.
func validIPLiteral(s []byte) bool {
	i := bytes.IndexByte(s, '%')
	if i < 0 {
		return validIPv6(s)
	}
	if !validIPv6(s[:i]) || len(s)-i < len("%25x") || s[i+1] != '2' || s[i+2] != '5' {
		return false
	}
	for z := s[i+3:]; len(z) > 0; {
		switch {
		case class[z[0]]&cUnreserved != 0:
			z = z[1:]
		case z[0] == '%' && len(z) >= 3 && isHex(z[1]) && isHex(z[2]):
			if c := unhex(z[1])<<4 | unhex(z[2]); class[c]&cUnreserved == 0 && c != ' ' {
				return false
			}
			z = z[3:]
		default:
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
