package redact

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzRedact plants a known value (raw and base64) in arbitrary text and
// checks that neither form survives, whether the text is redacted at once
// or streamed in three writes split anywhere, and that both ways agree.
func FuzzRedact(f *testing.F) {
	f.Add([]byte("POSTGRES_PASSWORD=\n"), "Vq7#mZ2$kLp9!xR4", uint16(18), uint16(3), uint16(40))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMIIE\n"), "abcdefgh", uint16(30), uint16(1), uint16(2))
	f.Add([]byte(`{"a":"b"}`), "aaaaaaaaaaaa", uint16(5), uint16(0), uint16(9))
	f.Add([]byte("x\ny\nz"), "line1\nline2", uint16(2), uint16(4), uint16(1))
	f.Fuzz(func(t *testing.T, text []byte, secret string, at, s1, s2 uint16) {
		if !plantable(secret) {
			return
		}
		r, err := New([][]byte{[]byte(secret)}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		b64 := base64.StdEncoding.EncodeToString([]byte(secret))
		pos := int(at) % (len(text) + 1)
		in := bytes.Join([][]byte{text[:pos], []byte(secret), text[pos:], []byte(" "), []byte(b64)}, nil)
		out, _ := r.Redact(in)
		if bytes.Contains(out, []byte(secret)) || bytes.Contains(out, []byte(b64)) {
			t.Fatalf("secret %q survived in %q", secret, out)
		}
		i, j := int(s1)%(len(in)+1), int(s2)%(len(in)+1)
		i, j = min(i, j), max(i, j)
		got, _ := stream(t, r, in[:i], in[i:j], in[j:])
		if !bytes.Equal(got, out) {
			t.Fatalf("streamed output differs from Redact:\n got %q\nwant %q", got, out)
		}
	})
}

// plantable rejects values the guarantee does not cover: too short, or
// able to be rebuilt from replacement text (doc.go explains).
func plantable(secret string) bool {
	if len(secret) < MinKnownLength || strings.ContainsAny(secret, "[]") {
		return false
	}
	for k := range priority {
		if strings.Contains(Replacement(k), secret) {
			return false
		}
	}
	return true
}
