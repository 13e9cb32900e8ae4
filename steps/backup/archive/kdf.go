package archive

import (
	"fmt"

	"golang.org/x/crypto/argon2"
)

// KDFParams are the argon2id parameters of one key slot. They are stored in
// the archive header, so an archive stays readable when the defaults change.
type KDFParams struct {
	// Time is the number of passes over the memory.
	Time uint32
	// Memory is the memory size in KiB.
	Memory uint32
	// Threads is the degree of parallelism (argon2 lanes).
	Threads uint8
}

// DefaultKDF is RFC 9106's second recommended argon2id setting (64 MiB,
// 3 passes, 4 lanes). It takes a fraction of a second, once per archive.
var DefaultKDF = KDFParams{Time: 3, Memory: 64 * 1024, Threads: 4}

// kdfLimits is the range of parameters accepted for writing and reading.
// The minimum stops a rewritten header from downgrading the key derivation
// to something cheap to brute-force; the maximum stops a hostile header from
// making the reader allocate gigabytes.
type kdfLimits struct {
	minTime, maxTime     uint32
	minMemory, maxMemory uint32 // KiB
	maxThreads           uint8
}

// defaultLimits: the minimum is OWASP's floor for argon2id (19 MiB, 2 passes).
var defaultLimits = kdfLimits{
	minTime: 2, maxTime: 16,
	minMemory: 19 * 1024, maxMemory: 1024 * 1024,
	maxThreads: 64,
}

func (l kdfLimits) check(p KDFParams) error {
	if p.Time < l.minTime || p.Memory < l.minMemory || p.Threads < 1 {
		return fmt.Errorf("argon2id with %d passes, %d KiB memory and %d lanes is weaker than the minimum of %d passes and %d KiB",
			p.Time, p.Memory, p.Threads, l.minTime, l.minMemory)
	}
	if p.Time > l.maxTime || p.Memory > l.maxMemory || p.Threads > l.maxThreads {
		return fmt.Errorf("argon2id with %d passes, %d KiB memory and %d lanes exceeds the maximum of %d passes, %d KiB and %d lanes",
			p.Time, p.Memory, p.Threads, l.maxTime, l.maxMemory, l.maxThreads)
	}
	return nil
}

// deriveKEK turns a passphrase into the key that wraps the data key.
func deriveKEK(passphrase, salt []byte, p KDFParams) []byte {
	return argon2.IDKey(passphrase, salt, p.Time, p.Memory, p.Threads, keySize)
}
