package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"software.sslmate.com/src/go-pkcs12"
)

// Fineract as an OAuth2 resource server, as fineract.security.oauth.enabled
// configures it (apache/fineract fineract-provider,
// infrastructure/core/config/OAuth2SecurityConfig.java): Spring Security
// decodes the bearer JWT with the issuer's keys and checks its `iss`
// against spring.security.oauth2.resourceserver.jwt.issuer-uri
// (application.properties: ${FINERACT_SERVER_OAUTH_RESOURCE_URL}); the keys
// come from ...jwt.jwk-set-uri when set, else from the jwks_uri of the
// issuer's discovery document (Spring Boot's resource server
// auto-configuration). The converter then loads the user named by the
// token's subject (loadUserByUsername(jwt.getSubject())); an unknown user
// is an invalid token. The JVM's trust store (javax.net.ssl.trustStore in
// JAVA_TOOL_OPTIONS) decides which TLS certificates the key download trusts.

// oauthSettings are the resource server's settings.
type oauthSettings struct {
	IssuerURI string // spring.security.oauth2.resourceserver.jwt.issuer-uri
	JWKSetURI string // spring.security.oauth2.resourceserver.jwt.jwk-set-uri
	// TrustStore and its password, from JAVA_TOOL_OPTIONS' -D options;
	// empty: the system's roots (the JVM's cacerts).
	TrustStore, TrustStorePassword string
}

// javaSystemProperty returns -Dname=value from JAVA_TOOL_OPTIONS.
func javaSystemProperty(opts, name string) (string, bool) {
	for _, f := range strings.Fields(opts) {
		if v, ok := strings.CutPrefix(f, "-D"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// clockSkew is Spring Security's default allowance on exp and nbf
// (JwtTimestampValidator: 60 seconds).
const clockSkew = 60 * time.Second

// verifier checks bearer tokens against the issuer's keys.
type verifier struct {
	set    oauthSettings
	client *http.Client

	mu      sync.Mutex
	keys    map[string]*rsa.PublicKey
	fetched time.Time
}

func newVerifier(set oauthSettings) (*verifier, error) {
	roots, err := trustRoots(set)
	if err != nil {
		return nil, err
	}
	return &verifier{set: set, client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}}}, nil
}

func trustRoots(set oauthSettings) (*x509.CertPool, error) {
	if set.TrustStore == "" {
		return x509.SystemCertPool()
	}
	data, err := os.ReadFile(set.TrustStore)
	if err != nil {
		return nil, fmt.Errorf("javax.net.ssl.trustStore: %w", err)
	}
	certs, err := pkcs12.DecodeTrustStore(data, set.TrustStorePassword)
	if err != nil {
		return nil, fmt.Errorf("javax.net.ssl.trustStore %s: %w", set.TrustStore, err)
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

func (v *verifier) getJSON(ctx context.Context, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out)
}

// jwksURI is the key set's location: the setting, else the issuer's
// discovery document's jwks_uri (whose issuer must be the issuer).
func (v *verifier) jwksURI(ctx context.Context) (string, error) {
	if v.set.JWKSetURI != "" {
		return v.set.JWKSetURI, nil
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := v.getJSON(ctx, strings.TrimSuffix(v.set.IssuerURI, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return "", err
	}
	if doc.Issuer != v.set.IssuerURI {
		return "", fmt.Errorf("the issuer %q in the discovery document is not %q", doc.Issuer, v.set.IssuerURI)
	}
	return doc.JWKSURI, nil
}

// key returns the RSA key with a key id, fetching the set when the id is
// unknown (at most every 10 seconds).
func (v *verifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	if time.Since(v.fetched) < 10*time.Second {
		return nil, fmt.Errorf("no key %q in the issuer's key set", kid)
	}
	v.fetched = time.Now()
	uri, err := v.jwksURI(ctx)
	if err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	var set struct {
		Keys []struct {
			Kid, Kty, Use, N, E string
		} `json:"keys"`
	}
	if err := v.getJSON(ctx, uri, &set); err != nil {
		return nil, fmt.Errorf("key set: %w", err)
	}
	v.keys = map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, errN := base64.RawURLEncoding.DecodeString(k.N)
		e, errE := base64.RawURLEncoding.DecodeString(k.E)
		if errN != nil || errE != nil {
			continue
		}
		v.keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
	}
	if k, ok := v.keys[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("no key %q in the issuer's key set", kid)
}

// claims is a verified token's payload.
type claims struct {
	Subject string
	Scope   string
}

// verify checks a compact JWS: RS256 with a key of the issuer, `iss` equal
// to the issuer, exp and nbf within the clock skew.
func (v *verifier) verify(ctx context.Context, token string) (claims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return claims{}, errors.New("not a JWS in compact form")
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return claims{}, errors.New("bad header")
	}
	var h struct{ Alg, Kid string }
	if err := json.Unmarshal(hb, &h); err != nil || h.Alg != "RS256" {
		return claims{}, fmt.Errorf("unsupported algorithm %q", h.Alg)
	}
	k, err := v.key(ctx, h.Kid)
	if err != nil {
		return claims{}, err
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return claims{}, errors.New("bad signature encoding")
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig); err != nil {
		return claims{}, errors.New("invalid signature")
	}
	pb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return claims{}, errors.New("bad payload")
	}
	if err := uniqueMembers(pb); err != nil {
		return claims{}, err
	}
	var p struct {
		Iss   string   `json:"iss"`
		Sub   string   `json:"sub"`
		Exp   *float64 `json:"exp"`
		Nbf   *float64 `json:"nbf"`
		Scope string   `json:"scope"`
	}
	if err := json.Unmarshal(pb, &p); err != nil {
		return claims{}, errors.New("payload is not a JSON object")
	}
	if p.Iss != v.set.IssuerURI {
		return claims{}, fmt.Errorf("the iss claim %q is not valid", p.Iss)
	}
	now := time.Now()
	if p.Exp != nil && now.After(time.Unix(int64(*p.Exp), 0).Add(clockSkew)) {
		return claims{}, errors.New("jwt expired")
	}
	if p.Nbf != nil && now.Before(time.Unix(int64(*p.Nbf), 0).Add(-clockSkew)) {
		return claims{}, errors.New("jwt used before nbf")
	}
	return claims{Subject: p.Sub, Scope: p.Scope}, nil
}

// uniqueMembers refuses a claims set with a member name twice: RFC 7519
// section 4 requires unique claim names and lets parsers reject
// duplicates; the stand-in does rather than guess which value counts.
func uniqueMembers(payload []byte) error {
	dec := json.NewDecoder(bytes.NewReader(payload))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("payload is not a JSON object")
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errors.New("payload is not a JSON object")
		}
		name, _ := t.(string)
		if seen[name] {
			return fmt.Errorf("duplicate claim %q", name)
		}
		seen[name] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return errors.New("payload is not a JSON object")
		}
	}
	return nil
}

// bearerUser authenticates a request in OAuth mode: the token verified,
// then its subject loaded from the tenant's m_appuser
// (loadUserByUsername(jwt.getSubject()): active users only; unknown is an
// invalid token). The token's scopes become the authorities (Spring's
// JwtGrantedAuthoritiesConverter with an empty prefix).
func (s *server) bearerUser(r *http.Request, db *pgxpool.Pool) (principal, bool, error) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		tok, ok = strings.CutPrefix(r.Header.Get("Authorization"), "bearer ")
	}
	if !ok || s.oauth == nil {
		return principal{}, false, nil
	}
	c, err := s.oauth.verify(r.Context(), tok)
	if err != nil {
		s.log.Warn("Exception occurred: An error occurred while attempting to decode the Jwt: " + err.Error())
		return principal{}, false, nil
	}
	u, err := userByName(r.Context(), db, c.Subject)
	if errors.Is(err, pgx.ErrNoRows) {
		s.log.Warn(fmt.Sprintf("Exception occurred: UsernameNotFoundException: Username %q not found", c.Subject))
		return principal{}, false, nil
	}
	if err != nil {
		return principal{}, false, fmt.Errorf("load user %q: %w", c.Subject, err)
	}
	return principal{appUser: u, scopes: strings.Fields(c.Scope), token: tok}, true, nil
}

// userDetails is GET /api/v1/userdetails (UserDetailsApiResource), in the
// shape Fineract serialises AuthenticatedOauthUserData: nulls left out,
// permissions the token's authorities plus TWOFACTOR_AUTHENTICATED (added
// by InsecureTwoFactorAuthenticationFilter when 2FA is off).
func userDetails(p principal) map[string]any {
	roles := []map[string]any{}
	for _, r := range p.Roles {
		roles = append(roles, map[string]any{"id": r.ID, "name": r.Name, "description": r.Description, "disabled": r.Disabled})
	}
	return map[string]any{
		"username":                          p.Username,
		"userId":                            p.ID,
		"accessToken":                       p.token,
		"authenticated":                     true,
		"officeId":                          p.OfficeID,
		"officeName":                        p.OfficeName,
		"roles":                             roles,
		"permissions":                       append(append([]string{}, p.scopes...), "TWOFACTOR_AUTHENTICATED"),
		"shouldRenewPassword":               false,
		"isTwoFactorAuthenticationRequired": false,
	}
}
