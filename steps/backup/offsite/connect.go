package offsite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// ErrNotConfigured says the answers name no off-host store.
var ErrNotConfigured = errors.New("no off-host copy is configured (backup.offsite.s3 in the answers)")

// ErrNoCredentials: the answers name a store, and its credentials have not
// been set (as right after install: they go into Vault, which install
// sets up).
var ErrNoCredentials = errors.New("the off-host store's credentials are not set")

// Installation is what reaching an installation's store takes.
type Installation struct {
	Answers answers.Answers
	Project string
	// CA is the installation's CA certificate (PEM), trusted for the
	// store besides the system roots and the target's ca_cert.
	CA []byte
	// TokenFile holds the token that reads the credentials in Vault
	// (installation.OffsiteTokenFile).
	TokenFile string
	Vault     *vault.Conn
}

// Connect reads the store's credentials from Vault and connects to the
// store the answers name; ErrNotConfigured when they name none.
func Connect(ctx context.Context, in Installation) (*Store, error) {
	target := in.Answers.Backup.Offsite.S3
	if target == nil {
		return nil, ErrNotConfigured
	}
	if err := in.Answers.Backup.Offsite.Validate(in.Answers.Profile); err != nil {
		return nil, err
	}
	token, err := vault.ReadOffsiteToken(in.TokenFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &steps.Failure{
			Cause: ErrNoCredentials.Error(),
			Hint:  "run `fineract-installer backup offsite set-credentials --access-key-file FILE --secret-key-file FILE` (with the key holders' shares)",
			Err:   fmt.Errorf("%w: %w", ErrNoCredentials, err),
		}
	}
	if err != nil {
		return nil, err
	}
	access, secret, err := in.Vault.OffsiteCredentials(ctx, token)
	if err != nil {
		return nil, &steps.Failure{
			Cause: fmt.Sprintf("cannot read the off-host store's credentials from Vault: %v", err),
			Hint:  "when Vault is sealed, run `fineract-installer unseal`; when the token expired or was revoked, set the credentials again with `fineract-installer backup offsite set-credentials`",
			Err:   err,
		}
	}
	roots, err := Roots(in.CA, target.CACert)
	if err != nil {
		return nil, err
	}
	return Open(Config{Target: *target, Prefix: target.PrefixOr(in.Project), Roots: roots,
		Credentials: Credentials{AccessKey: access, SecretKey: secret}})
}

// CopyRepository copies the repository at dir to s (see Copy).
func CopyRepository(ctx context.Context, dir string, s *Store, progress Progress) (Result, error) {
	repo, err := os.OpenRoot(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Result{}, &steps.Failure{
			Cause: fmt.Sprintf("there is no backup repository at %s to copy", dir),
			Hint:  "run `fineract-installer backup` first; nothing was copied",
			Err:   err,
		}
	}
	if err != nil {
		return Result{}, fmt.Errorf("open the backup repository: %w", err)
	}
	defer repo.Close()
	return Copy(ctx, repo, s, progress)
}
