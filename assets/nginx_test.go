package assets

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// ngx is one nginx directive; block directives have children.
type ngx struct {
	name     string
	args     []string
	children []*ngx
	block    bool
}

// parseNginx is a small nginx configuration parser: words, quoted strings,
// comments, `;` and `{ }`. Enough to check structure, not a validator.
func parseNginx(src string) (*ngx, error) {
	toks, err := ngxTokens(src)
	if err != nil {
		return nil, err
	}
	root := &ngx{name: "main", block: true}
	stack := []*ngx{root}
	var cur []string
	for _, tok := range toks {
		switch tok {
		case ";":
			if len(cur) == 0 {
				return nil, fmt.Errorf("empty directive")
			}
			top := stack[len(stack)-1]
			top.children = append(top.children, &ngx{name: cur[0], args: cur[1:]})
			cur = nil
		case "{":
			if len(cur) == 0 {
				return nil, fmt.Errorf("block without a name")
			}
			n := &ngx{name: cur[0], args: cur[1:], block: true}
			top := stack[len(stack)-1]
			top.children = append(top.children, n)
			stack = append(stack, n)
			cur = nil
		case "}":
			if len(stack) == 1 || len(cur) > 0 {
				return nil, fmt.Errorf("unbalanced }")
			}
			stack = stack[:len(stack)-1]
		default:
			cur = append(cur, tok)
		}
	}
	if len(stack) != 1 || len(cur) > 0 {
		return nil, fmt.Errorf("unterminated block or directive")
	}
	return root, nil
}

func ngxTokens(src string) ([]string, error) {
	var toks []string
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '#':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == ';' || c == '{' || c == '}':
			toks = append(toks, string(c))
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(src) && src[j] != c {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) {
				return nil, fmt.Errorf("unterminated quote")
			}
			toks = append(toks, src[i+1:j])
			i = j + 1
		default:
			j := i
			for j < len(src) && !strings.ContainsRune(" \t\n\r;{}", rune(src[j])) {
				j++
			}
			toks = append(toks, src[i:j])
			i = j
		}
	}
	return toks, nil
}

func (n *ngx) all(name string) []*ngx {
	var out []*ngx
	for _, c := range n.children {
		if c.name == name {
			out = append(out, c)
		}
	}
	return out
}

func (n *ngx) one(name string) *ngx {
	if l := n.all(name); len(l) > 0 {
		return l[0]
	}
	return nil
}

func (n *ngx) walk(fn func(*ngx)) {
	fn(n)
	for _, c := range n.children {
		c.walk(fn)
	}
}

func (n *ngx) includes(file string) bool {
	return slices.ContainsFunc(n.all("include"), func(i *ngx) bool { return len(i.args) == 1 && strings.HasSuffix(i.args[0], file) })
}

// checkGateway returns every gateway rule the configuration breaks.
func checkGateway(conf, headers string, a answers.Answers) []string {
	var bad []string
	fail := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	root, err := parseNginx(conf)
	if err != nil {
		return []string{"nginx.conf: " + err.Error()}
	}
	hdr, err := parseNginx(headers)
	if err != nil {
		return []string{"security-headers.conf: " + err.Error()}
	}
	http := root.one("http")
	if http == nil {
		return []string{"no http block"}
	}
	directive := func(n *ngx, name string) string {
		if d := n.one(name); d != nil {
			return strings.Join(d.args, " ")
		}
		return ""
	}
	if directive(http, "server_tokens") != "off" {
		fail("server_tokens is not off")
	}
	if directive(http, "limit_req_status") != "429" {
		fail("limit_req_status is not 429")
	}
	zones := map[string]bool{}
	for _, z := range http.all("limit_req_zone") {
		for _, arg := range z.args {
			if name, ok := strings.CutPrefix(arg, "zone="); ok {
				zones[strings.Split(name, ":")[0]] = true
			}
		}
	}
	if !zones["api"] || !zones["login"] {
		fail("limit_req zones %v, want api and login", zones)
	}
	if directive(http, "client_max_body_size") == "" || directive(http, "large_client_header_buffers") == "" || directive(http, "client_header_buffer_size") == "" {
		fail("request body or header size limits missing")
	}
	if directive(http, "proxy_ssl_verify") != "on" || directive(http, "proxy_ssl_trusted_certificate") == "" {
		fail("upstream TLS is not verified against the CA")
	}
	if got := directive(http, "proxy_ssl_protocols"); got != "TLSv1.3" {
		fail("proxy_ssl_protocols %q: internal hops are TLS 1.3 only", got)
	}
	var methodMap, traversalMap *ngx
	for _, m := range http.all("map") {
		switch strings.Join(m.args, " ") {
		case "$request_method $method_allowed":
			methodMap = m
		case "$request_uri $uri_rejected":
			traversalMap = m
		}
	}
	if methodMap == nil || directive(methodMap, "default") != "0" || methodMap.one("TRACE") != nil || methodMap.one("GET") == nil {
		fail("no method allow-list map (default 0, GET allowed, TRACE not)")
	}
	if traversalMap == nil || !slices.ContainsFunc(traversalMap.children, func(c *ngx) bool { return strings.Contains(c.name, `\.\./`) && strings.Contains(c.name, "%2e%2e") }) {
		fail("no path traversal map covering ../ and %%2e%%2e")
	}

	wantProtocols := "TLSv1.3"
	if a.Gateway.AllowTLS12 {
		wantProtocols = "TLSv1.2 TLSv1.3"
	}
	var tlsServer, redirectServer *ngx
	for _, s := range http.all("server") {
		listen := directive(s, "listen")
		switch {
		case strings.HasPrefix(listen, "8443") && strings.Contains(listen, "ssl"):
			tlsServer = s
		case strings.HasPrefix(listen, "8080"):
			redirectServer = s
		default:
			fail("unexpected server listening on %q", listen)
		}
	}
	if redirectServer == nil {
		fail("no port-80 server")
	} else {
		redirectServer.walk(func(n *ngx) {
			if n.name == "proxy_pass" || n.name == "root" {
				fail("the port-80 server serves content (%s)", n.name)
			}
			if n.name == "return" && (len(n.args) != 2 || n.args[0] != "301" || !strings.HasPrefix(n.args[1], "https://"+a.Host.Hostname)) {
				fail("the port-80 server returns %v instead of a redirect to https://%s", n.args, a.Host.Hostname)
			}
		})
	}
	if tlsServer == nil {
		return append(bad, "no TLS server on 8443")
	}
	if got := directive(tlsServer, "ssl_protocols"); got != wantProtocols {
		fail("ssl_protocols %q, want %q", got, wantProtocols)
	}
	if !tlsServer.includes("security-headers.conf") {
		fail("the TLS server does not include security-headers.conf")
	}
	ifs := map[string]string{}
	for _, i := range tlsServer.all("if") {
		ifs[strings.Join(i.args, " ")] = directive(i, "return")
	}
	if ifs["($method_allowed = 0)"] != "405" || ifs["($uri_rejected)"] != "400" {
		fail("method and traversal rules are not enforced (ifs %v)", ifs)
	}
	locations := map[string]*ngx{}
	for _, l := range tlsServer.all("location") {
		locations[strings.Join(l.args, " ")] = l
		if len(l.all("add_header")) > 0 && !l.includes("security-headers.conf") {
			fail("location %v sets add_header without including security-headers.conf: it would drop HSTS", l.args)
		}
		if p := l.one("proxy_pass"); p != nil {
			if l.one("proxy_ssl_name") == nil || l.one("set") == nil || !strings.HasPrefix(l.one("set").args[1], "https://") {
				fail("location %v proxies without TLS to a named upstream", l.args)
			}
		}
	}
	limited := func(loc, zone string) {
		l := locations[loc]
		if l == nil {
			fail("no location %q", loc)
			return
		}
		if lr := l.one("limit_req"); lr == nil || !slices.Contains(lr.args, "zone="+zone) {
			fail("location %q is not rate limited with zone %s", loc, zone)
		}
	}
	limited("= /fineract-provider/api/v1/authentication", "login")
	limited("/fineract-provider/api/", "api")
	limited("/", "api")
	if a.HasGroup(answers.GroupIdentity) {
		limited(`~ ^/auth/realms/fineract/(protocol/openid-connect/(auth|token)|login-actions/)`, "login")
	}
	// Keycloak is served only for signing in to the fineract realm: no
	// location may pass the admin console or API, or another realm, on.
	for name, l := range locations {
		if path := strings.TrimPrefix(l.args[len(l.args)-1], "^"); l.one("proxy_pass") == nil || !strings.HasPrefix(path, "/auth/") {
			continue
		}
		if !slices.Contains([]string{`~ ^/auth/realms/fineract/(protocol/openid-connect/(auth|token)|login-actions/)`, "/auth/realms/fineract/", "/auth/resources/"}, name) {
			fail("location %q passes Keycloak paths beyond the fineract realm's sign-in on", name)
		}
	}
	if a.HasGroup(answers.GroupMonitoring) {
		limited("= /grafana/login", "login")
	}
	if a.HasGroup(answers.GroupLogging) {
		limited("= /kibana/internal/security/login", "login")
	}
	// Every add_header, in any file, must say `always` (or error pages lose it).
	for _, n := range []*ngx{root, hdr} {
		n.walk(func(d *ngx) {
			if d.name == "add_header" && (len(d.args) < 3 || d.args[len(d.args)-1] != "always") {
				fail("add_header %v lacks `always`", d.args)
			}
		})
	}
	headers2 := map[string]string{}
	for _, h := range hdr.all("add_header") {
		if len(h.args) >= 2 {
			headers2[h.args[0]] = h.args[1]
		}
	}
	hsts := regexp.MustCompile(`max-age=(\d+)`).FindStringSubmatch(headers2["Strict-Transport-Security"])
	if hsts == nil {
		fail("no HSTS header")
	} else if age, _ := strconv.Atoi(hsts[1]); age < 31536000 {
		fail("HSTS max-age %d is under a year", age)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"} {
		if headers2[h] == "" {
			fail("security header %s missing", h)
		}
	}
	return bad
}

func gatewayFiles(t *testing.T, b Bundle) (string, string) {
	return fileText(t, b, "config/gateway/nginx.conf"), fileText(t, b, "config/gateway/security-headers.conf")
}

func TestGatewayConfigRules(t *testing.T) {
	for _, c := range allCombos() {
		for _, tls12 := range []bool{false, true} {
			a := answersFor(c)
			a.Gateway.AllowTLS12 = tls12
			t.Run(fmt.Sprintf("%s/tls12=%v", c, tls12), func(t *testing.T) {
				conf, headers := gatewayFiles(t, mustRender(t, a))
				for _, msg := range checkGateway(conf, headers, a) {
					t.Error(msg)
				}
			})
		}
	}
}

func TestGatewayCheckerCatchesViolations(t *testing.T) {
	a := answersFor(combo{groups: answers.Groups[1:], profile: answers.Production})
	conf, headers := gatewayFiles(t, mustRender(t, a))
	if msgs := checkGateway(conf, headers, a); len(msgs) > 0 {
		t.Fatalf("rendered config already breaks rules: %v", msgs)
	}
	cases := []struct {
		name          string
		conf, headers string
		want          string
	}{
		{"TLS 1.2 without the option", strings.Replace(conf, "        ssl_protocols TLSv1.3;", "        ssl_protocols TLSv1.2 TLSv1.3;", 1), headers, "ssl_protocols"},
		{"TLS 1.2 to upstreams", strings.Replace(conf, "proxy_ssl_protocols TLSv1.3;", "proxy_ssl_protocols TLSv1.2 TLSv1.3;", 1), headers, "proxy_ssl_protocols"},
		{"server tokens on", strings.Replace(conf, "server_tokens off;", "server_tokens on;", 1), headers, "server_tokens"},
		{"503 on rate limit", strings.Replace(conf, "limit_req_status 429;", "", 1), headers, "limit_req_status"},
		{"login without its limit", strings.Replace(conf, "limit_req zone=login burst=5 nodelay;\n            set $upstream https://fineract:8443;", "set $upstream https://fineract:8443;", 1), headers, "authentication\" is not rate limited"},
		{"location header drops HSTS", strings.Replace(conf, "location /fineract-provider/api/ {", "location /fineract-provider/api/ {\n            add_header Cache-Control \"no-store\" always;", 1), headers, "would drop HSTS"},
		{"header without always", conf, strings.Replace(headers, `"nosniff" always;`, `"nosniff";`, 1), "lacks `always`"},
		{"no HSTS", conf, regexp.MustCompile(`(?m)^add_header Strict-Transport-Security.*\n`).ReplaceAllString(headers, ""), "no HSTS"},
		{"TRACE allowed", strings.Replace(conf, "OPTIONS 1;", "OPTIONS 1;\n        TRACE 1;", 1), headers, "method allow-list"},
		{"plain-HTTP upstream", strings.Replace(conf, "set $upstream https://web-app:8443;", "set $upstream http://web-app:8080;", 1), headers, "without TLS"},
		{"port 80 proxies", strings.Replace(conf, "return 301 https://", "proxy_pass http://web-app:8080; return 301 https://", 1), headers, "serves content"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.conf == conf && tc.headers == headers {
				t.Fatal("the mutation did not change anything: the test is out of date")
			}
			msgs := checkGateway(tc.conf, tc.headers, a)
			if !slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, tc.want) }) {
				t.Errorf("want a message containing %q, got %v", tc.want, msgs)
			}
		})
	}
}

// TestNginxAcceptsRenderedConfigs runs `nginx -t` on the gateway and web-app
// configurations when an nginx binary is installed (Debian: nginx-light).
// Set FINERACT_REQUIRE_NGINX=1 to fail instead of skipping without one.
func TestNginxAcceptsRenderedConfigs(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		if os.Getenv("FINERACT_REQUIRE_NGINX") != "" {
			t.Fatal("nginx is not installed (apt-get install -y nginx-light) and FINERACT_REQUIRE_NGINX is set")
		}
		t.Skip("nginx not installed; apt-get install -y nginx-light to run nginx -t on the rendered configs")
	}
	out, _ := exec.Command(bin, "-v").CombinedOutput()
	modernHTTP2 := nginxAtLeast(string(out), 1, 25, 1)
	for _, c := range []combo{{profile: answers.Production}, {groups: answers.Groups[1:], profile: answers.Demo}} {
		for _, tls12 := range []bool{false, true} {
			a := answersFor(c)
			a.Gateway.AllowTLS12 = tls12
			b := mustRender(t, a)
			t.Run(fmt.Sprintf("%s/tls12=%v", c, tls12), func(t *testing.T) {
				for _, conf := range []string{"config/gateway/nginx.conf", "config/web-app/nginx.conf"} {
					nginxTest(t, bin, b, conf, modernHTTP2)
				}
			})
		}
	}
}

func nginxTest(t *testing.T, bin string, b Bundle, confPath string, modernHTTP2 bool) {
	t.Helper()
	prefix := t.TempDir()
	for _, d := range []string{"tls", "snippets", "tmp"} {
		if err := os.MkdirAll(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cert, key := selfSignedPEM(t)
	for _, name := range []string{"ca", "gateway", "web-app"} {
		writeTestFile(t, filepath.Join(prefix, "tls", name+".crt"), cert)
		writeTestFile(t, filepath.Join(prefix, "tls", name+".key"), key)
	}
	// Container paths to the temporary prefix.
	rewrite := strings.NewReplacer(
		"/etc/nginx/tls/", prefix+"/tls/",
		"/etc/nginx/snippets/", prefix+"/snippets/",
		"/tmp/", prefix+"/tmp/",
	)
	headers, _ := b.File("config/gateway/security-headers.conf")
	writeTestFile(t, filepath.Join(prefix, "snippets", "security-headers.conf"), headers.Data)
	conf := rewrite.Replace(fileText(t, b, confPath))
	if !modernHTTP2 {
		// `http2 on;` needs nginx 1.25.1 (the image runs 1.30); an older
		// test binary gets the equivalent listen parameter.
		conf = strings.ReplaceAll(conf, "        http2 on;\n", "")
		conf = strings.ReplaceAll(conf, "listen 8443 ssl default_server;", "listen 8443 ssl http2 default_server;")
	}
	confFile := filepath.Join(prefix, "nginx.conf")
	writeTestFile(t, confFile, []byte(conf))
	out, err := exec.Command(bin, "-t", "-p", prefix, "-c", confFile).CombinedOutput()
	if err != nil {
		t.Errorf("nginx -t rejects %s: %v\n%s", confPath, err, out)
	}
}

func nginxAtLeast(versionOutput string, major, minor, patch int) bool {
	m := regexp.MustCompile(`nginx/(\d+)\.(\d+)\.(\d+)`).FindStringSubmatch(versionOutput)
	if m == nil {
		return false
	}
	v := [3]int{}
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	want := [3]int{major, minor, patch}
	for i := range v {
		if v[i] != want[i] {
			return v[i] > want[i]
		}
	}
	return true
}

func selfSignedPEM(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "bank.example.test"},
		DNSNames:     []string{"bank.example.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IsCA:         true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})
}

func writeTestFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
