package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// jdbcTarget is a PostgreSQL JDBC URL translated to libpq terms.
type jdbcTarget struct {
	Host, Database string
	Port           int
	// Params are libpq connection parameters (sslmode, sslrootcert, ...).
	Params url.Values
	// Ignored lists JDBC parameters the stand-in has no equivalent for.
	Ignored []string
}

// jdbcParams maps PostgreSQL JDBC driver (pgjdbc) parameters to libpq
// parameters, which is what pgx understands. Both drivers share the meaning
// of sslmode (disable, allow, prefer, require, verify-ca, verify-full).
var jdbcParams = map[string]string{
	"sslmode":         "sslmode",
	"sslrootcert":     "sslrootcert",
	"sslcert":         "sslcert",
	"sslkey":          "sslkey",
	"applicationname": "application_name",
	"currentschema":   "search_path",
	"options":         "options",
}

// parseJDBC reads jdbc:postgresql://host[:port]/database[?params].
func parseJDBC(raw string) (jdbcTarget, error) {
	var t jdbcTarget
	rest, ok := strings.CutPrefix(raw, "jdbc:postgresql://")
	if !ok {
		return t, fmt.Errorf("JDBC URL %q: the stand-in speaks PostgreSQL only (jdbc:postgresql://host:port/database)", redactURL(raw))
	}
	u, err := url.Parse("postgres://" + rest)
	if err != nil {
		return t, fmt.Errorf("JDBC URL %q: %v", redactURL(raw), err)
	}
	if u.User != nil {
		return t, fmt.Errorf("JDBC URL %q: credentials belong in the username and password settings", redactURL(raw))
	}
	t.Host = u.Hostname()
	if t.Host == "" {
		t.Host = "localhost"
	}
	t.Port = 5432
	if p := u.Port(); p != "" {
		if t.Port, err = strconv.Atoi(p); err != nil {
			return t, fmt.Errorf("JDBC URL %q: port %q", redactURL(raw), p)
		}
	}
	t.Database = strings.TrimPrefix(u.Path, "/")
	if t.Database == "" {
		return t, fmt.Errorf("JDBC URL %q names no database", redactURL(raw))
	}
	t.Params = url.Values{}
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	nonValidating := false
	sslTrue := false
	for _, k := range keys {
		v := q.Get(k)
		switch lk := strings.ToLower(k); {
		case lk == "connecttimeout":
			t.Params.Set("connect_timeout", v)
		case lk == "ssl":
			sslTrue = strings.EqualFold(v, "true")
		case lk == "sslfactory":
			// pgjdbc's NonValidatingFactory skips certificate checks.
			nonValidating = strings.HasSuffix(v, "NonValidatingFactory")
		case lk == "password" || lk == "user":
			return t, fmt.Errorf("JDBC URL %q: credentials belong in the username and password settings", redactURL(raw))
		case jdbcParams[lk] != "":
			t.Params.Set(jdbcParams[lk], v)
		default:
			t.Ignored = append(t.Ignored, k)
		}
	}
	// pgjdbc: ssl=true without sslmode means verify-full.
	if sslTrue && t.Params.Get("sslmode") == "" {
		t.Params.Set("sslmode", "verify-full")
	}
	if nonValidating && t.Params.Get("sslmode") == "" {
		t.Params.Set("sslmode", "require")
	}
	return t, nil
}

// redactURL shortens a URL for messages: no query and no user
// information, either of which could hold a password.
func redactURL(raw string) string {
	if i := strings.IndexByte(raw, '?'); i >= 0 {
		raw = raw[:i] + "?…"
	}
	if i := strings.Index(raw, "//"); i >= 0 {
		if j := strings.LastIndexByte(raw[i+2:], '@'); j >= 0 {
			raw = raw[:i+2] + "…@" + raw[i+2+j+1:]
		}
	}
	return raw
}

// poolConfig turns a JDBC target and credentials into a pgx pool
// configuration.
func poolConfig(t jdbcTarget, user, password string, maxConns int, connectTimeout time.Duration) (*pgxpool.Config, error) {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.User(user),
		Host:     net.JoinHostPort(t.Host, strconv.Itoa(t.Port)),
		Path:     "/" + t.Database,
		RawQuery: t.Params.Encode(),
	}
	cfg, err := pgxpool.ParseConfig(u.String())
	if err != nil {
		return nil, err
	}
	// The password never goes through a string that could be logged.
	cfg.ConnConfig.Password = password
	cfg.MaxConns = int32(maxConns)
	cfg.MinConns = 0
	if t.Params.Get("connect_timeout") == "" && connectTimeout > 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	cfg.HealthCheckPeriod = 15 * time.Second
	// As HikariCP does before handing out a connection idle for more than
	// its aliveBypassWindowMs (500 ms by default): check it is alive, so a
	// connection PostgreSQL ended (a demo reset or snapshot terminates the
	// tenant's sessions) is replaced instead of failing a request.
	cfg.ShouldPing = func(_ context.Context, p pgxpool.ShouldPingParams) bool { return p.IdleDuration > 500*time.Millisecond }
	return cfg, nil
}
