package labimages

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// TestEveryLabImageIsBuilt checks that every image the lab builds is
// present and carries the lab's hash label, and that its reference is the
// one the assets pin.
func TestEveryLabImageIsBuilt(t *testing.T) {
	e := labtest.Engine(t)
	for _, im := range Images {
		if Ref(im.Service) == "" {
			t.Errorf("assets pin no image for %s", im.Service)
			continue
		}
		if err := Check(context.Background(), e, im.Service); err != nil {
			if labtest.Required() {
				t.Error(err)
			} else {
				t.Log(err)
			}
		}
	}
	for _, im := range Extras {
		if err := CheckRef(context.Background(), e, im.Reference); err != nil {
			if labtest.Required() {
				t.Error(err)
			} else {
				t.Log(err)
			}
		}
	}
}

// pgConnect opens a connection to the stack's PostgreSQL from the test
// process through the stack's relay, by the service name, so pgx verifies
// the server certificate for "postgres" itself (sslmode=verify-full with the
// stack's CA), as the stack's clients do.
func pgConnect(ctx context.Context, s *Stack, user, password, db, sslmode string) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=postgres port=5432 dbname=%s user=%s sslmode=%s sslrootcert=%s connect_timeout=10",
		db, user, sslmode, s.PKIPath("ca.crt")))
	if err != nil {
		return nil, err
	}
	cfg.Password = password
	cfg.LookupFunc = func(_ context.Context, host string) ([]string, error) { return []string{host}, nil }
	cfg.DialFunc = s.DialContext
	return pgx.ConnectConfig(ctx, cfg)
}

// sslRequest sends PostgreSQL's SSLRequest and returns the one-byte answer
// ('S': TLS follows, 'N': no TLS) and the connection.
func sslRequest(t *testing.T, s *Stack) (byte, net.Conn) {
	t.Helper()
	c, err := s.Dial(context.Background(), "postgres:5432")
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	msg := make([]byte, 8)
	binary.BigEndian.PutUint32(msg[0:4], 8)
	binary.BigEndian.PutUint32(msg[4:8], 80877103)
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	return b[0], c
}

func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestPostgresImage runs the lab PostgreSQL image with the installer's
// rendered postgres service (POSTGRES_PASSWORD_FILE, initdb args, the init
// script, postgresql.conf and pg_hba.conf, read-only root, its own uid) and
// checks what those files promise against the running server.
func TestPostgresImage(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "postgres")
	// With monitoring, so the init script also makes the exporter's role.
	s := NewStack(t, e, answers.GroupMonitoring)
	s.Up(t, "postgres") // waits for the healthcheck: pg_isready on PATH
	ctx := context.Background()

	// TLS is on: the SSLRequest is answered 'S', and only TLS 1.3 is
	// accepted (ssl_min_protocol_version).
	b, c := sslRequest(t, s)
	if b != 'S' {
		t.Fatalf("SSLRequest answered %q, want 'S'", b)
	}
	tc := s.TLS("postgres")
	tc.MaxVersion = tls.VersionTLS12
	if err := tls.Client(c, tc).Handshake(); err == nil {
		t.Error("a TLS 1.2 handshake succeeded; postgresql.conf asks for TLS 1.3 only")
	}
	c.Close()
	_, c = sslRequest(t, s)
	tconn := tls.Client(c, s.TLS("postgres"))
	if err := tconn.Handshake(); err != nil {
		t.Fatalf("TLS handshake with the server certificate for \"postgres\": %v", err)
	}
	if v := tconn.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("TLS version %x, want TLS 1.3", v)
	}
	tconn.Close()

	// SCRAM login of the role the init script made, with the delivered
	// password, to both Fineract databases, over verified TLS.
	pw := s.Secret(t, "postgres", "fineract_db_password")
	for _, db := range []string{"fineract_tenants", "fineract_default"} {
		conn, err := pgConnect(ctx, s, "fineract", pw, db, "verify-full")
		if err != nil {
			t.Fatalf("log in as fineract to %s: %v", db, err)
		}
		var user, proto string
		var ssl bool
		if err := conn.QueryRow(ctx, `SELECT current_user, ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&user, &ssl, &proto); err != nil {
			t.Fatal(err)
		}
		if user != "fineract" || !ssl || proto != "TLSv1.3" {
			t.Errorf("%s: user %s, ssl %v, protocol %s; want fineract over TLSv1.3", db, user, ssl, proto)
		}
		var enc string
		if err := conn.QueryRow(ctx, `SHOW password_encryption`).Scan(&enc); err != nil || enc != "scram-sha-256" {
			t.Errorf("password_encryption = %q (%v), want scram-sha-256", enc, err)
		}
		if db == "fineract_tenants" {
			if _, err := conn.Exec(ctx, `CREATE TABLE lab_audit_probe (v text); INSERT INTO lab_audit_probe VALUES ('audited')`); err != nil {
				t.Fatal(err)
			}
		}
		conn.Close(ctx)
	}

	// pg_hba.conf is the installer's: a wrong password fails (SCRAM), a
	// plain-text connection has no rule, and the superuser cannot log in
	// over TCP at all (the entrypoint's appended `host all all all` line
	// lives in the data directory's unused pg_hba.conf).
	if _, err := pgConnect(ctx, s, "fineract", pw+"x", "fineract_tenants", "verify-full"); sqlState(err) != "28P01" {
		t.Errorf("wrong password: %v, want SQLSTATE 28P01", err)
	}
	if _, err := pgConnect(ctx, s, "fineract", pw, "fineract_tenants", "disable"); sqlState(err) != "28000" {
		t.Errorf("plain-text connection: %v, want SQLSTATE 28000 (no pg_hba.conf entry)", err)
	}
	superPW := s.Secret(t, "postgres", "superuser_password")
	if _, err := pgConnect(ctx, s, "postgres", superPW, "postgres", "verify-full"); sqlState(err) != "28000" {
		t.Errorf("superuser over TCP: %v, want SQLSTATE 28000", err)
	}
	exporterPW := s.Secret(t, "postgres", "postgres_exporter_password")
	conn, err := pgConnect(ctx, s, "postgres_exporter", exporterPW, "postgres", "verify-full")
	if err != nil {
		t.Fatalf("log in as postgres_exporter: %v", err)
	}
	conn.Close(ctx)

	// Audit settings: connections and data changes are logged, the init
	// script's passwords are not.
	logs := s.Logs(t, "postgres")
	for _, want := range []string{
		"PostgreSQL init process complete",
		"running /docker-entrypoint-initdb.d/10-roles.sh",
		"connection authorized: user=fineract database=fineract_tenants SSL enabled (protocol=TLSv1.3",
		// SCRAM, by a rule of the installer's pg_hba.conf.
		`connection authenticated: identity="fineract" method=scram-sha-256 (/etc/postgresql/pg_hba.conf:`,
		"INSERT INTO lab_audit_probe",
		`password authentication failed for user "fineract"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("postgres log lacks %q", want)
		}
	}
	for _, secret := range []string{pw, superPW, exporterPW} {
		if strings.Contains(logs, secret) {
			t.Error("a password appears in the postgres log")
		}
	}

	// Inside the container, as its own uid: pg_dump on PATH, the
	// superuser over the socket by peer authentication (how backups and
	// the init script get in).
	res, err := e.Exec(ctx, s.Project, "postgres", "", []string{"pg_dump", "--username=postgres", "--dbname=fineract_tenants", "--schema-only"}, nil, nil)
	if err != nil || res.ExitCode != 0 || !strings.Contains(string(res.Stdout), "CREATE TABLE public.lab_audit_probe") {
		t.Errorf("pg_dump in the container: %v, exit %d, %s", err, res.ExitCode, res.Stderr)
	}

	// The data directory has the checksums the initdb arguments asked for.
	conn, err = pgConnect(ctx, s, "fineract", pw, "fineract_tenants", "verify-full")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var checksums string
	if err := conn.QueryRow(ctx, `SHOW data_checksums`).Scan(&checksums); err != nil || checksums != "on" {
		t.Errorf("data_checksums = %q (%v), want on", checksums, err)
	}
}

// httpsClient trusts the stack's CA and expects serverName. With addr it
// dials addr for every request, else it goes through the stack's relay to
// the URL's host and port.
func httpsClient(s *Stack, serverName, addr string) *http.Client {
	tr := &http.Transport{TLSClientConfig: s.TLS(serverName), DialContext: s.DialContext}
	if addr != "" {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}
	}
	return &http.Client{Transport: tr, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

type apiCall struct {
	method, url, body string
	auth, tenant      bool
}

func (a apiCall) do(t *testing.T, c *http.Client) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(a.method, a.url, strings.NewReader(a.body))
	if err != nil {
		t.Fatal(err)
	}
	if a.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if a.auth {
		req.SetBasicAuth("mifos", "password")
	}
	if a.tenant {
		req.Header.Set("Fineract-Platform-TenantId", "default")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", a.method, a.url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

// waitHealth polls the actuator health until it reports want.
func waitHealth(t *testing.T, c *http.Client, url, want string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	var last string
	for time.Now().Before(deadline) {
		resp, err := c.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var h struct{ Status string }
			_ = json.Unmarshal(body, &h)
			last = fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
			code := http.StatusOK
			if want != "UP" {
				code = http.StatusServiceUnavailable
			}
			if h.Status == want && resp.StatusCode == code {
				return
			}
		} else {
			last = err.Error()
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("health did not become %s within %s; last answer: %s", want, within, last)
}

func (s *Stack) restart(t *testing.T, service string) {
	t.Helper()
	if err := s.Engine.API().ContainerRestart(context.Background(), s.ContainerID(t, service), container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestFineractStandIn runs the Fineract stand-in with the installer's
// rendered fineract service against the lab PostgreSQL: configuration from
// the environment, the config tree of secrets and installer.properties,
// HTTPS with the installer's certificate (TLS 1.3 only), the database over
// verify-full TLS. Health follows the database: DOWN (503) when Postgres
// stops or the password is wrong, UP again when it is back.
func TestFineractStandIn(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "postgres", "fineract")
	s := NewStack(t, e)
	s.Up(t, "fineract") // postgres healthy first; then the image's own healthcheck (wget + grep UP)
	c := httpsClient(s, "fineract", "")
	base := "https://fineract:8443/fineract-provider"
	health := base + "/actuator/health"
	waitHealth(t, c, health, "UP", time.Minute)

	// TLS 1.3 only, from spring.ssl.bundle.pem.fineract.options.enabled-protocols.
	tc := s.TLS("fineract")
	tc.MaxVersion = tls.VersionTLS12
	raw, err := s.Dial(context.Background(), "fineract:8443")
	if err != nil {
		t.Fatal(err)
	}
	if err := tls.Client(raw, tc).Handshake(); err == nil {
		t.Error("a TLS 1.2 handshake succeeded; installer.properties enables TLSv1.3 only")
	}
	raw.Close()

	// The API: tenant header, then basic authentication, then rows written
	// to and read from the default tenant's database.
	rows := base + "/api/v1/lab/rows"
	if code, _ := (apiCall{method: "GET", url: rows, auth: true}).do(t, c); code != http.StatusBadRequest {
		t.Errorf("no tenant header: %d, want 400", code)
	}
	if code, _ := (apiCall{method: "GET", url: rows, tenant: true}).do(t, c); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", code)
	}
	code, body := (apiCall{method: "POST", url: rows, body: `{"note":"first loan"}`, auth: true, tenant: true}).do(t, c)
	if code != http.StatusOK || !strings.Contains(string(body), "resourceId") {
		t.Fatalf("POST rows: %d %s", code, body)
	}
	code, body = (apiCall{method: "GET", url: rows, auth: true, tenant: true}).do(t, c)
	var got []struct {
		ID   int64
		Note string
	}
	if err := json.Unmarshal(body, &got); code != http.StatusOK || err != nil || len(got) != 1 || got[0].Note != "first loan" {
		t.Fatalf("GET rows: %d %s (%v)", code, body, err)
	}
	code, body = (apiCall{method: "POST", url: base + "/api/v1/authentication", body: `{"username":"mifos","password":"password"}`, tenant: true}).do(t, c)
	if code != http.StatusOK || !strings.Contains(string(body), `"authenticated":true`) {
		t.Errorf("authentication: %d %s", code, body)
	}

	// The default tenant is registered in the tenant store, and the row is
	// in the tenant database, as seen by PostgreSQL itself.
	ctx := context.Background()
	pw := s.Secret(t, "fineract", "FINERACT_HIKARI_PASSWORD")
	conn, err := pgConnect(ctx, s, "fineract", pw, "fineract_tenants", "verify-full")
	if err != nil {
		t.Fatal(err)
	}
	var tenant string
	if err := conn.QueryRow(ctx, `SELECT identifier || '@' || c.schema_server || '/' || c.schema_name FROM tenants JOIN tenant_server_connections c ON c.id = tenants.oltp_id`).Scan(&tenant); err != nil || tenant != "default@postgres/fineract_default" {
		t.Errorf("tenant store holds %q (%v)", tenant, err)
	}
	conn.Close(ctx)
	// Fineract's connections are TLS 1.3, verified (PostgreSQL logs them).
	if logs := s.Logs(t, "postgres"); !strings.Contains(logs, "connection authorized: user=fineract database=fineract_default SSL enabled (protocol=TLSv1.3") {
		t.Error("postgres logged no TLS connection of fineract to fineract_default")
	}

	// Health follows the database.
	pgID := s.ContainerID(t, "postgres")
	if err := e.API().ContainerStop(ctx, pgID, container.StopOptions{}); err != nil {
		t.Fatal(err)
	}
	waitHealth(t, c, health, "DOWN", time.Minute)
	if err := e.API().ContainerStart(ctx, pgID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	waitHealth(t, c, health, "UP", 2*time.Minute)

	// A wrong password from the config tree makes it DOWN: the delivered
	// secret is what it logs in with.
	writeSecret(t, s.SecretPath("fineract", "FINERACT_HIKARI_PASSWORD"), pw+"wrong")
	s.restart(t, "fineract")
	waitHealth(t, c, health, "DOWN", time.Minute)
	writeSecret(t, s.SecretPath("fineract", "FINERACT_HIKARI_PASSWORD"), pw)
	s.restart(t, "fineract")
	waitHealth(t, c, health, "UP", time.Minute)

	// user.home (/tmp, the fineract-home volume) is writable by Fineract's
	// own uid on the read-only root.
	own, _ := s.Bundle.Service("fineract")
	res, err := e.Exec(ctx, s.Project, "fineract", "", []string{"sh", "-c", "id -u && touch /tmp/.lab-probe && rm /tmp/.lab-probe"}, nil, nil)
	if err != nil || res.ExitCode != 0 || strings.TrimSpace(string(res.Stdout)) != strconv.Itoa(own.UID) {
		t.Errorf("writing /tmp as the container's user: %v, exit %d, %q %s", err, res.ExitCode, res.Stdout, res.Stderr)
	}

	logs := s.Logs(t, "fineract")
	if !strings.Contains(logs, "STAND-IN") {
		t.Error("the stand-in does not say it is one")
	}
	if strings.Contains(logs, pw) {
		t.Error("the Fineract stand-in logged its database password")
	}
}

// writeSecret rewrites a secret file in place (same inode, so the
// container's bind mount sees the new content).
func writeSecret(t *testing.T, path, value string) {
	t.Helper()
	if err := writeInPlace(path, []byte(value)); err != nil {
		t.Fatal(err)
	}
}

// TestGatewayAndWebApp runs the installer's gateway (lab nginx image) in
// front of the web-app stand-in and the Fineract stand-in with their
// rendered configuration: TLS 1.3 on the published port, security headers,
// the web app's files and env.js, the API and actuator health proxied to
// Fineract over verified TLS, port 80 redirecting.
func TestGatewayAndWebApp(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "postgres", "fineract", "web-app", "gateway")
	s := NewStack(t, e)
	s.Up(t, "gateway") // web-app healthy (busybox wget), gateway healthy (curl)
	httpsAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Answers.Gateway.HTTPSPort))
	host := s.Answers.Host.Hostname
	c := httpsClient(s, host, httpsAddr)
	site := "https://" + host

	resp, err := c.Get(site + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "lab stand-in") {
		t.Fatalf("GET /: %d %.200s", resp.StatusCode, body)
	}
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Error("the gateway did not answer over TLS 1.3")
	}
	for _, h := range []string{"Strict-Transport-Security", "X-Content-Type-Options", "Content-Security-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("GET / lacks the %s header", h)
		}
	}
	if srv := resp.Header.Get("Server"); srv != "nginx" {
		t.Errorf("Server header %q, want bare nginx (server_tokens off)", srv)
	}
	envJS, ok := s.Bundle.File("config/web-app/env.js")
	if !ok {
		t.Fatal("no rendered env.js")
	}
	resp, err = c.Get(site + "/assets/env.js")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(body, envJS.Data) {
		t.Errorf("GET /assets/env.js did not return the rendered env.js: %.200s", body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("env.js Cache-Control %q, want no-store", cc)
	}

	// Fineract through the gateway (which verifies Fineract's certificate).
	waitHealth(t, c, site+"/fineract-provider/actuator/health", "UP", 2*time.Minute)
	rows := site + "/fineract-provider/api/v1/lab/rows"
	if code, body := (apiCall{method: "POST", url: rows, body: `{"note":"via gateway"}`, auth: true, tenant: true}).do(t, c); code != http.StatusOK {
		t.Fatalf("POST rows via the gateway: %d %s", code, body)
	}
	if code, body := (apiCall{method: "GET", url: rows, auth: true, tenant: true}).do(t, c); code != http.StatusOK || !strings.Contains(string(body), "via gateway") {
		t.Fatalf("GET rows via the gateway: %d %s", code, body)
	}
	// Other actuator endpoints stay internal.
	if resp, err := c.Get(site + "/fineract-provider/actuator/prometheus"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("actuator/prometheus through the gateway: %v %v, want 404", resp, err)
	} else {
		resp.Body.Close()
	}

	// Port 80 only redirects, to the configured name (and HTTPS port).
	httpAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Answers.Gateway.HTTPPort))
	plain := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = plain.Get("http://" + httpAddr + "/x?y=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	public := "https://" + host
	if s.Answers.Gateway.HTTPSPort != 443 {
		public += ":" + strconv.Itoa(s.Answers.Gateway.HTTPSPort)
	}
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != public+"/x?y=1" {
		t.Errorf("port 80: %d Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	// The web app's nginx serves TLS 1.3 with its own certificate.
	wc := httpsClient(s, "web-app", "")
	resp, err = wc.Get("https://web-app:8443/")
	if err != nil {
		t.Fatalf("web app over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("web app: %d", resp.StatusCode)
	}
}

// redisCommand sends one command in RESP and returns the first reply line.
func redisCommand(rw *bufio.ReadWriter, args ...string) (string, error) {
	fmt.Fprintf(rw, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(rw, "$%d\r\n%s\r\n", len(a), a)
	}
	if err := rw.Flush(); err != nil {
		return "", err
	}
	line, err := rw.ReadString('\n')
	return strings.TrimRight(line, "\r\n"), err
}

// TestRedisImage runs the lab Redis image with the messaging group's
// rendered redis service: TLS only with client certificates, the ACL file
// from the secrets directory, its own uid, read-only root.
func TestRedisImage(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "redis")
	s := NewStack(t, e, answers.GroupMessaging)
	s.Up(t, "redis") // the healthcheck: redis-cli --tls with the ACL password
	ctx := context.Background()

	// Without a client certificate the handshake is refused
	// (tls-auth-clients yes).
	raw, err := s.Dial(ctx, "redis:6379")
	if err != nil {
		t.Fatal(err)
	}
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	if conn := tls.Client(raw, s.TLS("redis")); conn.Handshake() == nil {
		_, werr := conn.Write([]byte("PING\r\n"))
		_, rerr := bufio.NewReader(conn).ReadString('\n')
		if werr == nil && rerr == nil {
			t.Error("redis answered a client without a certificate")
		}
	}
	raw.Close()

	cert, err := tls.LoadX509KeyPair(s.PKIPath("redis.crt"), s.PKIPath("redis.key"))
	if err != nil {
		t.Fatal(err)
	}
	tc := s.TLS("redis")
	tc.Certificates = []tls.Certificate{cert}
	raw, err = s.Dial(ctx, "redis:6379")
	if err != nil {
		t.Fatal(err)
	}
	conn := tls.Client(raw, tc)
	defer conn.Close()
	if err := conn.Handshake(); err != nil {
		t.Fatalf("TLS with a client certificate: %v", err)
	}
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if v := conn.ConnectionState().Version; v != tls.VersionTLS13 {
		t.Errorf("TLS version %x, want TLS 1.3", v)
	}
	rw := bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn))
	if r, err := redisCommand(rw, "PING"); err != nil || !strings.HasPrefix(r, "-NOAUTH") {
		t.Errorf("PING before AUTH: %q %v, want -NOAUTH", r, err)
	}
	if r, err := redisCommand(rw, "AUTH", "wrong-password"); err != nil || !strings.HasPrefix(r, "-WRONGPASS") {
		t.Errorf("AUTH with a wrong password: %q %v", r, err)
	}
	if r, err := redisCommand(rw, "AUTH", s.Secret(t, "redis", "password")); err != nil || r != "+OK" {
		t.Fatalf("AUTH: %q %v", r, err)
	}
	if r, err := redisCommand(rw, "SET", "lab", "ok"); err != nil || r != "+OK" {
		t.Errorf("SET: %q %v", r, err)
	}
	// users.acl denies the dangerous commands.
	if r, err := redisCommand(rw, "CONFIG", "GET", "dir"); err != nil || !strings.HasPrefix(r, "-NOPERM") {
		t.Errorf("CONFIG GET: %q %v, want -NOPERM", r, err)
	}
}

// TestPrometheusAndExporter runs the monitoring group's Prometheus and
// postgres_exporter (lab images of Debian's packages) with their rendered
// configuration, next to the Fineract stand-in: both serve TLS 1.3 with the
// installer's certificates, the exporter logs in to PostgreSQL over
// verify-full TLS, and Prometheus scrapes the exporter and Fineract's
// actuator over verified TLS.
func TestPrometheusAndExporter(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "postgres", "fineract", "prometheus", "postgres-exporter")
	s := NewStack(t, e, answers.GroupMonitoring)
	s.Up(t, "prometheus", "postgres-exporter", "fineract") // promtool check healthy; busybox wget probe

	exp := httpsClient(s, "postgres-exporter", "")
	resp, err := exp.Get("https://postgres-exporter:9187/metrics")
	if err != nil {
		t.Fatalf("exporter metrics over TLS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "\npg_up 1\n") {
		t.Errorf("the exporter cannot reach PostgreSQL (pg_up is not 1)")
	}
	if resp.TLS == nil || resp.TLS.Version != tls.VersionTLS13 {
		t.Error("the exporter did not answer over TLS 1.3")
	}

	prom := httpsClient(s, "prometheus", "")
	resp, err = prom.Get("https://prometheus:9090/-/healthy")
	if err != nil {
		t.Fatalf("prometheus over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("prometheus /-/healthy: %d", resp.StatusCode)
	}
	// The scrape interval is 30s: wait until PostgreSQL's own metric has
	// come through the exporter and Fineract's scrape has succeeded.
	want := map[string]string{`pg_up{job="postgres"}`: "1", `up{job="fineract"}`: "1"}
	deadline := time.Now().Add(3 * time.Minute)
	for query, value := range want {
		var last string
		for {
			resp, err := prom.Get("https://prometheus:9090/api/v1/query?query=" + url.QueryEscape(query))
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				last = string(b)
				var r struct {
					Data struct {
						Result []struct {
							Value []any
						}
					}
				}
				if json.Unmarshal(b, &r) == nil && len(r.Data.Result) == 1 && len(r.Data.Result[0].Value) == 2 && r.Data.Result[0].Value[1] == value {
					break
				}
			} else {
				last = err.Error()
			}
			if time.Now().After(deadline) {
				t.Fatalf("Prometheus has no %s %s; last answer: %s", query, value, last)
			}
			time.Sleep(2 * time.Second)
		}
	}
}
