// Package passphrase is the installer's one policy for the secrets an
// operator hands it: the backup archive passphrase, the demo Vault custody
// passphrase and the file of unseal key shares. The backup archive, the
// custody file, the command line and the backup schedule all go through it,
// so a secret accepted by one is accepted by all, and refused by all for
// the same reason.
//
// # Where a passphrase comes from
//
// In this order: the file a flag names, the environment variable, a prompt
// on the terminal (Source). Never a flag value: a command line is visible
// to every user in ps and /proc/PID/cmdline and lands in shell history. The
// variable is removed from the process environment once looked at, so
// nothing the installer starts inherits it.
//
// # Files (ReadFile)
//
// A secret file must be a regular file (a symbolic link is followed, but
// what it names must be a regular file: no pipe, device or directory),
// owned by the user running the installer or by root, readable and
// writable by its owner only (mode 0600 or 0400), and no larger than the
// limit for its kind. The checks run on the open file, not on the path, so
// the file cannot be swapped between check and read, and the read itself
// is bounded. A passphrase file holds one line: the passphrase, with or
// without a line ending.
//
// # Strength (CheckNew)
//
// A passphrase that will protect something new (a backup archive, a custody
// file) must have at least 12 characters of valid UTF-8 without control
// characters, at least 6 different ones, and not only digits. Opening an
// existing archive or custody file takes any passphrase: the rule is there
// to stop weak secrets being chosen, not to lock anybody out of their data.
//
// # Key derivation (KDF, KDFLimits)
//
// Both the archive and the custody file derive their key with argon2id and
// store the parameters in the file, where an attacker can edit them. The
// installer writes DefaultKDF and nothing costlier, so reading refuses
// anything above it, and refuses a file whose derivations add up to more
// than four default ones, before deriving any key: a hostile header cannot
// make verify or unseal spend minutes of CPU and gigabytes of memory. The
// floor (2 passes, 19 MiB, OWASP's minimum) stops an edited header from
// making the passphrase cheap to brute-force.
package passphrase
