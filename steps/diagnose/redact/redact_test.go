package redact

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"strings"
	"testing"
)

func TestNewRefusesShortAndEmptyValues(t *testing.T) {
	if _, err := New([][]byte{[]byte("abc1234")}, Options{}); err == nil || !strings.Contains(err.Error(), "shorter than 8") {
		t.Fatalf("7-byte value: %v", err)
	}
	if _, err := New([][]byte{[]byte("longenough"), nil}, Options{AllowShort: true}); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty value: %v", err)
	}
	r, err := New([][]byte{[]byte("pw1")}, Options{AllowShort: true})
	if err != nil {
		t.Fatalf("forced short value: %v", err)
	}
	if out, _ := r.RedactString("x pw1 y"); out != "x [REDACTED:known-value] y" {
		t.Fatalf("forced short value not redacted: %q", out)
	}
	if _, err := New(nil, Options{}); err != nil {
		t.Fatalf("patterns only: %v", err)
	}
}

func TestKnownValuesInContext(t *testing.T) {
	r := newRedactor(t, dbPassword, vaultSecret, apiKey)
	R := Replacement(KindKnownValue)
	cases := []struct{ in, want string }{
		{"POSTGRES_USER=fineract\nFINERACT_DB_PASS=" + dbPassword + "\nTZ=UTC\n", "POSTGRES_USER=fineract\nFINERACT_DB_PASS=" + R + "\nTZ=UTC\n"},
		{"2026-11-23T10:00:00Z INFO connecting with " + dbPassword + " to db\n", "2026-11-23T10:00:00Z INFO connecting with " + R + " to db\n"},
		{`{"data":{"value":"` + vaultSecret + `"},"lease":0}`, `{"data":{"value":"` + R + `"},"lease":0}`},
		{"db:\n  pass: '" + dbPassword + "'\n  user: fineract\n", "db:\n  pass: '" + R + "'\n  user: fineract\n"},
		{"glued" + apiKey + "glued", "glued" + R + "glued"},
		{apiKey + apiKey, R + R},
		{"twice " + vaultSecret + " and " + vaultSecret, "twice " + R + " and " + R},
	}
	for _, c := range cases {
		got, counts := r.RedactString(c.in)
		if got != c.want {
			t.Errorf("in  %q\ngot  %q\nwant %q", c.in, got, c.want)
		}
		if counts[KindKnownValue] != strings.Count(c.want, R) {
			t.Errorf("%q: counts %v", c.in, counts)
		}
	}
}

func TestEncodedKnownValues(t *testing.T) {
	secret := `p@ss/w0rd+"quoted" <b>&\x y`
	r := newRedactor(t, secret, dbPassword)
	b64 := base64.StdEncoding.EncodeToString
	jsonStr := func(s string) string { b, _ := json.Marshal(s); return string(b[1 : len(b)-1]) }
	forms := map[string]string{
		"base64 std":         b64([]byte(secret)),
		"base64 raw":         base64.RawStdEncoding.EncodeToString([]byte(secret)),
		"base64 url":         base64.URLEncoding.EncodeToString([]byte(secret)),
		"base64 raw url":     base64.RawURLEncoding.EncodeToString([]byte(secret)),
		"query escape":       url.QueryEscape(secret),
		"path escape":        url.PathEscape(secret),
		"json (Go)":          jsonStr(secret),
		"json without html":  `p@ss/w0rd+\"quoted\" <b>&\\x y`,
		"json escaped slash": `p@ss\/w0rd+\"quoted\" <b>&\\x y`,
	}
	forms["lower-case hex"] = strings.NewReplacer("%2F", "%2f", "%2B", "%2b", "%3C", "%3c", "%3E", "%3e", "%5C", "%5c").Replace(url.QueryEscape(secret))
	for name, form := range forms {
		in := "before " + form + " after\n"
		got, counts := r.Redact([]byte(in))
		if string(got) != "before [REDACTED:known-value] after\n" || counts[KindKnownValue] != 1 {
			t.Errorf("%s: %q -> %q %v", name, in, got, counts)
		}
	}
	// Inside a longer base64 value at every alignment, as in a base64
	// encoded config file or a Basic auth header.
	for prefix := range 3 {
		blob := b64([]byte(strings.Repeat("x", prefix) + "password=" + dbPassword + "\nother=1\n"))
		got, counts := r.Redact([]byte("data: " + blob + "\n"))
		if counts[KindKnownValue] != 1 {
			t.Fatalf("prefix %d: %q not redacted (%v)", prefix, blob, counts)
		}
		for shift := range 3 {
			if core := base64Core(base64.StdEncoding, []byte(dbPassword), shift); strings.Contains(string(got), core) {
				t.Fatalf("prefix %d: output %q still holds a base64 fragment of the secret", prefix, got)
			}
		}
	}
}

func TestBase64CoreIsStable(t *testing.T) {
	v := []byte(dbPassword)
	for shift := range 3 {
		core := base64Core(base64.StdEncoding, v, shift)
		for _, pre := range []string{"", "a", "ab", "abc", "abcd"} {
			if len(pre)%3 != shift {
				continue
			}
			for _, post := range []string{"", "z", "zz", "\x00\xff\x10"} {
				enc := base64.StdEncoding.EncodeToString([]byte(pre + string(v) + post))
				if !strings.Contains(enc, core) {
					t.Fatalf("shift %d: core %q not in %q", shift, core, enc)
				}
			}
		}
	}
}

func TestPatterns(t *testing.T) {
	r := newRedactor(t)
	key, cert := testKeyPEM(t)
	P, V, A, J, U, S := Replacement(KindPrivateKey), Replacement(KindVaultToken), Replacement(KindAuthHeader),
		Replacement(KindJDBCPassword), Replacement(KindURLPassword), Replacement(KindAssignment)
	jsonKey, _ := json.Marshal(key)
	cases := []struct {
		name, in, want string
		kind           Kind
	}{
		{"pkcs8 key", "key:\n" + key + "done\n", "key:\n" + P + "\ndone\n", KindPrivateKey},
		{"rsa key", pemBlock("RSA PRIVATE KEY", ""), P + "\n", KindPrivateKey},
		{"legacy encrypted", pemBlock("RSA PRIVATE KEY", "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,0A1B2C3D4E5F\n\n"), P + "\n", KindPrivateKey},
		{"encrypted pkcs8", pemBlock("ENCRYPTED PRIVATE KEY", ""), P + "\n", KindPrivateKey},
		{"openssh", pemBlock("OPENSSH PRIVATE KEY", ""), P + "\n", KindPrivateKey},
		{"pgp", pemBlock("PGP PRIVATE KEY BLOCK", "Version: GnuPG v2\n\n"), P + "\n", KindPrivateKey},
		{"key in json", `{"tls_key":` + string(jsonKey) + `,"x":1}`, `{"tls_key":"` + P + `\n","x":1}`, KindPrivateKey},
		{"truncated key", "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEF\nMIIEvQ", P, KindPrivateKey},
		{"truncated key in json", `{"k":"-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE"}`, `{"k":"` + P + `"}`, KindPrivateKey},
		{"vault hvs", "token=hvs.CAESIGqHbR9fUoYdd3Zz1iA2tF0sD7q5vV7yN", "token=" + V, KindVaultToken},
		{"vault hvb", "X hvb.AAAAAQJ0aW5lcmFjdC1pbnN0YWxsZXI end", "X " + V + " end", KindVaultToken},
		{"vault legacy", "root token s.Xy7PqR2mN8bV4cZ1aS6dF3gH used", "root token " + V + " used", KindVaultToken},
		{"authorization bearer", "Authorization: Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.sig\n", "Authorization: Bearer " + A + "\n", KindAuthHeader},
		{"authorization basic", "> Authorization: Basic bWlmb3M6cGFzc3dvcmQ=\n", "> Authorization: Basic " + A + "\n", KindAuthHeader},
		{"header json", `{"Authorization":["Bearer abc.def.ghi"],"Accept":["*/*"]}`, `{"Authorization":["Bearer ` + A + `"],"Accept":["*/*"]}`, KindAuthHeader},
		{"curl", `curl -H "Authorization: Token 9f8e7d6c5b4a" https://x`, `curl -H "Authorization: Token ` + A + `" https://x`, KindAuthHeader},
		{"x-vault-token", "X-Vault-Token: anything-goes-here\n", "X-Vault-Token: " + A + "\n", KindAuthHeader},
		{"cookie", "Cookie: SID=1A2B3C4D5E6F; lang=en\n", "Cookie: " + A + "\n", KindAuthHeader},
		{"bare bearer", "sent bearer abcdEFGH1234.x to gateway", "sent bearer " + A + " to gateway", KindAuthHeader},
		{"jdbc postgres", "url=jdbc:postgresql://db:5432/fineract?user=app&password=s3cret!x&ssl=true", "url=jdbc:postgresql://db:5432/fineract?user=app&password=" + J + "&ssl=true", KindJDBCPassword},
		{"jdbc sqlserver", "jdbc:sqlserver://db:1433;databaseName=f;user=sa;password=Pa55;encrypt=true", "jdbc:sqlserver://db:1433;databaseName=f;user=sa;password=" + J + ";encrypt=true", KindJDBCPassword},
		{"jdbc oracle", "jdbc:oracle:thin:scott/tiger@db:1521:orcl", "jdbc:oracle:thin:scott/" + J + "@db:1521:orcl", KindJDBCPassword},
		{"url userinfo", "connecting to postgres://fineract:pa55word@db:5432/fineract", "connecting to postgres://fineract:" + U + "@db:5432/fineract", KindURLPassword},
		{"url empty user", "REDIS_URL=redis://:redispass@redis:6379/0", "REDIS_URL=redis://:" + U + "@redis:6379/0", KindURLPassword},
		{"url at in password", "https://u:p@ss@host/x", "https://u:" + U + "@host/x", KindURLPassword},
		{"env", "POSTGRES_PASSWORD=hunter2hunter2\n", "POSTGRES_PASSWORD=" + S + "\n", KindAssignment},
		{"env in json", `"Env":["FINERACT_DEFAULT_TENANTDB_PWD=abc123","TZ=UTC"]`, `"Env":["FINERACT_DEFAULT_TENANTDB_PWD=` + S + `","TZ=UTC"]`, KindAssignment},
		{"mysql_pwd", "MYSQL_PWD=abc123 mysql", "MYSQL_PWD=" + S + " mysql", KindAssignment},
		{"yaml", "  client_secret: s3cr3tv4lue\n", "  client_secret: " + S + "\n", KindAssignment},
		{"yaml quoted", "  password: \"with spaces inside\"\n", "  password: \"" + S + "\"\n", KindAssignment},
		{"json", `{"user":"app","password":"p\"w","port":5432}`, `{"user":"app","password":"` + S + `","port":5432}`, KindAssignment},
		{"properties", "spring.datasource.password=changeit\n", "spring.datasource.password=" + S + "\n", KindAssignment},
		{"camel case", "dbPassword=abc; apiKey=def", "dbPassword=" + S + "; apiKey=" + S, KindAssignment},
		{"flag", "java -jar app.jar --db-password=abc123 --port=8443", "java -jar app.jar --db-password=" + S + " --port=8443", KindAssignment},
		{"query", "GET /oauth?grant=x&client_secret=abc&scope=y", "GET /oauth?grant=x&client_secret=" + S + "&scope=y", KindAssignment},
		{"hcl", `secret_key = 'abc def'`, `secret_key = '` + S + `'`, KindAssignment},
		{"xml", "<jdbcPassword>xyz</jdbcPassword>", "<jdbcPassword>" + S + "</jdbcPassword>", KindAssignment},
		{"credentials", "AWS_CREDENTIALS:abc", "AWS_CREDENTIALS:" + S, KindAssignment},
	}
	for _, c := range cases {
		got, counts := r.RedactString(c.in)
		if got != c.want {
			t.Errorf("%s:\n in  %q\n got %q\nwant %q", c.name, c.in, got, c.want)
			continue
		}
		if counts.Total() != strings.Count(c.want, "[REDACTED:") || counts[c.kind] == 0 {
			t.Errorf("%s: counts %v, want %d of kind %s", c.name, counts, strings.Count(c.want, "[REDACTED:"), c.kind)
		}
	}
	// The certificate is public and stays, next to the redacted key.
	got, _ := r.RedactString(cert + key)
	if got != cert+P+"\n" {
		t.Errorf("certificate + key: got %q", got)
	}
}

// TestOrdinaryTextUnchanged: text without secrets passes byte for byte.
func TestOrdinaryTextUnchanged(t *testing.T) {
	r := newRedactor(t, dbPassword, vaultSecret, apiKey)
	_, cert := testKeyPEM(t)
	texts := []string{
		"2026-11-23 10:00:01.123 INFO  [main] o.a.f.ServerApplication : Started ServerApplication in 42.1 seconds (process running for 43.0)\n",
		"2026-11-23 10:00:02.000 WARN  Password policy updated; the token expired after 3600 seconds, 5 tokens processed\n",
		"Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user \"fineract\"\n\tat org.postgresql.core.v3.ConnectionFactoryImpl.doAuthentication(ConnectionFactoryImpl.java:693)\n",
		"PWD=/root\nOLDPWD=/\nPOSTGRES_PASSWORD_FILE=/run/secrets/postgres_password\nVAULT_TOKEN_TTL=1h\nSPRING_PROFILES_ACTIVE=basicauth\n",
		`{"Id":"3f2a9c","State":{"Status":"running","Health":{"Status":"healthy"}},"Config":{"Env":["TZ=UTC","JAVA_OPTS=-Xmx2g"]}}` + "\n",
		"services:\n  postgres:\n    image: postgres:16\n    secrets:\n      - postgres_password\n    environment:\n      POSTGRES_PASSWORD_FILE: /run/secrets/postgres_password\n",
		"listening on https://0.0.0.0:8443/fineract-provider/actuator/health?probe=1 and http://[::1]:9090/\n",
		"sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904 uuid 123e4567-e89b-12d3-a456-426614174000\n",
		"require_password: true\ntoken_required: false\npassword: ${DB_PASSWORD}\nsecret: {{ .Secret }}\napi_key: null\n",
		"the class s.Loader was loaded by com.example.services.Loader; authorization failed for user\n",
		cert,
		"-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n",
	}
	for _, in := range texts {
		got, counts := r.RedactString(in)
		if got != in || counts.Total() != 0 {
			t.Errorf("ordinary text changed (%v):\n in  %q\n got %q", counts, in, got)
		}
		if out, _ := stream(t, r, []byte(in)); string(out) != in {
			t.Errorf("ordinary text changed by the Writer: %q", out)
		}
	}
}

func TestCountsAndTotals(t *testing.T) {
	r := newRedactor(t, dbPassword, vaultSecret)
	key, _ := testKeyPEM(t)
	in := fmt.Sprintf("A_PASSWORD=%s\nB=%s\n%sX-Vault-Token: hvs.CAESIGqHbR9fUoYdd3Zz1iA2tF0sD7q5vV7yN\nsecret=plain-value\nsecret=%s\nurl=https://u:pw@h/\n",
		dbPassword, vaultSecret, key, base64.StdEncoding.EncodeToString([]byte(vaultSecret)))
	// The header holds a Vault token: one redaction, counted as the more specific kind.
	want := Counts{KindKnownValue: 3, KindPrivateKey: 1, KindVaultToken: 1, KindAssignment: 1, KindURLPassword: 1}
	_, got := r.Redact([]byte(in))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
	_, wc := stream(t, r, []byte(in[:50]), []byte(in[50:]))
	if fmt.Sprint(wc) != fmt.Sprint(want) {
		t.Fatalf("writer counts %v, want %v", wc, want)
	}
	total := r.Totals()
	if total[KindKnownValue] != 6 || total.Total() != 2*want.Total() {
		t.Fatalf("totals %v, want twice %v", total, want)
	}
	if ks := total.Kinds(); len(ks) != 5 || ks[0] != KindAssignment {
		t.Fatalf("kinds %v", ks)
	}
	b, _ := json.Marshal(total)
	for _, secret := range []string{dbPassword, vaultSecret, "plain-value"} {
		if strings.Contains(string(b), secret) {
			t.Fatal("counts carry a value")
		}
	}
}

// TestConcurrentUse: one Redactor serves many goroutines (run with -race).
func TestConcurrentUse(t *testing.T) {
	r := newRedactor(t, dbPassword)
	in := []byte("POSTGRES_PASSWORD=" + dbPassword + "\n")
	errs := make(chan error)
	for range 8 {
		go func() {
			for range 50 {
				r.Redact(in)
				w := r.NewWriter(io.Discard)
				w.Write(in[:10])
				w.Write(in[10:])
				if err := w.Close(); err != nil {
					errs <- err
					return
				}
				r.Totals()
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := r.Totals()[KindKnownValue]; got != 8*50*2 {
		t.Fatalf("totals %d, want %d", got, 8*50*2)
	}
}
