package offsite

import (
	"context"
	"fmt"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// CredentialsStep keeps the store's credentials in Vault with a root
// token from the key holders' shares, and replaces the token that reads
// them (vault.SetOffsiteCredentials).
type CredentialsStep struct {
	Vault     *vault.Conn
	Shares    vault.SharesSource
	TokenFile string
	Access    Credentials
}

// ID implements steps.Step.
func (CredentialsStep) ID() string { return "offsite-credentials" }

// Title implements steps.Step.
func (CredentialsStep) Title() string { return "Keep the off-host store's credentials in Vault" }

// Check always says no: the keys given are written every time.
func (CredentialsStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s CredentialsStep) Run(ctx context.Context, emit steps.Emitter) error {
	st, err := s.Vault.Status(ctx)
	if err != nil {
		return fmt.Errorf("reach Vault: %w", err)
	}
	if st.State != vault.StateUnsealed {
		return &steps.Failure{Cause: "Vault is " + st.State.String(), Hint: "run `fineract-installer unseal` first; nothing was changed"}
	}
	shares, err := s.Shares(ctx, st)
	if err != nil {
		return fmt.Errorf("get the key shares for a Vault token: %w", err)
	}
	return s.Vault.WithRootToken(ctx, shares, emit, func(ctx context.Context, root string) error {
		return s.Vault.SetOffsiteCredentials(ctx, root, s.TokenFile, s.Access.AccessKey, s.Access.SecretKey, emit)
	})
}
