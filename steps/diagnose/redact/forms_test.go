package redact

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestKnownValuesInOtherForms: a known value is found hex-encoded,
// upper- or lower-cased, and split over lines by wrapping, indentation or
// a continuation character, alone or in its encoded forms.
func TestKnownValuesInOtherForms(t *testing.T) {
	r := newRedactor(t, dbPassword, kibanaKey)
	R := Replacement(KindKnownValue)
	split := func(s string, at int, brk string) string { return s[:at] + brk + s[at:] }
	cases := map[string]struct{ in, want string }{
		"hex":                {"blob=" + hex.EncodeToString([]byte(kibanaKey)) + "\n", "blob=" + R + "\n"},
		"upper-case hex":     {"0x" + strings.ToUpper(hex.EncodeToString([]byte(dbPassword))) + " end", "0x" + R + " end"},
		"hex inside hex":     {"data " + hex.EncodeToString([]byte("prefix:"+kibanaKey+":suffix")) + "\n", "data " + hex.EncodeToString([]byte("prefix:")) + R + hex.EncodeToString([]byte(":suffix")) + "\n"},
		"upper-cased":        {"KEY IS " + strings.ToUpper(kibanaKey) + ".\n", "KEY IS " + R + ".\n"},
		"lower-cased":        {"key is " + strings.ToLower(kibanaKey) + ".\n", "key is " + R + ".\n"},
		"wrapped":            {"k=" + split(kibanaKey, 20, "\n") + "\nnext\n", "k=" + R + "\nnext\n"},
		"wrapped CR LF":      {"k=" + split(kibanaKey, 1, "\r\n") + "\r\n", "k=" + R + "\r\n"},
		"indented":           {"  value: " + split(kibanaKey, 30, "\n         ") + "\n", "  value: " + R + "\n"},
		"tab continuation":   {"at " + split(kibanaKey, 47, "\n\t") + " x", "at " + R + " x"},
		"shell continuation": {"export K=" + split(kibanaKey, 10, "\\\n    ") + "\n", "export K=" + R + "\n"},
		"wrapped twice":      {split(split(kibanaKey, 16, "\n"), 33, "\n") + "\n", R + "\n"},
		"wrapped base64": {"b64: " + split(b64(kibanaKey), 40, "\n      ") + "\n",
			"b64: " + R + "\n"},
		"wrapped hex": {split(hex.EncodeToString([]byte(dbPassword)), 7, "\n") + "\n", R + "\n"},
	}
	for name, c := range cases {
		got, counts := r.RedactString(c.in)
		if got != c.want || counts[KindKnownValue] != strings.Count(c.want, R) {
			t.Errorf("%s:\n in  %q\n got %q (%v)\nwant %q", name, c.in, got, counts, c.want)
		}
		if out, _ := stream(t, r, []byte(c.in[:len(c.in)/2]), []byte(c.in[len(c.in)/2:])); string(out) != got {
			t.Errorf("%s: the Writer gives %q, Redact %q", name, out, got)
		}
		if !r.HasKnownValue([]byte(c.in)) {
			t.Errorf("%s: HasKnownValue misses %q", name, c.in)
		}
	}
	// A line break between unrelated words is not a split value.
	if in := "Vq7#mZ2$\n\nkLp9!xR4 and " + kibanaKey[:24] + "\n\n" + kibanaKey[24:]; r.HasKnownValue([]byte(in)) {
		t.Errorf("a value broken by a blank line was joined: %q", in)
	}
}

// TestSpacedFlagsAndDirectives: a secret after a flag or a Redis directive
// and a blank, as command lines, docker inspect's Cmd and Redis
// configuration write it.
func TestSpacedFlagsAndDirectives(t *testing.T) {
	r := newRedactor(t)
	S := Replacement(KindAssignment)
	cases := []struct{ in, want string }{
		{"java -jar app.jar --password hunter2hunter2 --port 8443", "java -jar app.jar --password " + S + " --port 8443"},
		{"run --db-password 'with space' -v", "run --db-password '" + S + "' -v"},
		{"redis-cli --pass abc123 ping", "redis-cli --pass " + S + " ping"},
		{`"Cmd": ["redis-server", "--requirepass", "abc123"]`, `"Cmd": ["redis-server", "--requirepass", "` + S + `"]`},
		{`"Cmd":["kc.sh","--db-password","x9y8z7"]`, `"Cmd":["kc.sh","--db-password","` + S + `"]`},
		{"keytool -importcert -storepass changeit -noprompt", "keytool -importcert -storepass " + S + " -noprompt"},
		{"openssl pkcs12 -export -passout pass:s3cret -out x.p12", "openssl pkcs12 -export -passout " + S + " -out x.p12"},
		{"requirepass foobared123\n", "requirepass " + S + "\n"},
		{"masterauth \"quoted pw\"\n", "masterauth \"" + S + "\"\n"},
		{"redis-cli CONFIG SET requirepass n3wpass", "redis-cli CONFIG SET requirepass " + S},
		{`1700000000.1 [0 172.20.0.5:4242] "config" "set" "requirepass" "n3wpass"`, `1700000000.1 [0 172.20.0.5:4242] "config" "set" "requirepass" "` + S + `"`},
	}
	for _, c := range cases {
		if got, counts := r.RedactString(c.in); got != c.want || counts[KindAssignment] != strings.Count(c.want, S) {
			t.Errorf("\n in  %q\n got %q (%v)\nwant %q", c.in, got, counts, c.want)
		}
	}
}

// TestShortKeys: pass and pwd name a secret as a key of their own or as
// the last part of one; the shell's PWD and prose stay.
func TestShortKeys(t *testing.T) {
	r := newRedactor(t)
	S := Replacement(KindAssignment)
	cases := []struct{ in, want string }{
		{"DB_PASS=abc123\n", "DB_PASS=" + S + "\n"},
		{"DATA_SOURCE_PASS=abc123 TZ=UTC", "DATA_SOURCE_PASS=" + S + " TZ=UTC"},
		{"redis.pass: xyz\n", "redis.pass: " + S + "\n"},
		{`{"user":"app","pass":"p4ss w0rd"}`, `{"user":"app","pass":"` + S + `"}`},
		{`{"pwd":"abc"}`, `{"pwd":"` + S + `"}`},
		{"login?user=app&pass=abc&x=1", "login?user=app&pass=" + S + "&x=1"},
		{"pwd=abc123", "pwd=" + S},
		{"db:\n  pass: xyz\n  - pwd: abc\n", "db:\n  pass: " + S + "\n  - pwd: " + S + "\n"},
		// kept
		{"PWD=/root\nOLDPWD=/\n", "PWD=/root\nOLDPWD=/\n"},
		{"2026-11-23 INFO 42 tests pass: all green\n", "2026-11-23 INFO 42 tests pass: all green\n"},
		{"bypass=true compass=north bypass_cache=1\n", "bypass=true compass=north bypass_cache=1\n"},
		{"--password-file /run/secrets/db --no-password --verbose\n", "--password-file /run/secrets/db --no-password --verbose\n"},
		{`REDISCLI_AUTH="$$(cat /run/secrets/password)" redis-cli -p 6379 ping`, `REDISCLI_AUTH="$$(cat /run/secrets/password)" redis-cli -p 6379 ping`},
		{`KC_DB_PASSWORD="$(< /run/secrets/db_password)"`, `KC_DB_PASSWORD="$(< /run/secrets/db_password)"`},
	}
	for _, c := range cases {
		if got, _ := r.RedactString(c.in); got != c.want {
			t.Errorf("\n in  %q\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// TestYAMLBlockScalars: the indented lines of a block scalar under a
// secret key are redacted as one value, up to the first line indented no
// deeper than the key.
func TestYAMLBlockScalars(t *testing.T) {
	r := newRedactor(t)
	S := Replacement(KindAssignment)
	key, _ := testKeyPEM(t)
	indented := "      " + strings.ReplaceAll(strings.TrimSuffix(key, "\n"), "\n", "\n      ")
	cases := []struct{ name, in, want string }{
		{"literal", "db:\n  password: |\n    line one\n    line two\n  user: app\n", "db:\n  password: |\n    " + S + "\n  user: app\n"},
		{"folded, chomping, comment", "secret: >- # rotated\n  abc\n  def\n\nnext: 1\n", "secret: >- # rotated\n  " + S + "\nnext: 1\n"},
		{"list item, indentation indicator", "- client_secret: |2\n    abc\n- name: x\n", "- client_secret: |2\n    " + S + "\n- name: x\n"},
		{"quoted key, blank lines", "\"api_key\": |\n\n   abc\n\n   def\n\nother: 1\n", "\"api_key\": |\n\n   " + S + "\nother: 1\n"},
		{"to the end", "token: |\n  abc\n  def\n", "token: |\n  " + S + "\n"},
		{"to the end without line break", "token: |\n  abc", "token: |\n  " + S},
		{"CR LF", "pass: |\r\n  abc\r\n  def\r\nuser: x\r\n", "pass: |\r\n  " + S + "\r\nuser: x\r\n"},
		{"private key inside", "tls:\n  private_key: |\n" + indented + "\n  cert: x\n", "tls:\n  private_key: |\n      " + Replacement(KindPrivateKey) + "\n  cert: x\n"},
		// kept
		{"empty block", "password: |\nuser: app\n", "password: |\nuser: app\n"},
		{"not a secret key", "description: |\n  some text\n", "description: |\n  some text\n"},
		{"indicator with text", "note: password: | is not a header\n  x\n", "note: password: | is not a header\n  x\n"},
	}
	for _, c := range cases {
		got, _ := r.RedactString(c.in)
		if got != c.want {
			t.Errorf("%s:\n in  %q\n got %q\nwant %q", c.name, c.in, got, c.want)
		}
		for i := 0; i <= len(c.in); i++ {
			if out, _ := stream(t, r, []byte(c.in[:i]), []byte(c.in[i:])); string(out) != got {
				t.Fatalf("%s, split at %d: the Writer gives %q, Redact %q", c.name, i, out, got)
			}
		}
	}
}

// TestRedactLines: lines are redacted as one text and given back one for
// one, so what a caller keeps per line (a timestamp) can go back in front.
func TestRedactLines(t *testing.T) {
	r := newRedactor(t, kibanaKey)
	K, S := Replacement(KindKnownValue), Replacement(KindAssignment)
	in := []string{"start", "key: " + kibanaKey[:10], "    " + kibanaKey[10:] + " tail", "password: |", "  a", "  b", "user: x", ""}
	want := []string{"start", "key: " + K, " tail", "password: |", "  " + S, "", "user: x", ""}
	lines := make([][]byte, len(in))
	for i, l := range in {
		lines[i] = []byte(l)
	}
	got, counts := r.RedactLines(lines)
	if len(got) != len(want) {
		t.Fatalf("%d lines back, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("line %d: %q, want %q", i, got[i], want[i])
		}
	}
	if counts[KindKnownValue] != 1 || counts[KindAssignment] != 1 || counts.Total() != 2 {
		t.Errorf("counts %v", counts)
	}
	if got, _ := r.RedactLines(nil); len(got) != 0 {
		t.Errorf("no lines: %q", got)
	}
}
