package redact

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchLog is 4 MiB of typical container log with a secret every 100 lines.
func benchLog() []byte {
	lines := []string{
		"2026-11-23 10:00:01.123 INFO  [http-nio-8443-exec-3] o.a.f.i.c.s.TenantAwareBasicAuthenticationFilter : request /fineract-provider/api/v1/clients?tenantIdentifier=default took 12ms\n",
		"2026-11-23 10:00:01.124 DEBUG [main] o.s.b.w.e.tomcat.TomcatWebServer : Tomcat started on port 8443 (https) with context path '/fineract-provider'\n",
		`{"time":"2026-11-23T10:00:02Z","level":"info","msg":"token lookup","path":"auth/token/lookup-self","remote":"172.20.0.5"}` + "\n",
	}
	var b bytes.Buffer
	for i := 0; b.Len() < 4<<20; i++ {
		b.WriteString(lines[i%len(lines)])
		if i%100 == 0 {
			b.WriteString("FINERACT_HIKARI_PASSWORD=" + dbPassword + " Authorization: Bearer abc.def.ghi\n")
		}
	}
	return b.Bytes()
}

func BenchmarkRedact(b *testing.B) {
	r := newRedactor(b, dbPassword, vaultSecret, apiKey, strings.Repeat("k", 40))
	in := benchLog()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Redact(in)
	}
}

// BenchmarkRedactManyValues: 64 known values, as many as a large
// installation keeps in Vault, cost about what 4 do.
func BenchmarkRedactManyValues(b *testing.B) {
	values := []string{dbPassword, vaultSecret, apiKey}
	for i := len(values); i < 64; i++ {
		values = append(values, fmt.Sprintf("Gen%02dxQ7mZ2kLp9R4vT8bN3cW6yH1sD5fJ0aE", i))
	}
	r := newRedactor(b, values...)
	in := benchLog()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		r.Redact(in)
	}
}

func BenchmarkWriter(b *testing.B) {
	r := newRedactor(b, dbPassword, vaultSecret, apiKey, strings.Repeat("k", 40))
	in := benchLog()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		w := r.NewWriter(io.Discard)
		for p := in; len(p) > 0; {
			n := min(len(p), 32<<10)
			w.Write(p[:n])
			p = p[n:]
		}
		w.Close()
	}
}
