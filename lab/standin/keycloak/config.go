package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// importDir is where the image's --import-realm looks for realm files
// (Keycloak's guide "Importing and exporting realms": data/import).
const importDir = "/opt/keycloak/data/import"

// command is kc.sh's command line as the stand-in understands it.
type command struct {
	ConfigFile  string
	ImportRealm bool
}

// parseArgs reads `[--config-file=FILE] start [--import-realm]`. Other
// commands and options are refused rather than ignored, so a compose file
// the stand-in does not understand fails loudly.
func parseArgs(args []string) (command, error) {
	var c command
	started := false
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "--config-file="):
			c.ConfigFile = strings.TrimPrefix(a, "--config-file=")
		case a == "start":
			started = true
		case a == "--import-realm" && started:
			c.ImportRealm = true
		default:
			return c, fmt.Errorf("kc.sh: %q is not supported by the stand-in (it runs `[--config-file=FILE] start [--import-realm]`)", a)
		}
	}
	if !started {
		return c, fmt.Errorf("kc.sh: no `start` command")
	}
	return c, nil
}

// config holds the Keycloak options the stand-in uses.
type config struct {
	DBURL, DBUser, DBPassword string
	AdminUser, AdminPassword  string
	// Hostname is the frontend URL (hostname v2: a full URL may carry the
	// path); issuers are Hostname + "/realms/" + realm.
	Hostname       string
	RelativePath   string
	HTTPSPort      int
	CertFile       string
	KeyFile        string
	Protocols      []string
	HealthEnabled  bool
	MetricsEnabled bool
	ManagementPort int
	ManagementPath string
}

// loadConfig resolves each option as Keycloak does: an environment
// variable KC_<OPTION> wins over the configuration file's <option>=
// (Keycloak's "Configuring Keycloak" guide: command line, then
// environment, then conf file).
func loadConfig(file string, getenv func(string) string) (config, error) {
	conf := map[string]string{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return config{}, fmt.Errorf("read --config-file: %w", err)
		}
		if conf, err = parseConf(data); err != nil {
			return config{}, fmt.Errorf("--config-file %s: %w", file, err)
		}
	}
	opt := func(name, def string) string {
		env := "KC_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
		if v := getenv(env); v != "" {
			return v
		}
		if v, ok := conf[name]; ok {
			return v
		}
		return def
	}
	var errs []string
	num := func(name, def string) int {
		v := opt(name, def)
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 65535 {
			errs = append(errs, fmt.Sprintf("%s=%q is not a port", name, v))
		}
		return n
	}
	c := config{
		DBURL:          opt("db-url", ""),
		DBUser:         opt("db-username", ""),
		DBPassword:     opt("db-password", ""),
		AdminUser:      opt("bootstrap-admin-username", "temp-admin"),
		AdminPassword:  opt("bootstrap-admin-password", ""),
		Hostname:       strings.TrimSuffix(opt("hostname", ""), "/"),
		RelativePath:   strings.TrimSuffix(opt("http-relative-path", "/"), "/"),
		HTTPSPort:      num("https-port", "8443"),
		CertFile:       opt("https-certificate-file", ""),
		KeyFile:        opt("https-certificate-key-file", ""),
		HealthEnabled:  opt("health-enabled", "false") == "true",
		MetricsEnabled: opt("metrics-enabled", "false") == "true",
		ManagementPort: num("http-management-port", "9000"),
		ManagementPath: strings.TrimSuffix(opt("http-management-relative-path", "/"), "/"),
	}
	if v := opt("db", ""); v != "postgres" {
		errs = append(errs, fmt.Sprintf("db=%q: the stand-in speaks PostgreSQL only", v))
	}
	if c.DBURL == "" || c.DBUser == "" || c.DBPassword == "" {
		errs = append(errs, "db-url, db-username and db-password are required")
	}
	if c.AdminPassword == "" {
		errs = append(errs, "bootstrap-admin-password is required on the stand-in (it has no other way in)")
	}
	if u, err := url.Parse(c.Hostname); err != nil || u.Scheme != "https" || u.Host == "" {
		errs = append(errs, fmt.Sprintf("hostname=%q: the stand-in needs the full https URL", c.Hostname))
	}
	if opt("http-enabled", "false") != "false" {
		errs = append(errs, "http-enabled: the stand-in serves HTTPS only")
	}
	if c.CertFile == "" || c.KeyFile == "" {
		errs = append(errs, "https-certificate-file and https-certificate-key-file are required")
	}
	if s := opt("http-management-scheme", "inherited"); c.HealthEnabled && s != "http" {
		errs = append(errs, fmt.Sprintf("http-management-scheme=%q: the stand-in serves the management port in plain HTTP only", s))
	}
	for _, p := range strings.Split(opt("https-protocols", "TLSv1.3,TLSv1.2"), ",") {
		if p = strings.TrimSpace(p); p != "TLSv1.3" && p != "TLSv1.2" {
			errs = append(errs, fmt.Sprintf("https-protocols: unknown protocol %q", p))
		}
		c.Protocols = append(c.Protocols, strings.TrimSpace(p))
	}
	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// parseConf reads keycloak.conf: `name=value` lines, # comments.
func parseConf(data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("line %d is not name=value", n)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, sc.Err()
}

// serverTLS is the HTTPS listener's configuration.
func (c config) serverTLS() (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("https certificate: %w", err)
	}
	t := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13, MaxVersion: tls.VersionTLS13}
	for _, p := range c.Protocols {
		if p == "TLSv1.2" {
			t.MinVersion = tls.VersionTLS12
		}
	}
	return t, nil
}

// issuer is a realm's issuer URL.
func (c config) issuer(realm string) string { return c.Hostname + "/realms/" + realm }
