package passphrase

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/argon2"
)

// KDF is a set of argon2id parameters. Files store the parameters they were
// written with, so they stay readable when the defaults change.
type KDF struct {
	// Time is the number of passes over the memory.
	Time uint32
	// Memory is the memory size in KiB.
	Memory uint32
	// Threads is the degree of parallelism (argon2 lanes).
	Threads uint8
}

// KeySize is the length of a derived key: an AES-256 key.
const KeySize = 32

// DefaultKDF is RFC 9106's second recommended argon2id setting (64 MiB,
// 3 passes, 4 lanes, about 0.16 s on a 2-core machine). It is what the
// installer writes into backup archives and custody files.
var DefaultKDF = KDF{Time: 3, Memory: 64 * 1024, Threads: 4}

// Key derives a KeySize-byte key from passphrase and salt. Check the
// parameters against the limits first: this is the expensive part.
func (k KDF) Key(passphrase, salt []byte) []byte {
	return argon2.IDKey(passphrase, salt, k.Time, k.Memory, k.Threads, KeySize)
}

// work is the cost of one derivation, in KiB times passes.
func (k KDF) work() uint64 { return uint64(k.Time) * uint64(k.Memory) }

// ErrKDFRefused means argon2id parameters are outside the accepted range:
// too weak to protect the passphrase, or costlier than anything the
// installer writes.
var ErrKDFRefused = errors.New("key derivation parameters refused")

// KDFLimits is the range of argon2id parameters accepted, for writing and
// for reading. The floor stops an edited file from making brute force
// cheap; the ceiling and MaxWork stop a hostile one from making the reader
// spend minutes of CPU and gigabytes of memory before it can tell the file
// is not authentic.
type KDFLimits struct {
	MinTime, MaxTime     uint32
	MinMemory, MaxMemory uint32 // KiB
	MaxThreads           uint8
	// MaxWork bounds the sum of passes times KiB over every derivation one
	// file can ask for (a backup archive has one per key slot).
	MaxWork uint64
}

// Limits is the installer's range: OWASP's argon2id floor (2 passes,
// 19 MiB), DefaultKDF as the ceiling, and at most four default
// derivations per file (well under a second, 64 MiB at a time).
var Limits = KDFLimits{
	MinTime: 2, MaxTime: DefaultKDF.Time,
	MinMemory: 19 * 1024, MaxMemory: DefaultKDF.Memory,
	MaxThreads: DefaultKDF.Threads,
	MaxWork:    4 * DefaultKDF.work(),
}

// Check tells whether one derivation's parameters are in range. Errors
// wrap ErrKDFRefused.
func (l KDFLimits) Check(k KDF) error {
	if k.Time < l.MinTime || k.Memory < l.MinMemory || k.Threads < 1 {
		return fmt.Errorf("%w: argon2id with %d passes, %d KiB of memory and %d lanes is weaker than the minimum of %d passes and %d KiB",
			ErrKDFRefused, k.Time, k.Memory, k.Threads, l.MinTime, l.MinMemory)
	}
	if k.Time > l.MaxTime || k.Memory > l.MaxMemory || k.Threads > l.MaxThreads {
		return fmt.Errorf("%w: argon2id with %d passes, %d KiB of memory and %d lanes exceeds the maximum of %d passes, %d KiB and %d lanes",
			ErrKDFRefused, k.Time, k.Memory, k.Threads, l.MaxTime, l.MaxMemory, l.MaxThreads)
	}
	return nil
}

// CheckAll tells whether every derivation one file asks for is in range,
// and whether all of them together stay within MaxWork. Run it before
// deriving any key. Errors wrap ErrKDFRefused.
func (l KDFLimits) CheckAll(ks []KDF) error {
	var total uint64
	for i, k := range ks {
		if err := l.Check(k); err != nil {
			if len(ks) == 1 {
				return err
			}
			return fmt.Errorf("derivation %d of %d: %w", i+1, len(ks), err)
		}
		total += k.work()
	}
	if total > l.MaxWork {
		return fmt.Errorf("%w: %d argon2id derivations cost %d KiB-passes together, more than the limit of %d",
			ErrKDFRefused, len(ks), total, l.MaxWork)
	}
	return nil
}
