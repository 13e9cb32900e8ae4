package vault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// The audit log's head kept in Vault.
//
// The installer keeps a copy of the audit log's head (package audit) as
// a new version of one KV v2 key after every entry, written with a token
// that can do nothing else: AuditHeadPolicy lets it create and read
// versions of that key and read its metadata, and renew itself. It
// cannot delete, destroy or undelete a version, nor write the key's
// metadata, so it cannot lower max_versions or set delete_version_after.
// The token is an orphan periodic token (AuditHeadTokenPeriod), renewed
// at every write, made while the installer holds a root token (the
// install's Vault setup, or a later key holders' ceremony in the same
// step, such as unseal after a reboot, finding it missing or dead) and
// kept root-only in the install dir.
//
// What it protects against: root on the host can read the token and add
// versions, but not remove or change the earlier ones. A log rewritten
// from scratch, cut short at its end, or with its last entry rewritten no
// longer leads through every head Vault kept, and audit verify names the
// first that differs, even when a forged newer head was added after them.
// Vault's audit devices record each write with its time and accessor.
//
// What it does not protect against: whoever holds a root token (the key
// holders together) can delete or destroy versions or the whole key (the
// installer token of a ceremony is denied the key, see InstallerPolicy);
// verify then reports the versions Vault no longer holds, but cannot say
// what they were. Versions beyond AuditHeadMaxVersions are pruned by Vault
// itself, so an attacker with the head token can push the genuine ones
// out by writing that many forged versions: verify reports the history
// as cut, and the flood stands in Vault's audit log. While Vault is
// sealed or unreachable, or the token has expired, the head is not kept:
// the entries since are reported as unconfirmed, and the next command
// that reaches Vault writes the head, which covers them.

// AuditHeadPolicyName is the policy of the audit head token.
const AuditHeadPolicyName = "fineract-installer-audit-head"

// AuditHeadKey is the KV v2 key (under KVMount) holding the head.
const AuditHeadKey = "installer/audit-head"

// AuditHeadPolicy allows the head token to add and read versions of
// AuditHeadKey, read its metadata (the list of versions), and renew or
// look up itself; nothing else. KV v2 checks "delete" on data/ for a
// soft delete, and needs a capability on delete/, undelete/, destroy/ or
// on metadata/ for create, update or delete to change history or
// settings: none is granted.
const AuditHeadPolicy = `# Managed by fineract-installer: add versions of the audit log's head, nothing else.
path "` + KVMount + `/data/` + AuditHeadKey + `" {
  capabilities = ["create", "update", "read"]
}
path "` + KVMount + `/metadata/` + AuditHeadKey + `" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
`

// AuditHeadMaxVersions is the number of versions Vault keeps of the head:
// KV v2 keeps 10 by default and destroys older ones on write
// (hashicorp/vault-plugin-secrets-kv v0.25.0, the engine of Vault 1.21.4:
// backend.go defaultMaxVersions, path_data.go). One version per changing
// command makes this decades of use.
const AuditHeadMaxVersions = 100000

// AuditHeadTokenPeriod is the head token's period: it dies when no
// command renews it for that long, and a key holders' ceremony makes a
// new one.
const AuditHeadTokenPeriod = 768 * time.Hour

// Bounds of what is read back from Vault: the key's metadata lists every
// version (about 150 bytes each), and one version's data is a head.
const (
	maxMetadataBytes = 32 << 20
	maxVersionBytes  = 64 << 10
	maxTokenFileSize = 1024
)

// EnsureAuditHeadToken sets up keeping the audit log's head with root, a
// root token: the policy, the key's max_versions, and a head token
// stored at tokenFile unless the one there still works with that policy
// alone. It reports whether a new token was made.
func (c *Conn) EnsureAuditHeadToken(ctx context.Context, root, tokenFile string, emit event.Emitter) (bool, error) {
	emit = event.Or(emit)
	cl, err := c.withToken(root)
	if err != nil {
		return false, err
	}
	cur, err := cl.Sys().GetPolicyWithContext(ctx, AuditHeadPolicyName)
	if err != nil {
		return false, fmt.Errorf("reading policy %s: %w", AuditHeadPolicyName, err)
	}
	if strings.TrimSpace(cur) != strings.TrimSpace(AuditHeadPolicy) {
		if err := cl.Sys().PutPolicyWithContext(ctx, AuditHeadPolicyName, AuditHeadPolicy); err != nil {
			return false, fmt.Errorf("writing policy %s: %w", AuditHeadPolicyName, err)
		}
		emit.Info(eventSubject, "wrote policy "+AuditHeadPolicyName)
	}
	if _, err := cl.Logical().WriteWithContext(ctx, KVMount+"/metadata/"+AuditHeadKey, map[string]interface{}{
		"max_versions": AuditHeadMaxVersions, "delete_version_after": "0s",
	}); err != nil {
		return false, fmt.Errorf("setting max_versions of %s/%s: %w", KVMount, AuditHeadKey, err)
	}
	if old, err := ReadAuditHeadToken(tokenFile); err == nil && headTokenWorks(ctx, cl, old) {
		return false, nil
	}
	renewable := true
	sec, err := cl.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{
		Policies:        []string{AuditHeadPolicyName},
		NoDefaultPolicy: true,
		NoParent:        true,
		Period:          AuditHeadTokenPeriod.String(),
		Renewable:       &renewable,
		DisplayName:     "fineract-installer-audit-head",
	})
	if err != nil {
		return false, fmt.Errorf("creating the audit head token: %w", err)
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return false, errors.New("creating the audit head token: Vault returned no token")
	}
	if err := atomicfile.WriteFile(tokenFile, []byte(sec.Auth.ClientToken+"\n"), 0o600); err != nil {
		_ = cl.Auth().Token().RevokeOrphanWithContext(context.WithoutCancel(ctx), sec.Auth.ClientToken)
		return false, fmt.Errorf("storing the audit head token: %w", err)
	}
	emit.Info(eventSubject, "made a token that can only add versions of the audit log's head")
	return true, nil
}

// headTokenWorks says whether token is alive and carries the head policy
// alone: a file holding anything else is replaced.
func headTokenWorks(ctx context.Context, root *api.Client, token string) bool {
	sec, err := root.Auth().Token().LookupWithContext(ctx, token)
	if err != nil || sec == nil {
		return false
	}
	ps, _ := sec.Data["policies"].([]interface{})
	return len(ps) == 1 && ps[0] == AuditHeadPolicyName
}

// ReadAuditHeadToken reads the head token from path, never through a
// link; a missing file gives an error matching os.ErrNotExist.
func ReadAuditHeadToken(path string) (string, error) {
	return readTokenFile(path, "the audit head token", "a key holders' ceremony (unseal after a reboot, restore) makes a new one")
}

// readTokenFile reads a token the installer keeps root-only in the
// install dir, never through a link, refusing one others could read;
// what names it and remedy says how a new one is made.
func readTokenFile(path, what, remedy string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", what, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("read %s %s: not a regular file", what, path)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s %s is readable by others (mode %v): it is no longer trusted; %s", what, path, fi.Mode().Perm(), remedy)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFileSize+1))
	if err != nil {
		return "", fmt.Errorf("read %s %s: %w", what, path, err)
	}
	token := strings.TrimSpace(string(data))
	if len(data) > maxTokenFileSize || token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", fmt.Errorf("%s %s is not a token", what, path)
	}
	return token, nil
}

// KeepAuditHead renews the head token and writes head as the key's next
// version.
func (c *Conn) KeepAuditHead(ctx context.Context, token string, head audit.Head) error {
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	if _, err := cl.Auth().Token().RenewSelfWithContext(ctx, 0); err != nil {
		return fmt.Errorf("renewing the audit head token: %w", err)
	}
	if _, err := cl.Logical().WriteWithContext(ctx, KVMount+"/data/"+AuditHeadKey, map[string]interface{}{
		"data": map[string]interface{}{"seq": head.Seq, "hash": head.Hash},
	}); err != nil {
		return fmt.Errorf("writing the audit head to %s/%s: %w", KVMount, AuditHeadKey, err)
	}
	return nil
}

// AuditHeads reads every version Vault keeps of the head with token, the
// head token. Everything read is bounded and checked: Vault's answers are
// input like the log. When a version cannot be read, the versions read
// before it are returned with the error.
func (c *Conn) AuditHeads(ctx context.Context, token string) (audit.KeptHistory, error) {
	cl, err := c.withToken(token)
	if err != nil {
		return audit.KeptHistory{}, err
	}
	var meta struct {
		Data struct {
			CurrentVersion int `json:"current_version"`
			OldestVersion  int `json:"oldest_version"`
			Versions       map[string]struct {
				Created   time.Time `json:"created_time"`
				Deleted   string    `json:"deletion_time"`
				Destroyed bool      `json:"destroyed"`
			} `json:"versions"`
		} `json:"data"`
	}
	found, err := readBounded(ctx, cl, KVMount+"/metadata/"+AuditHeadKey, nil, maxMetadataBytes, &meta)
	if err != nil {
		return audit.KeptHistory{}, err
	}
	if !found {
		// EnsureAuditHeadToken writes the key's metadata before it makes
		// the token: with a token, a missing key was deleted.
		return audit.KeptHistory{Erased: true}, nil
	}
	if n := len(meta.Data.Versions); n > AuditHeadMaxVersions+1 || meta.Data.CurrentVersion < 0 {
		return audit.KeptHistory{}, fmt.Errorf("the audit head in Vault lists %d versions, more than it can keep (%d)", n, AuditHeadMaxVersions)
	}
	h := audit.KeptHistory{Current: meta.Data.CurrentVersion}
	for key, v := range meta.Data.Versions {
		n, err := strconv.Atoi(key)
		if err != nil || n < 1 || n > meta.Data.CurrentVersion {
			return audit.KeptHistory{}, fmt.Errorf("the audit head in Vault lists version %q beside current version %d", key, meta.Data.CurrentVersion)
		}
		kv := audit.KeptVersion{Version: n, Written: v.Created}
		switch {
		case v.Destroyed:
			kv.Gone = "destroyed"
		case v.Deleted != "":
			kv.Gone = "deleted"
		}
		h.Versions = append(h.Versions, kv)
	}
	sort.Slice(h.Versions, func(i, j int) bool { return h.Versions[i].Version < h.Versions[j].Version })
	// Oldest first: should the reads be cut short (a flood of versions,
	// a deadline), the genuine heads, written before any forged one, are
	// the ones compared.
	for i := range h.Versions {
		if h.Versions[i].Gone != "" {
			continue
		}
		head, err := readHeadVersion(ctx, cl, h.Versions[i].Version)
		if err != nil {
			read := h
			read.Versions = h.Versions[:i]
			return read, fmt.Errorf("%w (versions %d to %d not read)", err, h.Versions[i].Version, h.Versions[len(h.Versions)-1].Version)
		}
		h.Versions[i].Head = head
	}
	return h, nil
}

// readHeadVersion reads one version of the head.
func readHeadVersion(ctx context.Context, cl *api.Client, n int) (audit.Head, error) {
	var v struct {
		Data struct {
			Data *struct {
				Seq  uint64 `json:"seq"`
				Hash string `json:"hash"`
			} `json:"data"`
		} `json:"data"`
	}
	found, err := readBounded(ctx, cl, KVMount+"/data/"+AuditHeadKey, map[string][]string{"version": {strconv.Itoa(n)}}, maxVersionBytes, &v)
	if err != nil {
		return audit.Head{}, err
	}
	if !found || v.Data.Data == nil {
		return audit.Head{}, fmt.Errorf("version %d of the audit head is listed but Vault returns no data for it", n)
	}
	head := audit.Head{Seq: v.Data.Data.Seq, Hash: v.Data.Data.Hash}
	if err := head.Check(); err != nil {
		return audit.Head{}, fmt.Errorf("version %d of the audit head in Vault: %w", n, err)
	}
	return head, nil
}

// readBounded GETs path and decodes at most limit bytes of its JSON body
// into out; a 404 without data is reported as not found.
func readBounded(ctx context.Context, cl *api.Client, path string, query map[string][]string, limit int64, out interface{}) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	resp, err := cl.Logical().ReadRawWithDataWithContext(ctx, path, query)
	if resp != nil {
		defer resp.Body.Close()
	}
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s from Vault: %w", path, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return false, fmt.Errorf("reading %s from Vault: %w", path, err)
	}
	if int64(len(body)) > limit {
		return false, fmt.Errorf("reading %s from Vault: the answer is larger than %d bytes", path, limit)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return false, fmt.Errorf("reading %s from Vault: %w", path, err)
	}
	return true, nil
}
