// Package archive is the installer's encrypted, authenticated backup file
// format: one file holding a payload of named files and directories plus a
// manifest, encrypted with AES-256-GCM under a random data key that is
// wrapped with a passphrase-derived key.
//
// # Use
//
//	ew, err := archive.Create(f, passphrase, archive.Options{
//		Metadata: archive.Metadata{InstallerVersion: version}})
//	ew.AddTree("config", installDir+"/config")      // files from disk, modes kept
//	ew.AddStream("postgres/fineract.dump", 0o600, pgDump) // unknown length, streamed
//	ew.Close()                                        // manifest + final chunk
//
//	info, err := archive.Verify(f, passphrase)         // reads all, writes nothing
//	info, err = archive.Extract(f, passphrase, dir, archive.ExtractOptions{})
//
// The lower layers are usable on their own: NewWriter/NewReader encrypt and
// decrypt any byte stream, NewEntryWriter/NewEntryReader build and parse
// the payload, Rekey changes passphrases. Where passphrases come from,
// the strength a new one needs and the argon2id limits are the installer's
// one passphrase policy, in steps/passphrase.
//
// Errors about an archive are *Error values wrapping one of
// ErrNotAnArchive, ErrUnsupportedVersion, ErrWrongPassphrase,
// ErrWeakParameters, ErrCorrupt or ErrTruncated, with the chunk index and
// byte offset where that makes sense and a sentence on what to do.
//
// # Threat model
//
// The archive file is untrusted once written: it may be damaged, cut
// short, or edited by someone without the passphrase. Any change to any
// byte, reordering, duplication or removal of chunks, truncation at any
// point and appended data are detected. Confidentiality rests on the
// passphrase and argon2id. The metadata is authenticated but readable by
// anyone; entry names, sizes and the payload are encrypted.
//
// # Byte layout (format version 1, integers big-endian)
//
//	Header
//	  magic       8   "FIBACKUP"
//	  version     1   1
//	  chunk size  4   plaintext bytes per full chunk, 65536..1048576
//	  file ID    16   random
//	  meta len    2   0..65535
//	  metadata    n   JSON of Metadata
//	  slot count  1   1..8
//	  key slots   86 each:
//	    kind      1   1 = argon2id passphrase
//	    time      4   argon2id passes
//	    memory    4   argon2id memory in KiB
//	    threads   1   argon2id lanes
//	    salt     16   random
//	    nonce    12   random
//	    wrapped  48   AES-256-GCM(KEK, nonce, data key, aad = L || kind..salt)
//	  header MAC 32   HMAC-SHA256(mac key, magic..last key slot)
//	  checksum   32   SHA-256(magic..header MAC)
//	Payload: chunks until the end of the file
//	  chunk i        AES-256-GCM(payload key, nonce(i, final), plaintext, aad(i, final))
//	                 = plaintext + 16-byte tag; every chunk but the last holds
//	                 exactly chunk-size plaintext bytes; the last holds 1..chunk
//	                 size bytes, or 0 when the whole payload is empty.
//
// where
//
//	B            = SHA-256(magic..metadata), the stable part of the header
//	L            = "fineract-installer backup v1 key slot"
//	KEK          = argon2id(passphrase, salt, time, memory, threads, 32)
//	payload key  = HKDF-SHA256(data key, salt = file ID, "fineract-installer backup v1 payload")
//	mac key      = HKDF-SHA256(data key, salt = file ID, "fineract-installer backup v1 header mac")
//	nonce(i, f)  = i as 11 bytes || f (1 for the final chunk, else 0)
//	aad(i, f)    = B || i as 8 bytes || f as 1 byte
//
// This is the STREAM construction (as in age, Tink and restic's chunked
// blobs): a chunk only decrypts at its own index, so swaps, duplicates and
// drops fail; only the last chunk carries the final flag, so a file cut at
// a chunk boundary fails; data after the final chunk fails. The reader
// tells a file cut short (ErrTruncated) from a changed one (ErrCorrupt)
// by trying the other final flag when a chunk fails.
//
// Reading checks, in order: the magic (ErrNotAnArchive; an empty or
// shorter file is ErrTruncated), the version (ErrUnsupportedVersion), the
// header checksum (ErrCorrupt: accidental damage is reported as damage,
// not as a wrong passphrase, and before any expensive work), the argon2id
// parameters of every key slot and their sum against passphrase.Limits
// (ErrWeakParameters, before any key is derived), the key slots
// (ErrWrongPassphrase when none opens), then the header MAC (ErrCorrupt:
// a deliberate edit with a recomputed checksum). Key slots do not bind the
// rest of the header, so such an edit elsewhere is reported as a
// modification; an edited key slot itself cannot be told from a wrong
// passphrase. Nothing edited is accepted either way.
//
// The payload (plaintext) is an entry stream:
//
//	magic "FIENTRY1"
//	records, each starting with a type byte:
//	  'F' file:      name len 2, name, mode 4 (permission bits),
//	                 segments: len 4 (1..1 MiB), data ...; len 0 ends the file
//	  'D' directory: name len 2, name, mode 4
//	  'M' manifest:  len 4, JSON of Manifest; the last record
//
// # Decisions
//
// Key derivation: argon2id (RFC 9106), not scrypt. Both are memory-hard;
// argon2id is the current recommendation (RFC 9106, OWASP), its memory and
// time costs are separate parameters, and golang.org/x/crypto/argon2 has
// an assembly implementation. Defaults are RFC 9106's second recommended
// setting, 64 MiB, 3 passes, 4 lanes (about 0.16 s on the 2-core build
// machine), the same as the Vault key custody file. Reading refuses fewer
// than 2 passes or less than 19 MiB (OWASP's floor), so an edited header
// cannot make brute force cheap, and anything above the defaults, or key
// slots adding up to more than four default derivations, so a hostile
// header cannot make verify or restore spend minutes of CPU and gigabytes
// of memory before anything is authenticated. The writer and Rekey refuse
// what the reader would refuse; backup writes one key slot at the default.
//
// Key wrapping: yes. The payload is encrypted under a random 256-bit data
// key; each key slot wraps it with a passphrase-derived key. Changing the
// passphrase or adding a second one (for example an offline recovery
// passphrase next to the operator's) rewrites the header only (Rekey) and
// copies the payload unchanged. Chunks bind the hash of the stable header
// part, not the key slots, for that reason; the key slots and everything
// else in the header are covered by the header MAC, keyed from the data
// key. Each slot's GCM tag is the key check that tells a wrong passphrase.
// A Vault transit key can later be added as another slot kind.
//
// Chunk size: 1 MiB by default (64 KiB to 1 MiB allowed). Throughput is
// flat across that range on the build machine (see
// bench/backup-crypto.txt); 1 MiB keeps the per-chunk overhead (16 bytes,
// one GCM setup) negligible for multi-gigabyte dumps, and reading needs
// two chunk buffers, 2 MiB.
//
// Payload container: our own entry stream rather than tar. Tar needs each
// member's size before its data, so a pg_dump of unknown length would
// have to be spooled to a temporary file first: an unencrypted copy of the
// bank's database on disk, plus twice the disk space. Length-prefixed
// segments stream it straight into the encryption. The format has only
// regular files and directories (no links, devices, owners or times),
// which is all a backup of this stack needs and removes tar's link-based
// extraction attacks. A decrypted payload is not a tar file; inspect
// archives with this package.
//
// Manifest: last, because the hashes are only known after streaming. The
// reader checks every entry against it once the final chunk has been
// authenticated. Since the archive layer already authenticates the
// payload, the manifest guards against writer bugs and gives Verify an
// inventory to report.
//
// Extraction: entry names are validated (ValidName), all file operations
// go through os.Root, existing symbolic links in the target are never
// followed, files are created 0600 and given their mode when complete,
// nothing is overwritten unless asked, and a failed extraction removes
// what it created. Owners are not stored: the restore step sets them per
// service.
package archive
