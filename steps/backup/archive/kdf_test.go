package archive

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// hostileHeader is an archive header as an attacker without the passphrase
// can write it: a valid checksum, slots key slots asking for kdf each,
// random-looking but useless wrapped keys, and no payload.
func hostileHeader(t *testing.T, slots int, kdf passphrase.KDF) []byte {
	t.Helper()
	meta, err := encodeMetadata(Metadata{Created: fixedTime})
	must(t, err)
	h := &header{chunkSize: DefaultChunkSize, metadata: meta}
	h.fileID[0] = 1
	for i := range slots {
		s := keySlot{kind: slotArgon2id, kdf: kdf}
		s.salt[0], s.wrapped[0] = byte(i), byte(i)
		h.slots = append(h.slots, s)
	}
	return h.encode()
}

// TestHostileKDFRefusedBeforeDerivation replays the review's finding: a
// header of a few hundred bytes asking for eight key slots at a huge
// argon2id cost made verify and restore spend minutes of CPU and
// gigabytes of memory before authenticating anything. The header must be
// refused as such (ErrWeakParameters), before any key is derived; a
// wrong-passphrase error would mean the derivations ran.
func TestHostileKDFRefusedBeforeDerivation(t *testing.T) {
	ceiling := passphrase.DefaultKDF
	cases := map[string]struct {
		slots int
		kdf   passphrase.KDF
	}{
		// 784 bytes that cost 188 s and 2.1 GB before the fix.
		"eight slots at 16 passes, 1 GiB, 64 lanes": {8, passphrase.KDF{Time: 16, Memory: 1 << 20, Threads: 64}},
		"one slot above the ceiling":                {1, passphrase.KDF{Time: ceiling.Time + 1, Memory: ceiling.Memory, Threads: ceiling.Threads}},
		"eight slots above the ceiling":             {8, passphrase.KDF{Time: 4, Memory: 128 << 10, Threads: 4}},
		"eight slots each at the ceiling":           {8, ceiling},
		"five slots each at the ceiling":            {5, ceiling},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			data := hostileHeader(t, c.slots, c.kdf)
			_, err := NewReader(bytes.NewReader(data), testPass)
			wantKind(t, err, ErrWeakParameters, "NewReader")
			if ae := archiveError(t, err); !bytes.Contains([]byte(ae.Fix), []byte("tampered")) {
				t.Fatalf("the error should say the archive may have been tampered with: %v", err)
			}
			_, err = Verify(bytes.NewReader(data), testPass)
			wantKind(t, err, ErrWeakParameters, "Verify")
		})
	}
}

// TestKDFAtTheLimitStillDerives: what the installer may write (up to four
// slots at the default) passes the limits and reaches the key slots; the
// useless wrapped keys then make it a wrong passphrase.
func TestKDFAtTheLimitStillDerives(t *testing.T) {
	for _, slots := range []int{1, 4} {
		data := hostileHeader(t, slots, passphrase.DefaultKDF)
		_, err := NewReader(bytes.NewReader(data), testPass)
		wantKind(t, err, ErrWrongPassphrase, fmt.Sprintf("%d slot(s) at the default", slots))
	}
}
