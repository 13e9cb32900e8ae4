package main

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// store keeps the stand-in's state in PostgreSQL, as Keycloak keeps its
// realms, keys and users in its database.
type store struct {
	pool *pgxpool.Pool
}

// client is the part of a ClientRepresentation the stand-in uses.
type client struct {
	ClientID                  string            `json:"clientId"`
	Enabled                   *bool             `json:"enabled"`
	PublicClient              bool              `json:"publicClient"`
	StandardFlowEnabled       *bool             `json:"standardFlowEnabled"`
	DirectAccessGrantsEnabled bool              `json:"directAccessGrantsEnabled"`
	RedirectURIs              []string          `json:"redirectUris"`
	Attributes                map[string]string `json:"attributes"`
	DefaultClientScopes       []string          `json:"defaultClientScopes"`
	ProtocolMappers           []struct {
		ProtocolMapper string            `json:"protocolMapper"`
		Config         map[string]string `json:"config"`
	} `json:"protocolMappers"`
}

func (c client) enabled() bool      { return c.Enabled == nil || *c.Enabled }
func (c client) standardFlow() bool { return c.StandardFlowEnabled == nil || *c.StandardFlowEnabled }

// subjectIsUsername says whether a protocol mapper of the client puts the
// username into the access token's sub (oidc-usermodel-property-mapper,
// user.attribute=username, claim.name=sub, access.token.claim=true).
func (c client) subjectIsUsername() bool {
	for _, m := range c.ProtocolMappers {
		if m.ProtocolMapper == "oidc-usermodel-property-mapper" && m.Config["user.attribute"] == "username" &&
			m.Config["claim.name"] == "sub" && m.Config["access.token.claim"] == "true" {
			return true
		}
	}
	return false
}

// realm is the part of a RealmRepresentation the stand-in uses; Raw is the
// representation as imported (without users), which the admin API returns.
type realm struct {
	Name                  string   `json:"realm"`
	Enabled               bool     `json:"enabled"`
	SSOSessionIdleTimeout int      `json:"ssoSessionIdleTimeout"`
	SSOSessionMaxLifespan int      `json:"ssoSessionMaxLifespan"`
	AccessTokenLifespan   int      `json:"accessTokenLifespan"`
	PasswordPolicy        string   `json:"passwordPolicy"`
	Clients               []client `json:"clients"`
	Raw                   map[string]any
	Key                   *rsa.PrivateKey
}

func (r *realm) client(id string) (client, bool) {
	for _, c := range r.Clients {
		if c.ClientID == id && c.enabled() {
			return c, true
		}
	}
	return client{}, false
}

// user is one user of a realm.
type user struct {
	ID, Realm, Username     string
	FirstName, LastName     string
	Email                   string
	Enabled, EmailVerified  bool
	passwordHash, passwordS string
}

// jdbcToPGX turns jdbc:postgresql://host:port/db?sslmode=...&sslrootcert=...
// into a pgx connection string.
func jdbcToPGX(raw, user string) (string, error) {
	rest, ok := strings.CutPrefix(raw, "jdbc:postgresql://")
	if !ok {
		return "", fmt.Errorf("db-url: the stand-in speaks jdbc:postgresql:// only")
	}
	u, err := url.Parse("postgres://" + rest)
	if err != nil || u.User != nil {
		return "", fmt.Errorf("db-url: not a JDBC URL without credentials")
	}
	q := url.Values{}
	for k, v := range u.Query() {
		switch strings.ToLower(k) {
		case "sslmode", "sslrootcert":
			q.Set(strings.ToLower(k), v[0])
		default:
			return "", fmt.Errorf("db-url: parameter %q is not supported by the stand-in", k)
		}
	}
	u.User = url.User(user)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func openStore(ctx context.Context, cfg config, log *logger) (*store, error) {
	dsn, err := jdbcToPGX(cfg.DBURL, cfg.DBUser)
	if err != nil {
		return nil, err
	}
	pc, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("db-url: %w", err)
	}
	pc.ConnConfig.Password = cfg.DBPassword
	pc.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	// Keycloak waits for its database at start; so does the stand-in.
	for i := 0; ; i++ {
		err = pool.Ping(ctx)
		if err == nil {
			break
		}
		if i == 60 || ctx.Err() != nil {
			pool.Close()
			return nil, fmt.Errorf("database %s: %w", pc.ConnConfig.Host, err)
		}
		log.Warn("database not reachable yet: " + err.Error())
		time.Sleep(2 * time.Second)
	}
	_, err = pool.Exec(ctx, `
CREATE TABLE IF NOT EXISTS standin_realm (name text PRIMARY KEY, rep jsonb NOT NULL, signing_key text NOT NULL);
CREATE TABLE IF NOT EXISTS standin_user (
  id text PRIMARY KEY, realm text NOT NULL REFERENCES standin_realm(name), username text NOT NULL,
  first_name text NOT NULL DEFAULT '', last_name text NOT NULL DEFAULT '', email text NOT NULL DEFAULT '',
  enabled boolean NOT NULL, email_verified boolean NOT NULL DEFAULT false,
  password_hash text NOT NULL DEFAULT '', password_salt text NOT NULL DEFAULT '',
  UNIQUE (realm, username));`)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("create tables: %w", err)
	}
	log.Info("database " + pc.ConnConfig.Host + "/" + pc.ConnConfig.Database + " ready (TLS " + tlsMode(dsn) + ")")
	return &store{pool: pool}, nil
}

func tlsMode(dsn string) string {
	u, _ := url.Parse(dsn)
	if m := u.Query().Get("sslmode"); m != "" {
		return m
	}
	return "prefer"
}

func (s *store) Close() { s.pool.Close() }

func (s *store) ready(ctx context.Context) error { return s.pool.Ping(ctx) }

// bootstrap creates the master realm with the bootstrap admin and the
// admin-cli client on the first start, as Keycloak does.
func (s *store) bootstrap(ctx context.Context, cfg config) error {
	if _, err := s.realm(ctx, "master"); err == nil {
		return nil
	}
	master := map[string]any{
		"realm": "master", "enabled": true, "sslRequired": "external",
		"ssoSessionIdleTimeout": 1800, "ssoSessionMaxLifespan": 36000, "accessTokenLifespan": 60,
		"clients": []any{map[string]any{"clientId": "admin-cli", "publicClient": true,
			"standardFlowEnabled": false, "directAccessGrantsEnabled": true}},
		"users": []any{map[string]any{"username": cfg.AdminUser, "enabled": true,
			"credentials": []any{map[string]any{"type": "password", "value": cfg.AdminPassword}}}},
	}
	data, _ := json.Marshal(master)
	return s.importRealm(ctx, data, false)
}

// importDir imports every *.json realm file whose realm does not exist.
func (s *store) importDir(ctx context.Context, dir string, log *logger) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("import %s: %w", f, err)
		}
		var head struct {
			Realm string `json:"realm"`
		}
		if err := json.Unmarshal(data, &head); err != nil || head.Realm == "" {
			return fmt.Errorf("import %s: not a realm representation", f)
		}
		if _, err := s.realm(ctx, head.Realm); err == nil {
			log.Info("Realm '" + head.Realm + "' already exists. Import skipped")
			continue
		}
		if err := s.importRealm(ctx, data, true); err != nil {
			return fmt.Errorf("import %s: %w", f, err)
		}
		log.Info("Realm '" + head.Realm + "' imported")
	}
	return nil
}

func (s *store) importRealm(ctx context.Context, data []byte, checkPolicy bool) error {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	var r realm
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	var withUsers struct {
		Users []userRep `json:"users"`
	}
	if err := json.Unmarshal(data, &withUsers); err != nil {
		return err
	}
	delete(raw, "users")
	rep, _ := json.Marshal(raw)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: mustPKCS8(key)})
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx) //nolint:errcheck // rolled back only when not committed
	if _, err := tx.Exec(ctx, `INSERT INTO standin_realm (name, rep, signing_key) VALUES ($1, $2, $3)`, r.Name, rep, string(keyPEM)); err != nil {
		return err
	}
	for _, u := range withUsers.Users {
		policy := ""
		if checkPolicy {
			policy = r.PasswordPolicy
		}
		if _, err := addUser(ctx, execWith(tx), r.Name, policy, u); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func mustPKCS8(k *rsa.PrivateKey) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return b
}

var errNotFound = errors.New("not found")

func (s *store) realm(ctx context.Context, name string) (*realm, error) {
	var rep []byte
	var keyPEM string
	err := s.pool.QueryRow(ctx, `SELECT rep, signing_key FROM standin_realm WHERE name = $1`, name).Scan(&rep, &keyPEM)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, err
	}
	r := &realm{}
	if err := json.Unmarshal(rep, r); err != nil {
		return nil, err
	}
	if err := json.Unmarshal(rep, &r.Raw); err != nil {
		return nil, err
	}
	blk, _ := pem.Decode([]byte(keyPEM))
	if blk == nil {
		return nil, fmt.Errorf("realm %s: bad signing key", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, err
	}
	r.Key = k.(*rsa.PrivateKey)
	return r, nil
}

// userRep is a UserRepresentation (the fields the stand-in keeps).
type userRep struct {
	ID            string `json:"id,omitempty"`
	Username      string `json:"username"`
	Enabled       bool   `json:"enabled"`
	FirstName     string `json:"firstName,omitempty"`
	LastName      string `json:"lastName,omitempty"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"emailVerified"`
	Credentials   []struct {
		Type      string `json:"type"`
		Value     string `json:"value"`
		Temporary bool   `json:"temporary"`
	} `json:"credentials,omitempty"`
}

var errConflict = errors.New("user exists with same username")

// addUser creates a user; policy, when set, is the realm's password policy
// the password must meet.
func addUser(ctx context.Context, exec execer, realmName, policy string, u userRep) (string, error) {
	u.Username = strings.ToLower(strings.TrimSpace(u.Username))
	if u.Username == "" {
		return "", fmt.Errorf("username is required")
	}
	var hash, salt string
	for _, c := range u.Credentials {
		if c.Type != "password" {
			continue
		}
		if err := checkPolicy(policy, u.Username, c.Value); err != nil {
			return "", err
		}
		hash, salt = hashPassword(c.Value)
	}
	id := newUUID()
	n, err := exec(ctx, `INSERT INTO standin_user (id, realm, username, first_name, last_name, email, enabled, email_verified, password_hash, password_salt)
VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT (realm, username) DO NOTHING`,
		id, realmName, u.Username, u.FirstName, u.LastName, u.Email, u.Enabled, u.EmailVerified, hash, salt)
	if err != nil {
		return "", err
	}
	if n == 0 {
		return "", errConflict
	}
	return id, nil
}

// execer runs a statement and returns the number of rows it affected.
type execer func(ctx context.Context, sql string, args ...any) (int64, error)

func execWith(e interface {
	Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
}) execer {
	return func(ctx context.Context, sql string, args ...any) (int64, error) {
		tag, err := e.Exec(ctx, sql, args...)
		return tag.RowsAffected(), err
	}
}

func (s *store) addUser(ctx context.Context, r *realm, u userRep) (string, error) {
	return addUser(ctx, execWith(s.pool), r.Name, r.PasswordPolicy, u)
}

func (s *store) userBy(ctx context.Context, realmName, column, value string) (*user, error) {
	if column != "id" && column != "username" {
		return nil, fmt.Errorf("bad column")
	}
	u := &user{}
	err := s.pool.QueryRow(ctx, `SELECT id, realm, username, first_name, last_name, email, enabled, email_verified, password_hash, password_salt
FROM standin_user WHERE realm = $1 AND `+column+` = $2`, realmName, value).
		Scan(&u.ID, &u.Realm, &u.Username, &u.FirstName, &u.LastName, &u.Email, &u.Enabled, &u.EmailVerified, &u.passwordHash, &u.passwordS)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, errNotFound
	}
	return u, err
}

func (s *store) deleteUser(ctx context.Context, realmName, id string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM standin_user WHERE realm = $1 AND id = $2`, realmName, id)
	return tag.RowsAffected() == 1, err
}

// checkPassword compares a password with the user's hash.
func (u *user) checkPassword(password string) bool {
	if u.passwordHash == "" {
		return false
	}
	salt, err := base64.StdEncoding.DecodeString(u.passwordS)
	if err != nil {
		return false
	}
	got, err := pbkdf2.Key(sha512.New, password, salt, pbkdf2Iterations, 64)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(base64.StdEncoding.EncodeToString(got)), []byte(u.passwordHash)) == 1
}

// pbkdf2Iterations is Keycloak's pbkdf2-sha512 default (Keycloak 26 hashes
// with argon2 by default outside FIPS mode; the stand-in uses the standard
// library's PBKDF2).
const pbkdf2Iterations = 210000

func hashPassword(password string) (hash, salt string) {
	s := make([]byte, 16)
	_, _ = rand.Read(s)
	k, err := pbkdf2.Key(sha512.New, password, s, pbkdf2Iterations, 64)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(k), base64.StdEncoding.EncodeToString(s)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
