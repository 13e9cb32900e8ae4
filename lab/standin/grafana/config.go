package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// config is the part of Grafana's configuration the stand-in honours.
type config struct {
	Protocol        string
	Port            int
	TLS             *tls.Config
	SubPath         string // "" or "/grafana", from root_url when serve_from_sub_path
	AdminUser       string
	AdminPassword   string
	SecretKey       string
	DataDir         string
	ProvisioningDir string
	CookieSecure    bool
	CookieSameSite  string
}

// loadConfig reads GF_* variables (Grafana's defaults where unset).
func loadConfig(getenv func(string) string) (*config, error) {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := &config{
		Protocol:        get("GF_SERVER_PROTOCOL", "http"),
		AdminUser:       get("GF_SECURITY_ADMIN_USER", "admin"),
		AdminPassword:   get("GF_SECURITY_ADMIN_PASSWORD", "admin"),
		SecretKey:       getenv("GF_SECURITY_SECRET_KEY"),
		DataDir:         get("GF_PATHS_DATA", "/var/lib/grafana"),
		ProvisioningDir: get("GF_PATHS_PROVISIONING", "/etc/grafana/provisioning"),
		CookieSecure:    get("GF_SECURITY_COOKIE_SECURE", "false") == "true",
		CookieSameSite:  get("GF_SECURITY_COOKIE_SAMESITE", "lax"),
	}
	port, err := strconv.Atoi(get("GF_SERVER_HTTP_PORT", "3000"))
	if err != nil || port <= 0 || port > 65535 {
		return nil, fmt.Errorf("GF_SERVER_HTTP_PORT: %q is not a port", getenv("GF_SERVER_HTTP_PORT"))
	}
	c.Port = port
	if c.SecretKey == "" {
		return nil, errors.New("GF_SECURITY_SECRET_KEY is empty: the stand-in requires the installer's secret key (Grafana would fall back to its public default)")
	}
	if getenv("GF_AUTH_ANONYMOUS_ENABLED") == "true" {
		return nil, errors.New("GF_AUTH_ANONYMOUS_ENABLED=true is not supported by the stand-in")
	}
	switch c.Protocol {
	case "http":
	case "https":
		cert, key := getenv("GF_SERVER_CERT_FILE"), getenv("GF_SERVER_CERT_KEY")
		if cert == "" || key == "" {
			return nil, errors.New("protocol https needs GF_SERVER_CERT_FILE and GF_SERVER_CERT_KEY")
		}
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("load the server certificate: %w", err)
		}
		minV, err := tlsVersion(get("GF_SERVER_MIN_TLS_VERSION", "TLS1.2"))
		if err != nil {
			return nil, err
		}
		c.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: minV}
	default:
		return nil, fmt.Errorf("GF_SERVER_PROTOCOL=%s is not supported by the stand-in (http, https)", c.Protocol)
	}
	if getenv("GF_SERVER_SERVE_FROM_SUB_PATH") == "true" {
		root := getenv("GF_SERVER_ROOT_URL")
		u, err := url.Parse(root)
		if err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("GF_SERVER_ROOT_URL %q is not a URL", root)
		}
		c.SubPath = strings.TrimSuffix(u.Path, "/")
	}
	return c, nil
}

// tlsVersion reads Grafana's min_tls_version values.
func tlsVersion(s string) (uint16, error) {
	switch s {
	case "TLS1.2":
		return tls.VersionTLS12, nil
	case "TLS1.3":
		return tls.VersionTLS13, nil
	}
	return 0, fmt.Errorf("GF_SERVER_MIN_TLS_VERSION=%s: not TLS1.2 or TLS1.3", s)
}
