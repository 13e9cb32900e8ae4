package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
)

// MinKnownLength is the shortest known value accepted without
// Options.AllowShort: shorter strings occur by chance in ordinary text.
const MinKnownLength = 8

// minCoreLength is the shortest base64 fragment searched for on its own.
const minCoreLength = 10

// variants returns the forms in which v may appear in text: raw, upper-
// and lower-cased, hex (lower and upper case), base64 (standard and URL
// alphabets, padded and not, and the fragments that appear when v is
// encoded inside a longer value), URL-encoded and JSON-escaped. Line
// breaks inside any of them are handled by the search (fold.go).
func variants(v []byte) [][]byte {
	out := [][]byte{v}
	add := func(s string) {
		if s == "" {
			return
		}
		for _, have := range out {
			if string(have) == s {
				return
			}
		}
		out = append(out, []byte(s))
	}
	add(strings.ToUpper(string(v)))
	add(strings.ToLower(string(v)))
	add(hex.EncodeToString(v))
	add(strings.ToUpper(hex.EncodeToString(v)))
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
		add(enc.EncodeToString(v))
		add(enc.WithPadding(base64.NoPadding).EncodeToString(v))
		if len(v) >= MinKnownLength {
			for shift := range 3 {
				add(base64Core(enc, v, shift))
			}
		}
	}
	s := string(v)
	for _, e := range []string{url.QueryEscape(s), url.PathEscape(s)} {
		add(e)
		add(lowerHexEscapes(e))
	}
	add(jsonEscape(s, true))
	add(jsonEscape(s, false))
	add(strings.ReplaceAll(jsonEscape(s, false), "/", `\/`))
	return out
}

// base64Core returns the characters of the base64 encoding of v that do
// not depend on the shift bytes before it or the bytes after it, i.e.
// what is always there when v is encoded inside a longer value at an
// offset of shift modulo 3.
func base64Core(enc *base64.Encoding, v []byte, shift int) string {
	full := enc.WithPadding(base64.NoPadding).EncodeToString(append(make([]byte, shift), v...))
	start := (8*shift + 5) / 6      // first character made only of v's bits
	end := 8 * (shift + len(v)) / 6 // characters complete before v ends
	if end-start < minCoreLength {
		return ""
	}
	return full[start:end]
}

var hexEscape = regexp.MustCompile(`%[0-9A-F]{2}`)

func lowerHexEscapes(s string) string {
	return hexEscape.ReplaceAllStringFunc(s, strings.ToLower)
}

// jsonEscape returns s as it appears inside a JSON string.
func jsonEscape(s string, escapeHTML bool) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(escapeHTML)
	_ = enc.Encode(s) // a string always encodes
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return string(b[1 : len(b)-1])
}
