package vault

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// Charset is the alphabet of a generated secret.
type Charset string

// Alphabets for generated secrets. All are safe in URLs, env files and
// connection strings without quoting.
const (
	Alphanumeric Charset = "alphanumeric" // A-Z a-z 0-9
	Hex          Charset = "hex"          // 0-9 a-f
	URLSafe      Charset = "urlsafe"      // A-Z a-z 0-9 - _
	// Password is A-Z a-z 0-9 - _ . with at least one of each class
	// (upper, lower, digit, one of "-_."), so it passes people-facing
	// password rules: Fineract's "secure" policy, the realm's Keycloak
	// policy (specialChars(1)). None of it needs quoting in JSON, URLs or
	// an HTTP Basic credential.
	Password Charset = "password"
	// RandomBytes is not an alphabet: the secret is Length random bytes in
	// standard base64, for a key a program uses as bytes (the WAL
	// archive key). It is delivered as a file, never put in a URL.
	RandomBytes Charset = "random-bytes"
)

var alphabets = map[Charset]string{
	Alphanumeric: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	Hex:          "0123456789abcdef",
	URLSafe:      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
	Password:     "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.",
}

// MinSecretLength is the shortest secret the installer generates: 16
// characters even of hex carry 64 bits, and the defaults are far longer.
const MinSecretLength = 16

// KeySpec is one generated value inside a secret.
type KeySpec struct {
	Name    string
	Length  int
	Charset Charset
}

// SecretSpec is one KV v2 secret: Path is the full logical path under
// banking/, e.g. "banking/databases/fineract", "banking/services/keycloak",
// "banking/installer/wal-archive" (the installer's own keys), or
// "banking/tenants/NAME" (a Fineract tenant: its database's and its
// built-in users' passwords).
type SecretSpec struct {
	Path string
	Keys []KeySpec
}

var (
	secretPathRE = regexp.MustCompile(`^banking/(databases|services|tenants|installer)/[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$`)
	keyNameRE    = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

func (s SecretSpec) validate() error {
	if !secretPathRE.MatchString(s.Path) {
		return fmt.Errorf("secret path %q must be banking/databases/NAME, banking/services/NAME, banking/tenants/NAME or banking/installer/NAME (lower case, digits, - and _)", s.Path)
	}
	if len(s.Keys) == 0 {
		return fmt.Errorf("secret %s lists no keys", s.Path)
	}
	seen := map[string]bool{}
	for _, k := range s.Keys {
		if !keyNameRE.MatchString(k.Name) {
			return fmt.Errorf("secret %s: key name %q may only hold letters, digits, '.', '-' and '_'", s.Path, k.Name)
		}
		if seen[k.Name] {
			return fmt.Errorf("secret %s: key %q listed twice", s.Path, k.Name)
		}
		seen[k.Name] = true
		if k.Length < MinSecretLength || k.Length > 4096 {
			return fmt.Errorf("secret %s key %s: length %d is outside %d..4096", s.Path, k.Name, k.Length, MinSecretLength)
		}
		if _, ok := alphabets[k.Charset]; !ok && k.Charset != RandomBytes {
			return fmt.Errorf("secret %s key %s: unknown charset %q", s.Path, k.Name, k.Charset)
		}
	}
	return nil
}

// kvPath splits "banking/databases/x" into the mount-relative path.
func kvPath(p string) string { return strings.TrimPrefix(p, KVMount+"/") }

// generate returns a uniformly random string from cs using crypto/rand.
// For Password it draws again until every character class is present:
// uniform over the strings that pass; at 32 characters about one draw in
// four is repeated, mostly for want of "-_.".
func generate(length int, cs Charset) (string, error) {
	if cs == RandomBytes {
		b := make([]byte, length)
		if _, err := rand.Read(b); err != nil {
			return "", fmt.Errorf("reading the system's random source: %w", err)
		}
		return base64.StdEncoding.EncodeToString(b), nil
	}
	for {
		s, err := draw(length, alphabets[cs])
		if err != nil || cs != Password || hasEveryClass(s) {
			return s, err
		}
	}
}

func hasEveryClass(s string) bool {
	var upper, lower, digit, special bool
	for _, c := range s {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		default:
			special = true
		}
	}
	return upper && lower && digit && special
}

func draw(length int, alphabet string) (string, error) {
	max := big.NewInt(int64(len(alphabet)))
	var b strings.Builder
	b.Grow(length)
	for range length {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", fmt.Errorf("reading the system's random source: %w", err)
		}
		b.WriteByte(alphabet[n.Int64()])
	}
	return b.String(), nil
}

// SecretChange reports what EnsureSecrets did to one secret.
type SecretChange struct {
	Path  string
	Added []string // keys generated in this run; empty if unchanged
}

// EnsureSecrets makes every spec'd secret exist: missing secrets are
// generated, missing keys of existing secrets are added, existing values
// are never changed. Writes use check-and-set, so a concurrent writer makes
// this fail instead of being overwritten. token needs the installer policy.
func (c *Conn) EnsureSecrets(ctx context.Context, token string, specs []SecretSpec, emit event.Emitter) ([]SecretChange, error) {
	emit = event.Or(emit)
	for _, s := range specs {
		if err := s.validate(); err != nil {
			return nil, err
		}
	}
	cl, err := c.withToken(token)
	if err != nil {
		return nil, err
	}
	kv := cl.KVv2(KVMount)
	var changes []SecretChange
	for _, s := range specs {
		ch, err := ensureSecret(ctx, kv, s)
		if err != nil {
			return changes, err
		}
		if len(ch.Added) > 0 {
			emit.Info(eventSubject, fmt.Sprintf("secret %s: generated %s", s.Path, strings.Join(ch.Added, ", ")))
		}
		changes = append(changes, ch)
	}
	return changes, nil
}

func ensureSecret(ctx context.Context, kv *api.KVv2, s SecretSpec) (SecretChange, error) {
	ch := SecretChange{Path: s.Path}
	data := map[string]interface{}{}
	version := 0
	cur, err := kv.Get(ctx, kvPath(s.Path))
	switch {
	case errors.Is(err, api.ErrSecretNotFound):
		// New secret, or its latest version was deleted: check-and-set
		// must then name the current version from the metadata.
		if meta, merr := kv.GetMetadata(ctx, kvPath(s.Path)); merr == nil && meta != nil {
			version = meta.CurrentVersion
		}
	case err != nil:
		return ch, fmt.Errorf("reading secret %s: %w", s.Path, err)
	default:
		for k, v := range cur.Data {
			data[k] = v
		}
		if cur.VersionMetadata != nil {
			version = cur.VersionMetadata.Version
		}
	}
	for _, k := range s.Keys {
		if v, ok := data[k.Name]; ok && v != "" {
			continue
		}
		val, err := generate(k.Length, k.Charset)
		if err != nil {
			return ch, err
		}
		data[k.Name] = val
		ch.Added = append(ch.Added, k.Name)
	}
	if len(ch.Added) == 0 {
		return ch, nil
	}
	sort.Strings(ch.Added)
	if _, err := kv.Put(ctx, kvPath(s.Path), data, api.WithCheckAndSet(version)); err != nil {
		return ch, fmt.Errorf("writing secret %s: %w", s.Path, err)
	}
	return ch, nil
}

// SecretValue reads one key of a secret. A missing secret or key is an
// error: callers ask for values EnsureSecrets made.
func (c *Conn) SecretValue(ctx context.Context, token, path, key string) (string, error) {
	if !secretPathRE.MatchString(path) {
		return "", fmt.Errorf("secret path %q is not one the installer keeps", path)
	}
	cl, err := c.withToken(token)
	if err != nil {
		return "", err
	}
	sec, err := cl.KVv2(KVMount).Get(ctx, kvPath(path))
	if err != nil {
		return "", fmt.Errorf("reading secret %s: %w", path, err)
	}
	v, ok := sec.Data[key].(string)
	if !ok || v == "" {
		return "", fmt.Errorf("secret %s has no value for %s", path, key)
	}
	return v, nil
}

// DeleteSecret deletes a secret with every version and its metadata; a
// secret that is not there is no error.
func (c *Conn) DeleteSecret(ctx context.Context, token, path string) error {
	if !secretPathRE.MatchString(path) {
		return fmt.Errorf("secret path %q is not one the installer keeps", path)
	}
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	if err := cl.KVv2(KVMount).DeleteMetadata(ctx, kvPath(path)); err != nil {
		return fmt.Errorf("deleting secret %s: %w", path, err)
	}
	return nil
}
