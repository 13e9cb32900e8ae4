package vault

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// The off-host store's credentials are written with the key holders'
// root token and read back with a token that can read nothing else;
// setting them again replaces and revokes that token.
func TestOffsiteCredentials(t *testing.T) {
	v := startLabVault(t)
	dir := t.TempDir()
	c, opts := headSetup(t, v, dir)
	ctx := testCtx(t)
	tokenFile := installation.New(dir, "").OffsiteTokenFile()
	if _, err := ReadOffsiteToken(tokenFile); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("token before any credentials: %v, want not found", err)
	}
	shares, err := opts.Shares(ctx, Status{State: StateUnsealed})
	if err != nil {
		t.Fatal(err)
	}
	set := func(access, secret string) string {
		t.Helper()
		if err := c.WithRootToken(ctx, shares, nil, func(ctx context.Context, root string) error {
			return c.SetOffsiteCredentials(ctx, root, tokenFile, access, secret, nil)
		}); err != nil {
			t.Fatalf("SetOffsiteCredentials: %v", err)
		}
		token, err := ReadOffsiteToken(tokenFile)
		if err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(tokenFile); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("token file mode %v (%v), want 0600", fi.Mode().Perm(), err)
		}
		return token
	}
	first := set("AKFIRST", "first-secret")
	if a, s, err := c.OffsiteCredentials(ctx, first); err != nil || a != "AKFIRST" || s != "first-secret" {
		t.Fatalf("OffsiteCredentials = %q %q %v", a, s, err)
	}
	// The token reads the credentials and nothing else.
	if _, err := c.SecretValue(ctx, first, "banking/databases/fineract", "password"); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("the off-host token read a database password: %v", err)
	}

	second := set("AKSECOND", "second-secret")
	if a, s, err := c.OffsiteCredentials(ctx, second); err != nil || a != "AKSECOND" || s != "second-secret" {
		t.Fatalf("after setting again: %q %q %v", a, s, err)
	}
	if _, _, err := c.OffsiteCredentials(ctx, first); err == nil {
		t.Fatal("the replaced token still reads the credentials")
	}

	if err := c.WithRootToken(ctx, shares, nil, func(ctx context.Context, root string) error {
		return c.SetOffsiteCredentials(ctx, root, tokenFile, "AK with space", "x", nil)
	}); err == nil || !strings.Contains(err.Error(), "one word") {
		t.Fatalf("a key with a space: %v", err)
	}
}
