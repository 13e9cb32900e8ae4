// Package wal stores PostgreSQL WAL files in the backup repository, each
// encrypted and authenticated as one object REPO/wal/<name>.fiwal, where
// <name> is the file name PostgreSQL gives archive_command as %f.
//
// PostgreSQL runs the installer as its archive_command (Push, through the
// hidden wal-push command) and, on restore, as its restore_command (Fetch,
// wal-fetch). Verify decrypts every object and checks the chain of segments.
//
// # Threat model
//
// The repository directory is writable by PostgreSQL's uid and may be
// copied off the host, so every object is untrusted when read: any changed,
// moved, dropped or appended byte, an object cut short, one written under
// another key, and an object copied or renamed over another (its header
// names the WAL file it holds) are detected and named. Work done before
// authentication is bounded: the header is at most 78 bytes and the first
// chunk authenticates it. The installer reads the directory only through
// os.Root, without following symbolic links or opening anything but
// regular files. Names, sizes, the time of archiving and the number of
// objects are visible to anyone who can read the directory.
//
// # Byte layout (format version 1, integers big-endian)
//
//	Header
//	  magic        8   "FIWALOBJ"
//	  version      1   1
//	  chunk size   4   plaintext bytes per full chunk, 65536..1048576
//	  file ID     16   random
//	  archived at  8   Unix time in nanoseconds, UTC
//	  name len     1   1..40
//	  name         n   the WAL file name (%f)
//	Payload: chunks until the end of the file
//	  chunk i          AES-256-GCM(key, nonce(i, final), plaintext, aad(i, final))
//
// where
//
//	key          = HKDF-SHA256(WAL key, salt = file ID, "fineract-installer wal v1")
//	B            = SHA-256(header)
//	nonce(i, f)  = i as 11 bytes || f (1 for the final chunk, else 0)
//	aad(i, f)    = B || i as 8 bytes || f as 1 byte
//
// This is the STREAM construction the backup archive uses (package
// steps/backup/stream). The header has no MAC of its own: every chunk binds
// its hash, and there is always at least one chunk, so the reader trusts
// the header once chunk 0 authenticates and before it returns any
// plaintext. The WAL key is 32 random bytes kept in Vault and in every base
// backup; the per-object key is unique because the file ID is random, so
// counter nonces never repeat under one key.
package wal
