package vault

import (
	"context"
	"path/filepath"
	"testing"
)

// TestTenantSecretsUnderAnInstallerToken: day-2 work on a tenant's secret
// (banking/tenants/NAME) runs under a token with the installer policy
// alone, made from the key shares and revoked when the work ends; the
// secret is generated once, read back, and deleted with its history.
func TestTenantSecretsUnderAnInstallerToken(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)
	dir := t.TempDir()
	keysFile := filepath.Join(dir, "vault-keys.enc")
	pass := []byte("classroom passphrase 42")
	opts := SetupOptions{Init: DemoInit(), Custody: FileCustody(keysFile, pass), Store: FileRecordStore{Path: filepath.Join(dir, "record.json")},
		Shares: CustodyFileShares(keysFile, pass), Audit: DefaultAuditDevices(), Secrets: testSpecs}
	if err := c.Setup(ctx, opts, nil); err != nil {
		t.Fatal(err)
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shares, err := opts.Shares(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	const path, key = "banking/tenants/student1", "db_password"
	spec := []SecretSpec{{Path: path, Keys: []KeySpec{{Name: key, Length: 32, Charset: Alphanumeric}}}}
	var used string
	var first string
	err = c.WithInstallerToken(ctx, shares, nil, func(ctx context.Context, token string) error {
		used = token
		if _, err := c.EnsureSecrets(ctx, token, spec, nil); err != nil {
			return err
		}
		if first, err = c.SecretValue(ctx, token, path, key); err != nil {
			return err
		}
		if _, err := c.EnsureSecrets(ctx, token, spec, nil); err != nil {
			return err
		}
		again, err := c.SecretValue(ctx, token, path, key)
		if err != nil {
			return err
		}
		if again != first || len(first) != 32 {
			t.Errorf("the tenant's password changed on a second ensure (%d chars, then %d)", len(first), len(again))
		}
		if err := c.DeleteSecret(ctx, token, path); err != nil {
			return err
		}
		if _, err := c.SecretValue(ctx, token, path, key); err == nil {
			t.Error("the tenant's secret is still readable after DeleteSecret")
		}
		return c.DeleteSecret(ctx, token, path) // deleting again is no error
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeToken(ctx, used); err == nil {
		t.Error("the installer token still worked after WithInstallerToken returned")
	}
	if _, err := c.SecretValue(ctx, used, "banking/services/../../sys/x", key); err == nil {
		t.Error("a path outside the installer's secrets was accepted")
	}
	assertSecretsWorkWithoutRoot(t, v)
}
