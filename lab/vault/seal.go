package main

import (
	"context"
	"fmt"

	"github.com/google/go-cmp/cmp"
	hclog "github.com/hashicorp/go-hclog"
	aeadwrapper "github.com/hashicorp/go-kms-wrapping/wrappers/aead/v2"
	"github.com/hashicorp/vault/internalshared/configutil"
	"github.com/hashicorp/vault/sdk/physical"
	"github.com/hashicorp/vault/vault"
	vaultseal "github.com/hashicorp/vault/vault/seal"
)

// newShamirSeal builds the default shamir seal the way Vault's server
// command does when the config has no seal stanza, including the seal
// generation bookkeeping kept in storage.
func newShamirSeal(ctx context.Context, backend physical.Backend, logger hclog.Logger) (vault.Seal, error) {
	existing, err := vault.PhysicalSealGenInfo(ctx, backend)
	if err != nil {
		return nil, fmt.Errorf("reading seal generation info from storage: %w", err)
	}
	kms := []*configutil.KMS{{Type: vault.SealConfigTypeShamir.String(), Priority: 1, Name: "shamir"}}
	genInfo := existing
	if existing == nil || !cmp.Equal(existing.Seals, kms) {
		gen := uint64(1)
		if existing != nil {
			gen = existing.Generation + 1
		}
		genInfo = &vaultseal.SealGenerationInfo{Generation: gen, Seals: kms}
	}
	wrapper := vaultseal.NewSealWrapper(aeadwrapper.NewShamirWrapper(), 1, "shamir",
		vault.SealConfigTypeShamir.String(), false, true)
	access, err := vaultseal.NewAccess(logger, genInfo, []*vaultseal.SealWrapper{wrapper})
	if err != nil {
		return nil, fmt.Errorf("creating shamir seal: %w", err)
	}
	if genInfo.Generation == 1 {
		// First generation with only shamir: nothing can be wrapped by an
		// older seal, so there is nothing to rewrap.
		genInfo.SetRewrapped(true)
	}
	return vault.NewDefaultSeal(access), nil
}
