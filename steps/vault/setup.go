package vault

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// SharesSource supplies unseal key shares when the run needs them and does
// not have them: the operator typing them (production), or the demo custody
// file. st tells how many are needed.
type SharesSource func(ctx context.Context, st Status) ([]string, error)

// SetupOptions is everything Setup needs; the pipeline builds it from the
// answers.
type SetupOptions struct {
	Init    InitOptions
	Custody Custody
	Store   RecordStore
	// Shares is asked for shares when Vault is sealed, or when admin work
	// needs a temporary root token, and the init output is not at hand.
	Shares  SharesSource
	Audit   []AuditDevice
	Secrets []SecretSpec
	// Deliveries are written under SecretsDir when both are set.
	Deliveries []Delivery
	SecretsDir string
	// AuditHeadTokenFile, when set, is where the token that keeps the
	// audit log's head in Vault is stored: made while this run holds a
	// root token, unless the one there still works (EnsureAuditHeadToken).
	AuditHeadTokenFile string
}

// Setup brings Vault from whatever state it is in to configured, with
// secrets generated and delivered, acting only on what is missing:
//
//   - not initialised: Initialize (custody, record), unseal with the fresh
//     shares, configure with the initial root token, revoke it at the end;
//   - sealed: unseal with shares from opts.Shares;
//   - initialised earlier: admin work runs under a temporary root token
//     from generate-root (WithRootToken), revoked right after.
//
// On a Vault that is already unsealed and configured it changes nothing.
func (c *Conn) Setup(ctx context.Context, opts SetupOptions, emit event.Emitter) error {
	emit = event.Or(emit)
	if opts.Store == nil {
		return errors.New("setup needs a record store")
	}
	res, err := c.Initialize(ctx, opts.Init, opts.Store, opts.Custody, emit)
	if err != nil {
		return err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return err
	}
	var shares []string
	if st.State == StateSealed {
		if shares, err = c.setupShares(ctx, res, opts, st); err != nil {
			return err
		}
		if st, err = c.UnsealWithShares(ctx, shares, emit); err != nil {
			return err
		}
	}
	// Root work is only what needs root: the audit devices, the KV mount,
	// the installer policy, the audit head token when missing or dead,
	// and a short-lived orphan token carrying the installer policy alone. The root token is revoked right after; secrets are
	// generated and delivered with the installer token, which revokes
	// itself at the end.
	var installer string
	admin := func(ctx context.Context, root string) error {
		if err := c.Configure(ctx, root, opts.Audit, emit); err != nil {
			return err
		}
		if opts.AuditHeadTokenFile != "" {
			// Without it the audit log is still written and verified
			// against its own chain; the next ceremony tries again.
			if _, err := c.EnsureAuditHeadToken(ctx, root, opts.AuditHeadTokenFile, emit); err != nil {
				emit.Warn(fmt.Sprintf("the audit log's head will not be kept in Vault: %v; the next command run with the key holders' shares (unseal after a reboot, restore) tries again", err))
			}
		}
		t, err := c.CreateInstallerToken(ctx, root, InstallerTokenTTL)
		if err != nil {
			return err
		}
		installer = t
		return nil
	}
	if res != nil {
		if err := admin(ctx, res.RootToken); err != nil {
			return fmt.Errorf("%w (the initial root token is still valid; rerun setup to finish and revoke it)", err)
		}
		if err := c.RevokeRoot(ctx, res.RootToken, opts.Store, emit); err != nil {
			return errors.Join(err, c.RevokeToken(context.WithoutCancel(ctx), installer))
		}
		return c.secretsWork(ctx, installer, opts, emit)
	}
	if shares == nil {
		if shares, err = c.setupShares(ctx, nil, opts, st); err != nil {
			return err
		}
	}
	rec, err := opts.Store.Load(ctx)
	if err != nil {
		return err
	}
	err = c.WithRootToken(ctx, shares, emit, func(ctx context.Context, token string) error {
		if err := admin(ctx, token); err != nil {
			return err
		}
		if rec.RootRevokedAt.IsZero() {
			// An earlier run initialised Vault but could not finish (no
			// shares at hand to unseal, or it was stopped), so the initial
			// root token was never revoked; that run's token is gone with it.
			return c.RevokeLostRootTokens(ctx, token, opts.Store, emit)
		}
		return nil
	})
	if err != nil {
		if installer != "" {
			err = errors.Join(err, c.RevokeToken(context.WithoutCancel(ctx), installer))
		}
		return err
	}
	return c.secretsWork(ctx, installer, opts, emit)
}

// InstallerTokenTTL bounds the installer token's life should a run die
// before the token revokes itself.
const InstallerTokenTTL = 15 * time.Minute

// secretsWork generates the missing secrets and delivers them with the
// installer token, then revokes that token whatever happened.
func (c *Conn) secretsWork(ctx context.Context, token string, opts SetupOptions, emit event.Emitter) (err error) {
	defer func() {
		if rerr := c.RevokeToken(context.WithoutCancel(ctx), token); rerr != nil {
			err = errors.Join(err, fmt.Errorf("the installer token could not be revoked (it expires within %s): %w", InstallerTokenTTL, rerr))
		}
	}()
	if _, err := c.EnsureSecrets(ctx, token, opts.Secrets, emit); err != nil {
		return err
	}
	if opts.SecretsDir != "" && len(opts.Deliveries) > 0 {
		return c.Deliver(ctx, token, opts.SecretsDir, opts.Deliveries, emit)
	}
	return nil
}

// setupShares returns the fresh init shares when usable, else asks.
func (c *Conn) setupShares(ctx context.Context, res *InitResult, opts SetupOptions, st Status) ([]string, error) {
	if res != nil && len(opts.Init.PGPKeys) == 0 {
		return res.Keys, nil
	}
	if opts.Shares == nil {
		return nil, fmt.Errorf("unsealing Vault needs %d key shares and no way to ask for them was given", st.Threshold)
	}
	shares, err := opts.Shares(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("getting unseal key shares: %w", err)
	}
	return shares, nil
}

// CustodyFileShares is the SharesSource for demo mode: the shares come
// from the passphrase-encrypted custody file.
func CustodyFileShares(path string, passphrase []byte) SharesSource {
	return func(ctx context.Context, _ Status) ([]string, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		keys, err := ReadCustodyFile(path, passphrase)
		if err != nil {
			return nil, err
		}
		return keys.Keys, nil
	}
}
