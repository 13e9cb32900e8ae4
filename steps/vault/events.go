package vault

// Vault work reports through an event.Emitter, as every step does: plain
// progress lines with Info, things to read with Warn, and share counts
// (unseal, root token generation) with Progress in unitShares. Events never
// carry a secret. Every exported function that takes an emitter accepts nil
// and then reports nothing.
const (
	// eventSubject is the subject of every event about Vault.
	eventSubject = "vault"
	// unitShares counts unseal key shares.
	unitShares = "shares"
)
