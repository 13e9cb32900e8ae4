package redact

import "regexp"

// Private key blocks are redacted whole, from BEGIN to END, in any PEM
// flavour: PKCS#8, PKCS#1 RSA, SEC1 EC, ENCRYPTED, OPENSSH and PGP
// "PRIVATE KEY BLOCK". Public certificates, CSRs and public keys stay:
// they are public by design and needed to diagnose TLS (expiry, names,
// chains).
//
// A block's body is base64, PEM headers and line breaks, raw or escaped
// as \n inside JSON strings (pemBody). A BEGIN line without a matching END
// (a truncated log) is redacted as far as the body characters go.
const (
	pemBegin = `-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`
	pemEnd   = `-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----`
	pemBody  = `[A-Za-z0-9+/=\s\\:,.\-]`

	// pemEndMax bounds the length of an END line, for split detection.
	pemEndMax = 64
)

var (
	pemBeginRe    = regexp.MustCompile(pemBegin)
	pemCompleteRe = regexp.MustCompile(`^` + pemBegin + pemBody + `*?` + pemEnd)
	pemEndRe      = regexp.MustCompile(pemEnd)
)

// isPEMBody reports whether c can occur inside a private key block.
func isPEMBody(c byte) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '+', '/', '=', ' ', '\t', '\n', '\r', '\v', '\f', '\\', ':', ',', '.', '-':
		return true
	}
	return false
}

// bodyEnd returns the index of the first byte at or after i that cannot
// be part of a block body, or len(b).
func bodyEnd(b []byte, i int) int {
	for i < len(b) && isPEMBody(b[i]) {
		i++
	}
	return i
}

// pemSpans appends the private key blocks in b. Unless final, a block
// whose body still runs at the end of b may continue in later input: it is
// returned as open (else none) and nothing after it is examined.
func pemSpans(b []byte, final bool, out []span) ([]span, openBlock) {
	next := 0
	for next < len(b) {
		loc := pemBeginRe.FindIndex(b[next:])
		if loc == nil {
			break
		}
		start := next + loc[0]
		if m := pemCompleteRe.FindIndex(b[start:]); m != nil {
			out = append(out, span{start: start, end: start + m[1], kind: KindPrivateKey})
			next = start + m[1]
			continue
		}
		end := bodyEnd(b, next+loc[1])
		if end == len(b) && !final {
			return out, openBlock{at: start, resume: len(b)}
		}
		out = append(out, span{start: start, end: end, kind: KindPrivateKey})
		next = end
	}
	return out, noBlock
}
