// Package vault runs the Vault part of the installation through Vault's
// HTTP API (github.com/hashicorp/vault/api), always over TLS with the
// installer's CA: read the state, initialise once, unseal, configure (KV v2
// at banking/, two audit devices, the installer policy), generate service
// secrets, deliver them to services as files, revoke the root token, and
// later get short-lived root tokens from the key holders for admin work.
//
// Steps never print. They report through an event.Emitter, the same one a
// pipeline step is given, with events that never carry a secret. Every call
// that does I/O takes a context.
//
// # Lifecycle and reruns
//
// Status maps Vault onto three states (not initialised, sealed, unsealed)
// and every step acts on the state it finds, so reruns are safe:
//
//   - Initialize never initialises twice. It saves "init started" in a
//     small Record before asking Vault, and "shares recorded" only after the
//     caller's Custody action succeeded. A Vault that is initialised with no
//     such record stops the run with UnrecordedInitError, which explains
//     what happened and what the operator can do; storage is never touched.
//   - The Unsealer reports progress k of threshold. Malformed shares are
//     refused before reaching Vault and duplicates are caught, so progress
//     is kept. A wrong but well-formed share can only be detected by Vault
//     when the threshold is reached, and Vault then drops its progress; the
//     Unsealer keeps the shares entered so far and retries combinations when
//     the next share arrives.
//   - Configure and EnsureSecrets are idempotent: existing secrets are never
//     regenerated, only missing keys are added.
//
// # Threat model
//
// The installation runs Vault with file storage in a container on the same
// host as the services (HashiCorp's hardening guide ranks this below a
// dedicated machine; that deviation is deliberate for a one-host install).
//
// An attacker with a copy of the disk (stolen disk, backup, snapshot) gets
// Vault's storage, which is encrypted by the barrier key; the barrier key is
// encrypted by the unseal key, which exists only as shamir shares. Without
// threshold-many shares the storage is useless. The installer leaves no
// token with access to a secret on disk (the root token is revoked after
// setup, temporary tokens are revoked right after use), the secret files
// live on a tmpfs that a disk copy does not contain, and the answers and
// state files hold no secret. The one token kept on disk is the audit
// head token (root-only, see audithead.go): it can add and read versions
// of one KV key, so a copy of it reveals no secret and changes no
// configuration. Production shares are held by people, so the disk alone
// gives nothing. The demo custody file is the exception: it holds the shares
// encrypted with a passphrase (argon2id, 64 MiB, then AES-256-GCM), so a
// disk thief can attack the passphrase offline; with the passphrase also on
// that disk (file or unit environment), demo mode protects nothing at rest —
// that is the price of unattended classroom unseal, and why demo is never
// the production default.
//
// An attacker with root on the running host gets everything the running
// system holds: the unsealed Vault's memory (ptrace or /proc of the
// container), the delivered secret files under /run, the services' own
// memory and connections, and the demo custody file plus its passphrase.
// Vault cannot defend against root on its own host; the audit devices (a
// file on the Vault log volume plus stdout to Docker's log driver) record
// what was read through the API, with secrets HMAC'd, which helps to
// establish what leaked. What root on the host does not get is the
// production unseal shares and any root token: to act as admin through the
// API it must wait for the key holders to run a generate-root, or read
// secrets one by one through the services' files.
//
// An attacker on the network between the installer and Vault sees only TLS
// to a certificate from the installer's CA; plain HTTP is refused by Vault.
//
// # Admin work later (day 2)
//
// After setup no token with admin rights exists. When an operator needs
// one (after a reboot to re-deliver secrets, to add or rotate a secret, to
// change policies) the key holders come together and the installer runs
// Vault's generate-root flow with a one-time password: WithRootToken takes
// their shares (the same shares that unseal; after a reboot they are typed
// once and used for both), Vault returns the new root token XORed with the
// OTP, the installer uses it for the task and revokes it immediately. The
// same can be done by hand with `vault operator generate-root -init`, each
// key holder running `vault operator generate-root` with their share, then
// `-decode` with the OTP, and `vault token revoke -self` when done.
package vault
