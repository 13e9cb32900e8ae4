package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
)

// FuzzRedact plants a known value in arbitrary text, raw, base64, hex,
// upper-cased and split over lines, and checks that no form survives,
// whether the text is redacted at once or streamed in three writes split
// anywhere, and that both ways agree.
func FuzzRedact(f *testing.F) {
	f.Add([]byte("POSTGRES_PASSWORD=\n"), "Vq7#mZ2$kLp9!xR4", uint16(18), uint16(3), uint16(40), uint8(3), uint8(0))
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nMIIE\n"), "abcdefgh", uint16(30), uint16(1), uint16(2), uint8(0), uint8(1))
	f.Add([]byte(`{"a":"b"}`), "aaaaaaaaaaaa", uint16(5), uint16(0), uint16(9), uint8(7), uint8(2))
	f.Add([]byte("x\ny\nz"), "line1\nline2", uint16(2), uint16(4), uint16(1), uint8(5), uint8(3))
	f.Add([]byte("db:\n  password: |\n    a\n    b\n  user: x\n"), "s3cretValue", uint16(24), uint16(20), uint16(33), uint8(4), uint8(1))
	f.Add([]byte("run --password x -v\nrequirepass y\nDB_PASS=z\n"), "Pa55w0rdPa55", uint16(15), uint16(8), uint16(30), uint8(2), uint8(2))
	f.Fuzz(func(t *testing.T, text []byte, secret string, at, s1, s2 uint16, cut, brk uint8) {
		if !plantable(secret) {
			return
		}
		r, err := New([][]byte{[]byte(secret)}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		forms := []string{
			secret,
			base64.StdEncoding.EncodeToString([]byte(secret)),
			hex.EncodeToString([]byte(secret)),
			strings.ToUpper(hex.EncodeToString([]byte(secret))),
			strings.ToUpper(secret),
		}
		// Split by a line break, unless the value has line breaks of its
		// own, blanks the break's indentation would take, or a final
		// backslash a continuation could take (doc.go).
		breaks := []string{"\n", "\r\n  ", "\\\n", "\n\t"}
		at2 := 1 + int(cut)%(len(secret)-1)
		if !strings.ContainsAny(secret, "\r\n") && !strings.ContainsAny(secret[at2:at2+1], " \t") && !strings.HasSuffix(secret, "\\") {
			forms = append(forms, secret[:at2]+breaks[int(brk)%len(breaks)]+secret[at2:])
		}
		pos := int(at) % (len(text) + 1)
		in := bytes.Join([][]byte{text[:pos], []byte(forms[0]), text[pos:], []byte(" " + strings.Join(forms[1:], " ") + "\n")}, nil)
		out, counts := r.Redact(in)
		for _, form := range forms {
			if bytes.Contains(out, []byte(form)) {
				t.Fatalf("secret %q survived as %q in %q", secret, form, out)
			}
		}
		// RedactLines keeps every line, so a value's own line breaks stay.
		lines, lineCounts := r.RedactLines(bytes.Split(in, []byte("\n")))
		joined := bytes.Join(lines, []byte("\n"))
		for _, form := range forms {
			if !strings.ContainsAny(secret, "\r\n") && bytes.Contains(joined, []byte(form)) {
				t.Fatalf("secret %q survived RedactLines as %q in %q", secret, form, joined)
			}
		}
		if fmt.Sprint(lineCounts) != fmt.Sprint(counts) {
			t.Fatalf("RedactLines counts %v, Redact %v", lineCounts, counts)
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
// able to be rebuilt from replacement text in any letter case (doc.go
// explains).
func plantable(secret string) bool {
	if len(secret) < MinKnownLength || strings.ContainsAny(secret, "[]") {
		return false
	}
	for k := range priority {
		if strings.Contains(strings.ToUpper(Replacement(k)), strings.ToUpper(secret)) {
			return false
		}
	}
	return true
}
