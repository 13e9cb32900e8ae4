package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// config is what the stand-in takes from Fineract's settings. Every field
// is read through the property names and defaults of Fineract's
// application.properties, so the container configuration the installer
// renders for the real image configures the stand-in the same way.
type config struct {
	Port        int    // server.port ← FINERACT_SERVER_PORT (8443)
	ContextPath string // server.servlet.context-path ← FINERACT_SERVER_SERVLET_CONTEXT_PATH (/fineract-provider)
	TLS         tlsSettings

	// The tenant store: spring.datasource.hikari.* ← FINERACT_HIKARI_*.
	Store dataSource
	// The default tenant's database: fineract.tenant.* ← FINERACT_DEFAULT_TENANTDB_*.
	Tenant tenantSettings

	BasicAuth       bool // FINERACT_SECURITY_BASICAUTH_ENABLED (true)
	OAuth           bool // FINERACT_SECURITY_OAUTH_ENABLED (false)
	OAuthSettings   oauthSettings
	Exposed         []string // FINERACT_MANAGEMENT_ENDPOINT_WEB_EXPOSURE_INCLUDE
	PrometheusOn    bool     // FINERACT_MANAGEMENT_PROMETHEUS_ENABLED (false)
	ShutdownTimeout time.Duration
}

// dataSource is one Hikari pool's settings.
type dataSource struct {
	Driver            string
	JDBCURL           string
	Username          string
	Password          string
	MaxPoolSize       int
	ConnectionTimeout time.Duration
	TestQuery         string
}

// tenantSettings describe the default tenant Fineract writes into the
// tenant store on its first start.
type tenantSettings struct {
	Identifier  string
	Name        string
	Description string
	Timezone    string
	Host        string
	Port        int
	DBName      string
	Username    string
	Password    string
	ConnParams  string
	// MasterPassword encrypts the tenant store's schema_password values:
	// fineract.tenant.master-password ← FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD (fineract).
	MasterPassword string
}

func loadConfig(p *props) (config, error) {
	var c config
	var errs []string
	num := func(name string, v string) int {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q is not a number", name, v))
		}
		return n
	}
	boolean := func(name string, v string) bool {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %q is not true or false", name, v))
		}
		return b
	}

	c.Port = num("server.port", p.fineract("server.port", "FINERACT_SERVER_PORT", "8443"))
	c.ContextPath = strings.TrimRight(p.fineract("server.servlet.context-path", "FINERACT_SERVER_SERVLET_CONTEXT_PATH", "/fineract-provider"), "/")
	if c.ContextPath != "" && !strings.HasPrefix(c.ContextPath, "/") {
		errs = append(errs, fmt.Sprintf("server.servlet.context-path %q must start with /", c.ContextPath))
	}

	tlsSet, err := loadTLSSettings(p)
	if err != nil {
		errs = append(errs, err.Error())
	}
	c.TLS = tlsSet

	c.Store = dataSource{
		Driver:            p.fineract("spring.datasource.hikari.driver-class-name", "FINERACT_HIKARI_DRIVER_SOURCE_CLASS_NAME", "org.mariadb.jdbc.Driver"),
		JDBCURL:           p.fineract("spring.datasource.hikari.jdbc-url", "FINERACT_HIKARI_JDBC_URL", "jdbc:mariadb://localhost:3306/fineract_tenants"),
		Username:          p.fineract("spring.datasource.hikari.username", "FINERACT_HIKARI_USERNAME", "root"),
		Password:          p.fineract("spring.datasource.hikari.password", "FINERACT_HIKARI_PASSWORD", "mysql"),
		MaxPoolSize:       num("FINERACT_HIKARI_MAXIMUM_POOL_SIZE", p.fineract("spring.datasource.hikari.maximum-pool-size", "FINERACT_HIKARI_MAXIMUM_POOL_SIZE", "10")),
		ConnectionTimeout: time.Duration(num("FINERACT_HIKARI_CONNECTION_TIMEOUT", p.fineract("spring.datasource.hikari.connection-timeout", "FINERACT_HIKARI_CONNECTION_TIMEOUT", "20000"))) * time.Millisecond,
		TestQuery:         p.fineract("spring.datasource.hikari.connection-test-query", "FINERACT_HIKARI_TEST_QUERY", "SELECT 1"),
	}
	if c.Store.Driver != "org.postgresql.Driver" {
		errs = append(errs, fmt.Sprintf("FINERACT_HIKARI_DRIVER_SOURCE_CLASS_NAME is %q: the stand-in speaks PostgreSQL only (org.postgresql.Driver)", c.Store.Driver))
	}
	if c.Store.MaxPoolSize < 1 {
		c.Store.MaxPoolSize = 1
	}

	c.Tenant = tenantSettings{
		Identifier:  p.fineract("fineract.tenant.identifier", "FINERACT_DEFAULT_TENANTDB_IDENTIFIER", "default"),
		Name:        p.fineract("fineract.tenant.name", "FINERACT_DEFAULT_TENANTDB_NAME", "fineract_default"),
		Description: p.fineract("fineract.tenant.description", "FINERACT_DEFAULT_TENANTDB_DESCRIPTION", "Default Demo Tenant"),
		Timezone:    p.fineract("fineract.tenant.timezone", "FINERACT_DEFAULT_TENANTDB_TIMEZONE", "Asia/Kolkata"),
		Host:        p.fineract("fineract.tenant.host", "FINERACT_DEFAULT_TENANTDB_HOSTNAME", "localhost"),
		Port:        num("FINERACT_DEFAULT_TENANTDB_PORT", p.fineract("fineract.tenant.port", "FINERACT_DEFAULT_TENANTDB_PORT", "3306")),
		Username:    p.fineract("fineract.tenant.username", "FINERACT_DEFAULT_TENANTDB_UID", "root"),
		Password:    p.fineract("fineract.tenant.password", "FINERACT_DEFAULT_TENANTDB_PWD", "mysql"),
		ConnParams:  p.fineract("fineract.tenant.parameters", "FINERACT_DEFAULT_TENANTDB_CONN_PARAMS", ""),

		MasterPassword: p.fineract("fineract.tenant.master-password", "FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD", "fineract"),
	}
	c.Tenant.DBName = c.Tenant.Name

	c.BasicAuth = boolean("FINERACT_SECURITY_BASICAUTH_ENABLED", p.fineract("fineract.security.basicauth.enabled", "FINERACT_SECURITY_BASICAUTH_ENABLED", "true"))
	c.OAuth = boolean("FINERACT_SECURITY_OAUTH_ENABLED", p.fineract("fineract.security.oauth.enabled", "FINERACT_SECURITY_OAUTH_ENABLED", "false"))
	if c.OAuth {
		c.OAuthSettings.IssuerURI = p.fineract("spring.security.oauth2.resourceserver.jwt.issuer-uri", "FINERACT_SERVER_OAUTH_RESOURCE_URL", "http://localhost:9000/auth/realms/fineract")
		c.OAuthSettings.JWKSetURI = p.spring("spring.security.oauth2.resourceserver.jwt.jwk-set-uri", "")
		jto, _ := p.lookup("JAVA_TOOL_OPTIONS")
		c.OAuthSettings.TrustStore, _ = javaSystemProperty(jto, "javax.net.ssl.trustStore")
		c.OAuthSettings.TrustStorePassword, _ = javaSystemProperty(jto, "javax.net.ssl.trustStorePassword")
		if t, ok := javaSystemProperty(jto, "javax.net.ssl.trustStoreType"); ok && !strings.EqualFold(t, "PKCS12") {
			errs = append(errs, fmt.Sprintf("javax.net.ssl.trustStoreType=%s: the stand-in reads PKCS12 trust stores only", t))
		}
	}
	if c.BasicAuth && c.OAuth {
		errs = append(errs, "basic authentication and OAuth are both enabled; Fineract refuses to start with both")
	}
	for _, e := range strings.Split(p.fineract("management.endpoints.web.exposure.include", "FINERACT_MANAGEMENT_ENDPOINT_WEB_EXPOSURE_INCLUDE", "health,info,prometheus"), ",") {
		if e = strings.TrimSpace(e); e != "" {
			c.Exposed = append(c.Exposed, e)
		}
	}
	c.PrometheusOn = boolean("FINERACT_MANAGEMENT_PROMETHEUS_ENABLED", p.fineract("management.prometheus.metrics.export.enabled", "FINERACT_MANAGEMENT_PROMETHEUS_ENABLED", "false"))
	c.ShutdownTimeout = 30 * time.Second
	if v, ok := p.lookup("FINERACT_TIMEOUT_PER_SHUTDOWN"); ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			errs = append(errs, fmt.Sprintf("FINERACT_TIMEOUT_PER_SHUTDOWN: %q is not a duration", v))
		}
		c.ShutdownTimeout = d
	}

	if len(errs) > 0 {
		return c, fmt.Errorf("configuration: %s", strings.Join(errs, "; "))
	}
	return c, nil
}

// exposed reports whether an actuator endpoint is exposed over HTTP.
func (c config) exposed(endpoint string) bool {
	for _, e := range c.Exposed {
		if e == "*" || e == endpoint {
			return true
		}
	}
	return false
}

// storeProtocol is the tenant store's JDBC protocol, which Fineract uses
// for every tenant (FineractPlatformTenantConnection.toProtocol).
func (c config) storeProtocol() string {
	if i := strings.Index(c.Store.JDBCURL, "://"); i > 0 {
		return c.Store.JDBCURL[:i]
	}
	return "jdbc:postgresql"
}

// tenantJDBCURL is the default tenant's JDBC URL from its settings.
func (c config) tenantJDBCURL() string {
	return jdbcURL(c.storeProtocol(), c.Tenant.Host, strconv.Itoa(c.Tenant.Port), c.Tenant.DBName, c.Tenant.ConnParams)
}

// jdbcURL is FineractPlatformTenantConnection.toJdbcUrl: protocol, then
// host:port/db and the connection parameters after "?".
func jdbcURL(protocol, host, port, db, params string) string {
	u := fmt.Sprintf("%s://%s:%s/%s", protocol, host, port, db)
	if params != "" {
		u += "?" + params
	}
	return u
}
