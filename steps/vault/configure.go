package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// KVMount is where the installer keeps every service secret (KV v2).
const KVMount = "banking"

// InstallerPolicyName is the policy for the installer's own day-to-day
// token.
const InstallerPolicyName = "fineract-installer"

// InstallerPolicy lets a token read and write secrets under banking/ and
// look up or revoke itself, nothing else (not the audit log's head, see
// AuditHeadPolicy): no sys/ path, so it cannot change
// mounts, audit devices, policies or seal state. Installer tokens are
// created without Vault's default policy, which would add some sys/ paths.
const InstallerPolicy = `# Managed by fineract-installer: service secrets only.
path "banking/data/*" {
  capabilities = ["create", "read", "update", "delete", "list"]
}
path "banking/metadata/*" {
  capabilities = ["read", "list", "delete"]
}
# The audit log's head is kept by its own token; exact paths take
# precedence over the globs above, so this token cannot remove its history.
path "banking/data/installer/audit-head" {
  capabilities = ["deny"]
}
path "banking/metadata/installer/audit-head" {
  capabilities = ["deny"]
}
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
path "auth/token/revoke-self" {
  capabilities = ["update"]
}
`

// AuditDevice is one Vault audit device.
type AuditDevice struct {
	Path    string
	Type    string
	Options map[string]string
}

// DefaultAuditDevices are two devices, because Vault refuses every request
// it cannot audit: with a single file device a full disk would stop the
// whole stack. Vault completes a request when at least one device logs it.
//
//   - file/ writes /vault/logs/audit.log, the durable record to keep and
//     ship.
//   - stdout/ is a second file device writing to the container's stdout,
//     collected by Docker's log driver. If Docker cannot store a log line
//     it drops it rather than blocking the container, so this device keeps
//     Vault serving while the audit volume is full, and the lines still
//     reach `docker logs` and any log shipper.
//
// Socket or syslog devices were not chosen: they add a dependency (a
// listener or a syslog daemon in the container) whose outage blocks just
// like a full disk.
func DefaultAuditDevices() []AuditDevice {
	return []AuditDevice{
		{Path: "file", Type: "file", Options: map[string]string{"file_path": "/vault/logs/audit.log", "mode": "0600"}},
		{Path: "stdout", Type: "file", Options: map[string]string{"file_path": "stdout"}},
	}
}

// Configure makes an unsealed Vault ready for the installer, idempotently:
// KV v2 at banking/, the audit devices, and the installer policy. token
// must be a root (or equally privileged) token.
func (c *Conn) Configure(ctx context.Context, token string, audit []AuditDevice, emit event.Emitter) error {
	emit = event.Or(emit)
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	if err := enableAudit(ctx, cl, audit, emit); err != nil {
		return err
	}
	if err := enableKV(ctx, cl, emit); err != nil {
		return err
	}
	return putInstallerPolicy(ctx, cl, emit)
}

func enableKV(ctx context.Context, cl *api.Client, emit event.Emitter) error {
	mounts, err := cl.Sys().ListMountsWithContext(ctx)
	if err != nil {
		return fmt.Errorf("listing Vault secrets engines: %w", err)
	}
	if m, ok := mounts[KVMount+"/"]; ok {
		if m.Type != "kv" || m.Options["version"] != "2" {
			return fmt.Errorf("%s/ is already mounted as %q (options %v), not KV version 2: it was changed by hand; "+
				"move its data and disable it, then rerun", KVMount, m.Type, m.Options)
		}
		return nil
	}
	err = cl.Sys().MountWithContext(ctx, KVMount, &api.MountInput{
		Type:        "kv",
		Description: "fineract-installer service secrets",
		Options:     map[string]string{"version": "2"},
	})
	if err != nil {
		return fmt.Errorf("enabling KV v2 at %s/: %w", KVMount, err)
	}
	// A fresh KV v2 mount upgrades itself in the background; writes fail
	// until it is ready.
	if err := waitKVReady(ctx, cl); err != nil {
		return err
	}
	emit.Info(eventSubject, "enabled KV version 2 secrets at "+KVMount+"/")
	return nil
}

func waitKVReady(ctx context.Context, cl *api.Client) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := cl.Logical().ReadWithContext(ctx, KVMount+"/config")
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("KV v2 at %s/ did not become ready within 30s: %w", KVMount, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func enableAudit(ctx context.Context, cl *api.Client, devices []AuditDevice, emit event.Emitter) error {
	existing, err := cl.Sys().ListAuditWithContext(ctx)
	if err != nil {
		return fmt.Errorf("listing Vault audit devices: %w", err)
	}
	for _, d := range devices {
		if cur, ok := existing[d.Path+"/"]; ok {
			if cur.Type != d.Type || cur.Options["file_path"] != d.Options["file_path"] {
				return fmt.Errorf("audit device %s/ exists as %s %v, expected %s %v: it was changed by hand; disable it and rerun",
					d.Path, cur.Type, cur.Options, d.Type, d.Options)
			}
			continue
		}
		err := cl.Sys().EnableAuditWithOptionsWithContext(ctx, d.Path, &api.EnableAuditOptions{
			Type: d.Type, Options: d.Options, Description: "fineract-installer",
		})
		if err != nil {
			return fmt.Errorf("enabling audit device %s/ (%s %v): %w; for a file device check that the directory exists and is writable by the vault user",
				d.Path, d.Type, d.Options, err)
		}
		emit.Info(eventSubject, fmt.Sprintf("enabled audit device %s/ (%s)", d.Path, describeAudit(d)))
	}
	return nil
}

func describeAudit(d AuditDevice) string {
	if p := d.Options["file_path"]; p != "" {
		return d.Type + " " + p
	}
	return d.Type
}

func putInstallerPolicy(ctx context.Context, cl *api.Client, emit event.Emitter) error {
	cur, err := cl.Sys().GetPolicyWithContext(ctx, InstallerPolicyName)
	if err != nil {
		return fmt.Errorf("reading policy %s: %w", InstallerPolicyName, err)
	}
	if strings.TrimSpace(cur) == strings.TrimSpace(InstallerPolicy) {
		return nil
	}
	if err := cl.Sys().PutPolicyWithContext(ctx, InstallerPolicyName, InstallerPolicy); err != nil {
		return fmt.Errorf("writing policy %s: %w", InstallerPolicyName, err)
	}
	emit.Info(eventSubject, "wrote policy "+InstallerPolicyName)
	return nil
}

// CreateInstallerToken creates a short-lived, non-renewable token with only
// the installer policy (not even Vault's default policy). It is an orphan,
// so revoking the root token that made it does not revoke it too. token
// must be allowed to create orphan tokens (root).
func (c *Conn) CreateInstallerToken(ctx context.Context, token string, ttl time.Duration) (string, error) {
	cl, err := c.withToken(token)
	if err != nil {
		return "", err
	}
	renewable := false
	sec, err := cl.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{
		Policies:        []string{InstallerPolicyName},
		NoDefaultPolicy: true,
		NoParent:        true,
		TTL:             ttl.String(),
		Renewable:       &renewable,
		DisplayName:     "fineract-installer",
	})
	if err != nil {
		return "", fmt.Errorf("creating an installer token: %w", err)
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return "", fmt.Errorf("creating an installer token: Vault returned no token")
	}
	return sec.Auth.ClientToken, nil
}

// RevokeToken revokes token (and its children) using the token itself.
func (c *Conn) RevokeToken(ctx context.Context, token string) error {
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	// revoke-self takes the token from the header; the argument is unused.
	if err := cl.Auth().Token().RevokeSelfWithContext(ctx, ""); err != nil {
		return fmt.Errorf("revoking a Vault token: %w", err)
	}
	return nil
}

// RevokeRoot revokes the initial root token at the end of setup and notes
// it in the record. Later admin work uses GenerateRoot with the key
// holders.
func (c *Conn) RevokeRoot(ctx context.Context, rootToken string, store RecordStore, emit event.Emitter) error {
	emit = event.Or(emit)
	if err := c.RevokeToken(ctx, rootToken); err != nil {
		return fmt.Errorf("revoking the root token: %w", err)
	}
	// Confirm: Vault must now refuse the token.
	if cl, err := c.withToken(rootToken); err == nil {
		if _, err := cl.Auth().Token().LookupSelfWithContext(ctx); err == nil {
			return errors.New("the root token still works after its revocation; revoke it by hand with `vault token revoke -self`")
		}
	}
	if err := markRootRevoked(ctx, store); err != nil {
		return err
	}
	emit.Info(eventSubject, "root token revoked; admin work now needs the key holders (generate-root)")
	return nil
}

// RevokeLostRootTokens revokes every root token other than token, the
// temporary one in use: the initial root token of a setup that stopped
// before revoking it lives on in Vault although nobody holds it any more.
// It confirms each is refused afterwards and notes the revocation in the
// record.
func (c *Conn) RevokeLostRootTokens(ctx context.Context, token string, store RecordStore, emit event.Emitter) error {
	emit = event.Or(emit)
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	self, err := cl.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		return fmt.Errorf("look up the temporary root token: %w", err)
	}
	own, _ := self.Data["accessor"].(string)
	list, err := cl.Logical().ListWithContext(ctx, "auth/token/accessors")
	if err != nil {
		return fmt.Errorf("list Vault's tokens: %w", err)
	}
	var keys []interface{}
	if list != nil {
		keys, _ = list.Data["keys"].([]interface{})
	}
	revoked := 0
	for _, k := range keys {
		acc, _ := k.(string)
		if acc == "" || acc == own {
			continue
		}
		info, err := cl.Auth().Token().LookupAccessorWithContext(ctx, acc)
		if err != nil {
			continue // expired or revoked meanwhile
		}
		if !hasRootPolicy(info.Data["policies"]) {
			continue
		}
		if err := cl.Auth().Token().RevokeAccessorWithContext(ctx, acc); err != nil {
			return fmt.Errorf("revoke a lost root token: %w", err)
		}
		if _, err := cl.Auth().Token().LookupAccessorWithContext(ctx, acc); err == nil {
			return errors.New("a lost root token still works after its revocation; revoke it by hand with `vault token revoke -accessor`")
		}
		revoked++
	}
	if err := markRootRevoked(ctx, store); err != nil {
		return err
	}
	emit.Info(eventSubject, fmt.Sprintf("revoked %d root token(s) left by an earlier run that stopped before revoking them", revoked))
	return nil
}

// markRootRevoked notes in the record that no initial root token is left.
func markRootRevoked(ctx context.Context, store RecordStore) error {
	rec, err := store.Load(ctx)
	if err != nil {
		return err
	}
	rec.RootRevokedAt = time.Now().UTC()
	return store.Save(ctx, rec)
}

func hasRootPolicy(v interface{}) bool {
	ps, _ := v.([]interface{})
	for _, p := range ps {
		if p == "root" {
			return true
		}
	}
	return false
}

// ProbeAudit sends a request with a token that does not exist, so that it
// is denied and written to every audit device; the path is the marker a
// validation looks for (audit devices hash tokens and values, not paths).
func (c *Conn) ProbeAudit(ctx context.Context, path string) error {
	cl, err := c.withToken("hvs.installer-audit-probe-not-a-real-token")
	if err != nil {
		return err
	}
	_, err = cl.Logical().ReadWithContext(ctx, path)
	return err
}
