package assets

import (
	"encoding/json"
	"fmt"
	"path"
	"strings"
)

// The methods in this file generate the YAML every service carries, so the
// hardening rules, secret mounts and certificate mounts come from the
// catalog instead of being repeated (and forgotten) in each template. They
// return text indented for a service body (four spaces).

// logRotation is the json-file rotation every container gets.
const (
	logMaxSize      = "10m"
	logMaxFilesProd = 5
	logMaxFilesDemo = 3
)

// Hardening renders user, read_only, capabilities, no-new-privileges,
// restart policy, memory and pids limits and log rotation for a service.
func (d *renderData) Hardening(name string) (string, error) {
	s, ok := specOf(name)
	if !ok {
		return "", fmt.Errorf("hardening: no service %q in the catalog", name)
	}
	svc, ok := d.service(name)
	if !ok {
		return "", fmt.Errorf("hardening: service %q is not rendered", name)
	}
	var b strings.Builder
	if s.rootReason != "" {
		comment(&b, "Runs as root because "+s.rootReason+".")
	} else if svc.IDsReason != "" {
		comment(&b, fmt.Sprintf("Runs as %d:%d: %s.", svc.UID, svc.GID, svc.IDsReason))
	}
	fmt.Fprintf(&b, "    user: %q\n", svc.User())
	if s.readOnlyException != "" {
		comment(&b, "read_only is off: "+s.readOnlyException+".")
		b.WriteString("    read_only: false\n")
	} else {
		b.WriteString("    read_only: true\n")
	}
	b.WriteString("    cap_drop: [ALL]\n")
	if len(s.capAdd) > 0 {
		b.WriteString("    cap_add:\n")
		for _, c := range s.capAdd {
			fmt.Fprintf(&b, "      - %s # %s\n", c.Name, c.Why)
		}
	}
	b.WriteString("    security_opt: [\"no-new-privileges:true\"]\n")
	b.WriteString("    privileged: false\n")
	b.WriteString("    restart: unless-stopped\n")
	mem := s.memory(d.Profile)
	// memswap_limit equal to mem_limit: the container gets no swap, so
	// secrets in memory never reach the disk that way.
	fmt.Fprintf(&b, "    mem_limit: %dm\n    memswap_limit: %dm\n", mem, mem)
	fmt.Fprintf(&b, "    pids_limit: %d\n", s.pids)
	files := logMaxFilesProd
	if d.Demo {
		files = logMaxFilesDemo
	}
	b.WriteString("    logging:\n      driver: json-file\n      options:\n")
	fmt.Fprintf(&b, "        max-size: %q\n        max-file: %q\n", logMaxSize, fmt.Sprint(files))
	// The compose service label travels with every log line (json-file
	// "attrs"), so Filebeat can name the service without the Docker socket.
	b.WriteString("        labels: \"com.docker.compose.service\"\n")
	return strings.TrimRight(b.String(), "\n"), nil
}

// ServiceNetworks renders the service's networks block.
func (d *renderData) ServiceNetworks(name string) (string, error) {
	svc, ok := d.service(name)
	if !ok {
		return "", fmt.Errorf("networks: service %q is not rendered", name)
	}
	var b strings.Builder
	b.WriteString("    networks:\n")
	for _, n := range svc.Networks {
		if _, ok := d.Net[n]; !ok {
			return "", fmt.Errorf("networks: service %s joins %s, which is not rendered", name, n)
		}
		if name == "gateway" && n == netDMZ {
			// Highest priority: the DMZ is the gateway's default route and
			// the network its published ports are bound through.
			fmt.Fprintf(&b, "      %s:\n        priority: 100\n", n)
			continue
		}
		fmt.Fprintf(&b, "      %s: {}\n", n)
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// SecretRefs renders the service's secrets block: each file mounted
// read-only at /run/secrets/<file>.
func (d *renderData) SecretRefs(name string) (string, error) {
	svc, ok := d.service(name)
	if !ok {
		return "", fmt.Errorf("secrets: service %q is not rendered", name)
	}
	if len(svc.Secrets) == 0 {
		return "", nil
	}
	var b strings.Builder
	b.WriteString("    secrets:\n")
	for _, file := range svc.SecretFiles() {
		fmt.Fprintf(&b, "      - source: %s\n        target: %s\n", secretName(name, file), file)
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// TLSMounts renders read-only mounts of the CA certificate and the
// service's own certificate material into dir.
func (d *renderData) TLSMounts(name, dir string) (string, error) {
	svc, ok := d.service(name)
	if !ok {
		return "", fmt.Errorf("tls mounts: service %q is not rendered", name)
	}
	lines := []string{bind(pkiFile("ca.crt"), path.Join(dir, "ca.crt"))}
	for _, c := range svc.Certs {
		lines = append(lines,
			bind(pkiFile(c.Name+".crt"), path.Join(dir, c.Name+".crt")),
			bind(pkiFile(c.Name+".key"), path.Join(dir, c.Name+".key")))
		if c.CombinedPEM {
			lines = append(lines, bind(pkiFile(c.Name+".pem"), path.Join(dir, c.Name+".pem")))
		}
	}
	if svc.JavaTrustStore {
		lines = append(lines, bind(pkiFile(TrustStoreFile), path.Join(dir, TrustStoreFile)))
	}
	for i := range lines {
		lines[i] = "      - " + lines[i]
	}
	return strings.Join(lines, "\n"), nil
}

// secretDecl is one top-level compose secret.
type secretDecl struct {
	Name string
	File string
}

// SecretDecls lists the top-level secrets of every rendered service.
func (d *renderData) SecretDecls() []secretDecl {
	var out []secretDecl
	for _, svc := range d.services {
		for _, file := range svc.SecretFiles() {
			out = append(out, secretDecl{Name: secretName(svc.Name, file), File: path.Join(d.SecretsDir, svc.Name, file)})
		}
	}
	return out
}

// VolumeNames lists the named volumes of every rendered service.
func (d *renderData) VolumeNames() []string {
	var out []string
	for _, svc := range d.services {
		out = append(out, svc.DataVolumes...)
	}
	return out
}

// Mem is a service's memory limit in MiB (for JVM and cache sizing).
func (d *renderData) Mem(name string) (int, error) {
	svc, ok := d.service(name)
	if !ok {
		return 0, fmt.Errorf("mem: service %q is not rendered", name)
	}
	return svc.MemoryMiB, nil
}

// percent returns pct percent of n, rounded down.
func percent(n, pct int) int { return n * pct / 100 }

func secretName(service, file string) string { return service + "_" + file }

func pkiFile(name string) string { return "./pki/" + name }

// bind is a read-only bind mount that fails instead of creating a missing
// source (a missing certificate must never become an empty directory).
func bind(source, target string) string {
	return fmt.Sprintf("{type: bind, source: %s, target: %s, read_only: true, bind: {create_host_path: false}}", source, target)
}

// bindRW is a read-write bind mount of a directory the installer creates
// before the service starts (create_host_path false: a missing directory
// fails the start instead of appearing as root's).
func bindRW(source, target string) string {
	return fmt.Sprintf("{type: bind, source: %s, target: %s, bind: {create_host_path: false}}", q(source), target)
}

// data is a service's named data volume. Docker would copy the image's
// directory into a new volume, its owner included (the image's user, not
// the service's own uid); with nocopy the volume starts empty and the
// installer gives it to the service before the first start.
func data(volume, target string) string {
	return fmt.Sprintf("{type: volume, source: %s, target: %s, volume: {nocopy: true}}", volume, target)
}

// q quotes a string for YAML (a JSON string is a valid YAML scalar).
func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// comment writes a wrapped YAML comment at service-body indentation.
func comment(b *strings.Builder, text string) {
	const width = 96
	line := "    #"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > width && line != "    #" {
			b.WriteString(line + "\n")
			line = "    #"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}

// Image is a service's pinned image reference.
func (d *renderData) Image(name string) (string, error) {
	img := d.imageOf(name)
	if img == "" {
		return "", fmt.Errorf("image: no pinned image for service %q", name)
	}
	return img, nil
}

// Svc returns a rendered service for templates that range over its needs.
func (d *renderData) Svc(name string) (Service, error) {
	svc, ok := d.service(name)
	if !ok {
		return Service{}, fmt.Errorf("service %q is not rendered", name)
	}
	return svc, nil
}

// IssuerURL is the OIDC issuer of the fineract realm, as browsers and token
// `iss` claims see it (through the gateway).
func (d *renderData) IssuerURL() string {
	return d.PublicURL + "/auth/realms/" + IdentityRealm
}

// SignInRedirectURI is the web app's redirect URI (see SignInRedirectURI).
func (d *renderData) SignInRedirectURI() string {
	return d.PublicURL + "/callback"
}

// SignOutRedirectURI is where Keycloak may send the browser after sign-out
// (the web app's login route).
func (d *renderData) SignOutRedirectURI() string {
	return d.PublicURL + "/#/login"
}

// KafkaClientTLS is the Kafka client configuration, in Fineract's
// `key=value|key=value` form, for mutual TLS with the broker.
func (d *renderData) KafkaClientTLS() string {
	return strings.Join([]string{
		"security.protocol=SSL",
		"ssl.truststore.type=PEM",
		"ssl.truststore.location=/etc/fineract/tls/ca.crt",
		"ssl.keystore.type=PEM",
		"ssl.keystore.location=/etc/fineract/tls/fineract.pem",
		"ssl.endpoint.identification.algorithm=https",
	}, "|")
}

// FineractJavaOptions is Fineract's JAVA_TOOL_OPTIONS: heap from the
// container limit, the module opens its own images use, the system
// properties the image means to set, and (with Keycloak) a trust store
// holding the installer's CA for the JWK set download.
func (d *renderData) FineractJavaOptions() string {
	opts := []string{
		"-XX:MaxRAMPercentage=60",
		"-XX:+UseContainerSupport",
		"-XX:+ExitOnOutOfMemoryError",
		"-XX:+UseStringDeduplication",
		"-Djava.io.tmpdir=/tmp",
		// The image's build lists these four as jib "args", which jib
		// appends after the main class: they reach main() as program
		// arguments and the JVM never sees them (apache/fineract
		// fineract-provider/build.gradle, jib container.args). Without
		// user.home, a uid with no passwd entry gets a home on the
		// read-only root.
		"-Duser.home=/tmp",
		"-Dfile.encoding=UTF-8",
		"-Duser.timezone=UTC",
		"-Djava.security.egd=file:/dev/./urandom",
		"--add-exports=java.naming/com.sun.jndi.ldap=ALL-UNNAMED",
		"--add-opens=java.base/java.lang=ALL-UNNAMED",
		"--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
		"--add-opens=java.base/java.io=ALL-UNNAMED",
		"--add-opens=java.base/java.security=ALL-UNNAMED",
		"--add-opens=java.base/java.util=ALL-UNNAMED",
		"--add-opens=java.management/javax.management=ALL-UNNAMED",
		"--add-opens=java.naming/javax.naming=ALL-UNNAMED",
	}
	if d.Has["identity"] {
		opts = append(opts,
			"-Djavax.net.ssl.trustStore=/etc/fineract/tls/"+TrustStoreFile,
			"-Djavax.net.ssl.trustStoreType=PKCS12")
	}
	return strings.Join(opts, " ")
}

// roleMapping maps one certificate subject to an Elasticsearch role.
type roleMapping struct {
	Role    string
	Subject string
}

// ElasticRoleMappings maps the Elastic services' certificate subjects to
// the roles they need: Kibana's own user, Logstash's writer, the
// healthcheck. Subjects come from the same CertNeeds the pki step issues.
func (d *renderData) ElasticRoleMappings() ([]roleMapping, error) {
	roles := []struct{ service, role string }{
		{"kibana", "kibana_system"},
		{"logstash", "logstash_writer"},
		{"elasticsearch", "healthcheck"},
	}
	var out []roleMapping
	for _, r := range roles {
		svc, ok := d.service(r.service)
		if !ok || len(svc.Certs) == 0 {
			return nil, fmt.Errorf("role mapping: service %s has no certificate", r.service)
		}
		out = append(out, roleMapping{Role: r.role, Subject: "CN=" + svc.Certs[0].CommonName})
	}
	return out, nil
}
