package archive

import (
	"crypto/rand"
	"fmt"
	"io"
)

// Rekey copies the archive from src to dst with new key slots, one per
// passphrase in next, after opening it with current. The payload is copied
// as it is, without re-encryption, because it is encrypted with the
// archive's random data key, not with a passphrase: this is how a
// passphrase is changed (next holds the new one) or a second one added
// (next holds both). Every chunk is authenticated while copying; on an
// error dst holds a partial archive that must be discarded.
//
// Each new passphrase must pass CheckPassphrase; kdf zero means DefaultKDF.
// The metadata and file ID stay the same; the Info returned describes
// the new archive.
func Rekey(dst io.Writer, src io.Reader, current []byte, next [][]byte, kdf KDFParams) (Info, error) {
	for i, p := range next {
		if err := CheckPassphrase(p); err != nil {
			return Info{}, fmt.Errorf("new passphrase %d: %w", i+1, err)
		}
	}
	return rekey(dst, src, current, next, kdf, defaultLimits)
}

func rekey(dst io.Writer, src io.Reader, current []byte, next [][]byte, kdf KDFParams, limits kdfLimits) (Info, error) {
	if kdf == (KDFParams{}) {
		kdf = DefaultKDF
	}
	if err := limits.check(kdf); err != nil {
		return Info{}, fmt.Errorf("%w: %v", ErrWeakParameters, err)
	}
	o, err := openArchive(src, current, limits)
	if err != nil {
		return Info{}, err
	}
	defer clear(o.dataKey)
	if _, err := writeHeader(dst, o.header, o.dataKey, next, kdf, rand.Reader); err != nil {
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
	info.KeySlots = make([]KDFParams, len(o.header.slots))
	for i, s := range o.header.slots {
		info.KeySlots[i] = s.kdf
	}
	size := int64(len(o.header.encode()))
	info.ArchiveSize += size - info.HeaderSize
	info.HeaderSize = size
	return info, nil
}
