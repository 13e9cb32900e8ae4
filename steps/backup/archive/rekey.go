package archive

import (
	"crypto/rand"
	"fmt"
	"io"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// Rekey copies the archive from src to dst with new key slots, one per
// passphrase in next, after opening it with current. The payload is copied
// as it is, without re-encryption, because it is encrypted with the
// archive's random data key, not with a passphrase: this is how a
// passphrase is changed (next holds the new one) or a second one added
// (next holds both). Every chunk is authenticated while copying; on an
// error dst holds a partial archive that must be discarded.
//
// Each new passphrase must pass passphrase.CheckNew; kdf zero means
// passphrase.DefaultKDF, and the new key slots together must stay within
// passphrase.Limits (at the default, up to four passphrases). The metadata
// and file ID stay the same; the Info returned describes the new archive.
func Rekey(dst io.Writer, src io.Reader, current []byte, next [][]byte, kdf passphrase.KDF) (Info, error) {
	for i, p := range next {
		if err := passphrase.CheckNew(p); err != nil {
			return Info{}, fmt.Errorf("new passphrase %d: %w", i+1, err)
		}
	}
	return rekey(dst, src, current, next, kdf, passphrase.Limits)
}

func rekey(dst io.Writer, src io.Reader, current []byte, next [][]byte, kdf passphrase.KDF, limits passphrase.KDFLimits) (Info, error) {
	if kdf == (passphrase.KDF{}) {
		kdf = passphrase.DefaultKDF
	}
	// Refuse the new key slots before the current passphrase is derived.
	kdfs := make([]passphrase.KDF, len(next))
	for i := range kdfs {
		kdfs[i] = kdf
	}
	if err := limits.CheckAll(kdfs); err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrWeakParameters, err)
	}
	o, err := openArchive(src, current, limits)
	if err != nil {
		return Info{}, err
	}
	defer clear(o.dataKey)
	if _, err := writeHeader(dst, o.header, o.dataKey, next, kdf, limits, rand.Reader); err != nil {
		return Info{}, err
	}
	rd := o.reader
	for !rd.done {
		ct, err := rd.nextChunk()
		if err != nil {
			return rd.Info(), err
		}
		if _, err := dst.Write(ct); err != nil {
			return rd.Info(), fmt.Errorf("writing the re-keyed archive: %w", err)
		}
	}
	// Describe the new archive: same payload, new header.
	info := rd.Info()
	info.KeySlots = slotKDFs(o.header.slots)
	size := int64(len(o.header.encode()))
	info.ArchiveSize += size - info.HeaderSize
	info.HeaderSize = size
	return info, nil
}
