package vault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/event"
)

// The off-host store's credentials in Vault.
//
// The access key and secret key of the S3-compatible store holding the
// off-host copy are kept in KV v2 at OffsiteKey. They are written with a
// temporary root token (the key holders' shares), which also makes an
// orphan periodic token that can read that one key and renew itself,
// kept root-only in the install dir like the audit head token. With it a
// copy at the end of an unattended backup, `backup offsite copy` and
// validate read the credentials without the key holders, and without
// any other secret. The token dies when no copy renews it for
// OffsiteTokenPeriod; setting the credentials again makes a new one.

// OffsiteKey is the KV v2 key (under KVMount) holding the credentials.
const OffsiteKey = "installer/offsite-s3"

// The keys of the secret at OffsiteKey.
const (
	OffsiteAccessKey = "access_key"
	OffsiteSecretKey = "secret_key"
)

// OffsiteReadPolicyName is the policy of the off-host read token.
const OffsiteReadPolicyName = "fineract-installer-offsite-read"

// OffsiteReadPolicy lets the token read the credentials and renew or look
// up itself; nothing else.
const OffsiteReadPolicy = `# Managed by fineract-installer: read the off-host store's credentials, nothing else.
path "` + KVMount + `/data/` + OffsiteKey + `" {
  capabilities = ["read"]
}
path "auth/token/renew-self" {
  capabilities = ["update"]
}
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
`

// OffsiteTokenPeriod is the read token's period: every copy renews it.
const OffsiteTokenPeriod = AuditHeadTokenPeriod

// maxCredentialLength bounds a key as the store gives it (AWS secret keys
// are 40 characters; other stores' are longer but not this long).
const maxCredentialLength = 1024

// SetOffsiteCredentials stores the off-host store's credentials with
// root, a root token, and replaces the read token at tokenFile with a new
// one (the old one is revoked).
func (c *Conn) SetOffsiteCredentials(ctx context.Context, root, tokenFile, accessKey, secretKey string, emit event.Emitter) error {
	emit = event.Or(emit)
	for name, v := range map[string]string{"access key": accessKey, "secret key": secretKey} {
		if v == "" || len(v) > maxCredentialLength || strings.ContainsAny(v, " \t\r\n") {
			return fmt.Errorf("the off-host store's %s must be one word of 1 to %d characters", name, maxCredentialLength)
		}
	}
	cl, err := c.withToken(root)
	if err != nil {
		return err
	}
	if _, err := cl.KVv2(KVMount).Put(ctx, OffsiteKey, map[string]interface{}{OffsiteAccessKey: accessKey, OffsiteSecretKey: secretKey}); err != nil {
		return fmt.Errorf("writing the off-host store's credentials to %s/%s: %w", KVMount, OffsiteKey, err)
	}
	if err := cl.Sys().PutPolicyWithContext(ctx, OffsiteReadPolicyName, OffsiteReadPolicy); err != nil {
		return fmt.Errorf("writing policy %s: %w", OffsiteReadPolicyName, err)
	}
	renewable := true
	sec, err := cl.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{
		Policies:        []string{OffsiteReadPolicyName},
		NoDefaultPolicy: true,
		NoParent:        true,
		Period:          OffsiteTokenPeriod.String(),
		Renewable:       &renewable,
		DisplayName:     "fineract-installer-offsite-read",
	})
	if err != nil {
		return fmt.Errorf("creating the off-host read token: %w", err)
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return errors.New("creating the off-host read token: Vault returned no token")
	}
	old, oldErr := ReadOffsiteToken(tokenFile)
	if err := atomicfile.WriteFile(tokenFile, []byte(sec.Auth.ClientToken+"\n"), 0o600); err != nil {
		_ = cl.Auth().Token().RevokeOrphanWithContext(context.WithoutCancel(ctx), sec.Auth.ClientToken)
		return fmt.Errorf("storing the off-host read token: %w", err)
	}
	if oldErr == nil && old != sec.Auth.ClientToken {
		// Best effort: a token already dead or revoked is no loss.
		_ = cl.Auth().Token().RevokeOrphanWithContext(ctx, old)
	}
	emit.Info(eventSubject, "stored the off-host store's credentials and made a token that can only read them")
	return nil
}

// ReadOffsiteToken reads the off-host read token from path, never
// through a link; a missing file gives an error matching os.ErrNotExist.
func ReadOffsiteToken(path string) (string, error) {
	return readTokenFile(path, "the off-host read token", offsiteRemedy)
}

// offsiteRemedy says how a new off-host read token is made.
const offsiteRemedy = "`fineract-installer backup offsite set-credentials` makes a new one"

// OffsiteCredentials renews token, the off-host read token, and reads the
// credentials with it.
func (c *Conn) OffsiteCredentials(ctx context.Context, token string) (accessKey, secretKey string, err error) {
	cl, err := c.withToken(token)
	if err != nil {
		return "", "", err
	}
	if _, err := cl.Auth().Token().RenewSelfWithContext(ctx, 0); err != nil {
		return "", "", fmt.Errorf("renewing the off-host read token: %w", err)
	}
	sec, err := cl.KVv2(KVMount).Get(ctx, OffsiteKey)
	if err != nil {
		return "", "", fmt.Errorf("reading the off-host store's credentials from %s/%s: %w", KVMount, OffsiteKey, err)
	}
	accessKey, _ = sec.Data[OffsiteAccessKey].(string)
	secretKey, _ = sec.Data[OffsiteSecretKey].(string)
	if accessKey == "" || secretKey == "" {
		return "", "", fmt.Errorf("%s/%s holds no %s and %s", KVMount, OffsiteKey, OffsiteAccessKey, OffsiteSecretKey)
	}
	return accessKey, secretKey, nil
}
