package redact

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// mixedInput has every kind of secret in several formats.
func mixedInput(t *testing.T) string {
	key, cert := testKeyPEM(t)
	return "POSTGRES_USER=fineract\nPOSTGRES_PASSWORD=" + dbPassword + "\n" +
		`{"value":"` + vaultSecret + `","b64":"` + base64.StdEncoding.EncodeToString([]byte(apiKey)) + `"}` + "\n" +
		"log: Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig and hvs.CAESIGqHbR9fUoYdd3Zz1iA2tF0sD7q5vV7yN\n" +
		cert + key +
		"jdbc:postgresql://db/f?password=jdbcpw123 postgres://u:urlpw@db/f secret: yaml-value\n" +
		"tail without newline " + apiKey
}

func TestWriterSplitAtEveryPoint(t *testing.T) {
	r := newRedactor(t, dbPassword, vaultSecret, apiKey)
	in := []byte(mixedInput(t))
	want, wantCounts := r.Redact(in)
	mustNotContain(t, want, dbPassword, vaultSecret, apiKey, "jdbcpw123", "urlpw", "yaml-value", "PRIVATE KEY-----\nMI")
	for i := 0; i <= len(in); i++ {
		got, counts := stream(t, r, in[:i], in[i:])
		if !bytes.Equal(got, want) || fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
			t.Fatalf("split at %d of %d:\n got %q\nwant %q\ncounts %v, want %v", i, len(in), got, want, counts, wantCounts)
		}
	}
	// One byte per Write: every boundary at once.
	pieces := make([][]byte, len(in))
	for i := range in {
		pieces[i] = in[i : i+1]
	}
	if got, _ := stream(t, r, pieces...); !bytes.Equal(got, want) {
		t.Fatalf("byte-by-byte writes:\n got %q\nwant %q", got, want)
	}
	// Random multi-way splits.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var parts [][]byte
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(97))
			parts, rest = append(parts, rest[:n]), rest[n:]
		}
		if got, _ := stream(t, r, parts...); !bytes.Equal(got, want) {
			t.Fatalf("random split: got %q", got)
		}
	}
}

func TestWriterMultiLineKnownValue(t *testing.T) {
	secret := "first line of secret\nsecond line\r\nthird"
	r := newRedactor(t, secret)
	in := []byte("a\nb\n" + secret + "\nc\n" + strings.Repeat("filler line\n", 20) + secret)
	want, _ := r.Redact(in)
	if bytes.Count(want, []byte(Replacement(KindKnownValue))) != 2 {
		t.Fatalf("Redact missed the multi-line value: %q", want)
	}
	for i := 0; i <= len(in); i++ {
		got, _ := stream(t, r, in[:i], in[i:])
		if !bytes.Equal(got, want) {
			t.Fatalf("split at %d: got %q", i, got)
		}
	}
}

func TestWriterLongPrivateKey(t *testing.T) {
	r := newRedactor(t)
	body := strings.Repeat("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpamts\n", 3*maxHold/60)
	block := "-----BEGIN PGP PRIVATE KEY BLOCK-----\n" + body + "-----END PGP PRIVATE KEY BLOCK-----\n"
	cases := map[string]string{
		"complete":           "before\n" + block + "after\n",
		"unterminated":       "before\n-----BEGIN PRIVATE KEY-----\n" + body + `"} after` + "\n",
		"unterminated, eof":  "before\n-----BEGIN PRIVATE KEY-----\n" + body,
		"two blocks":         block + "middle\n" + block,
		"end split at write": "x\n" + block + "y\n",
	}
	for name, in := range cases {
		want, wantCounts := r.Redact([]byte(in))
		if bytes.Contains(want, []byte("QUJDREVG")) {
			t.Fatalf("%s: Redact left key material", name)
		}
		for _, size := range []int{1 << 10, 4093, 60} {
			var parts [][]byte
			for rest := []byte(in); len(rest) > 0; {
				n := min(len(rest), size)
				parts, rest = append(parts, rest[:n]), rest[n:]
			}
			got, counts := stream(t, r, parts...)
			if !bytes.Equal(got, want) || fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
				t.Fatalf("%s, writes of %d: got %q (%v), want %q (%v)", name, size, trim(got), counts, trim(want), wantCounts)
			}
		}
	}
}

// TestWriterLongYAMLBlock: a block scalar longer than the Writer holds is
// replaced when seen and dropped as it streams in, with the same output
// as Redact's.
func TestWriterLongYAMLBlock(t *testing.T) {
	r := newRedactor(t, dbPassword)
	line := "    QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODkwYWJjZGVmZ2hpamts\n"
	body := strings.Repeat(line, 3*maxHold/len(line))
	long := "    " + strings.Repeat("x", 2*maxHold) + "\n"
	blank := strings.Repeat("\n", maxHold+1)
	cases := map[string]string{
		"ended by a key":          "a: 1\n  private_key: |\n" + body + "\n\n  cert: x\n" + dbPassword + "\n",
		"to the end":              "private_key: |\n" + body,
		"to the end, no newline":  "private_key: |\n" + body + "    tail",
		"CR LF":                   "password: >\r\n" + strings.ReplaceAll(body, "\n", "\r\n") + "user: x\r\n",
		"one long line":           "token: |\n" + long + body + "next: 1\n",
		"long line at the end":    "token: |\n" + body + long[:len(long)-1],
		"blank beyond the hold":   "token: |\n" + blank + "    abc\nnext: 1\n",
		"two blocks":              "token: |\n" + body + "x: 1\nsecret: |\n" + body + "y: 2\n",
		"known value in the key":  "secret: | # " + dbPassword + "\n" + body + "z: 3\n",
		"dedent with a tab first": "token: |\n" + body + "\tx: 1\n",
	}
	for name, in := range cases {
		want, wantCounts := r.Redact([]byte(in))
		if name != "blank beyond the hold" && bytes.Contains(want, []byte("QUJDREVG")) {
			t.Fatalf("%s: Redact left the block: %q", name, trim(want))
		}
		for _, size := range []int{1 << 10, 4093, 61, 1} {
			if size == 1 && len(in) > 4*maxHold {
				continue
			}
			var parts [][]byte
			for rest := []byte(in); len(rest) > 0; {
				n := min(len(rest), size)
				parts, rest = append(parts, rest[:n]), rest[n:]
			}
			got, counts := stream(t, r, parts...)
			if !bytes.Equal(got, want) || fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
				t.Fatalf("%s, writes of %d: got %q (%v), want %q (%v)", name, size, trim(got), counts, trim(want), wantCounts)
			}
		}
	}
}

// TestWriterSplitKnownValues: a known value split over lines is held
// back until it is complete, wherever the writes are cut.
func TestWriterSplitKnownValues(t *testing.T) {
	r := newRedactor(t, dbPassword, kibanaKey)
	in := []byte("start\nkey: " + kibanaKey[:10] + "\n    " + kibanaKey[10:30] + "\\\n" + kibanaKey[30:] + "\n" +
		strings.Repeat("filler\n", 30) + "password=xyz" + dbPassword[:5] + "\r\n" + dbPassword[5:] + " end\n" +
		b64(kibanaKey)[:20] + "\n" + b64(kibanaKey)[20:] + "\n")
	want, wantCounts := r.Redact(in)
	mustNotContain(t, want, kibanaKey[:10], kibanaKey[10:30], kibanaKey[30:], dbPassword[5:], "xyz", b64(kibanaKey)[:20])
	if wantCounts[KindKnownValue] != 3 {
		t.Fatalf("Redact counts %v in %q", wantCounts, want)
	}
	for i := 0; i <= len(in); i++ {
		got, counts := stream(t, r, in[:i], in[i:])
		if !bytes.Equal(got, want) || fmt.Sprint(counts) != fmt.Sprint(wantCounts) {
			t.Fatalf("split at %d:\n got %q\nwant %q", i, got, want)
		}
	}
	pieces := make([][]byte, len(in))
	for i := range in {
		pieces[i] = in[i : i+1]
	}
	if got, _ := stream(t, r, pieces...); !bytes.Equal(got, want) {
		t.Fatalf("byte-by-byte writes:\n got %q\nwant %q", got, want)
	}
}

func trim(b []byte) string {
	if len(b) > 200 {
		return string(b[:100]) + "..." + string(b[len(b)-100:])
	}
	return string(b)
}

// TestWriterLongLine: a line longer than the Writer holds is cut, but
// never through a known value.
func TestWriterLongLine(t *testing.T) {
	r := newRedactor(t, dbPassword)
	var in bytes.Buffer
	for in.Len() < 3*maxLine {
		in.WriteString(strings.Repeat("x", 997))
		in.WriteString(dbPassword)
	}
	in.WriteString("\n")
	want, wantCounts := r.Redact(in.Bytes())
	for _, size := range []int{4096, 65536 + 7} {
		var parts [][]byte
		for rest := in.Bytes(); len(rest) > 0; {
			n := min(len(rest), size)
			parts, rest = append(parts, rest[:n]), rest[n:]
		}
		got, counts := stream(t, r, parts...)
		mustNotContain(t, got, dbPassword)
		if !bytes.Equal(got, want) || counts[KindKnownValue] != wantCounts[KindKnownValue] {
			t.Fatalf("writes of %d: output differs from Redact (%v vs %v)", size, counts, wantCounts)
		}
	}
}

func TestWriterErrors(t *testing.T) {
	r := newRedactor(t)
	w := r.NewWriter(failWriter{})
	if _, err := w.Write([]byte("line one\n")); err == nil {
		t.Fatal("write error not reported")
	}
	if _, err := w.Write([]byte("more\n")); err == nil {
		t.Fatal("write error not sticky")
	}
	if err := w.Close(); err == nil {
		t.Fatal("close after a failed write succeeded")
	}
	var out bytes.Buffer
	w = r.NewWriter(&out)
	w.Write([]byte("no newline yet"))
	if out.Len() != 0 {
		t.Fatal("an incomplete line was passed on before Close")
	}
	if err := w.Close(); err != nil || out.String() != "no newline yet" {
		t.Fatalf("close: %v, %q", err, out.String())
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := w.Write([]byte("x")); err == nil {
		t.Fatal("write after close succeeded")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }
