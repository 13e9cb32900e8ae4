package vault

import (
	"context"
	"fmt"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
)

// EncryptedSharesText is the hand-out of shares encrypted to the key
// holders' PGP keys: safe to print and to keep, since only each holder's
// private key opens their share.
func EncryptedSharesText(r *InitResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Vault unseal key shares, each encrypted to its holder's PGP key (in the order of vault.pgp_keys).\n# Any %d of %d unseal Vault: `echo SHARE | base64 -d | gpg -d` on the holder's machine.\n", r.Threshold, r.Shares)
	for i, k := range r.Keys {
		fmt.Fprintf(&b, "share-%d: %s\n", i+1, k)
	}
	return b.String()
}

// HandOutEncrypted is the custody of shares encrypted to the key holders'
// PGP keys (vault.pgp_keys): it saves them to path (mode 0600, replaced
// whole, so a crash leaves the old copy or the new one), then gives show
// the hand-out and its path to pass on. The shares are safe once saved;
// showing them is a convenience, and its failure fails the custody so the
// operator sees it.
func HandOutEncrypted(path string, show func(ctx context.Context, r *InitResult, text, path string) error) Custody {
	return func(ctx context.Context, r *InitResult) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		text := EncryptedSharesText(r)
		if err := atomicfile.WriteFile(path, []byte(text), 0o600); err != nil {
			return fmt.Errorf("save encrypted shares: %w", err)
		}
		return show(ctx, r, text, path)
	}
}
