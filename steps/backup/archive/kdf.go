package archive

import "github.com/fineract-installer/fineract-installer/steps/passphrase"

// The argon2id parameters, their defaults and their limits are shared with
// the Vault custody file: steps/passphrase owns them.

// slotKDFs lists the key derivation of every key slot, in order.
func slotKDFs(slots []keySlot) []passphrase.KDF {
	ks := make([]passphrase.KDF, len(slots))
	for i, s := range slots {
		ks[i] = s.kdf
	}
	return ks
}
