package archive

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/fineract-installer/fineract-installer/steps/backup/stream"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// A key slot holds the archive's random data key, encrypted (wrapped) with
// a key derived from one passphrase. Several slots may open the same archive.
const (
	slotArgon2id = 1

	slotParamsSize = 1 + 4 + 4 + 1 + saltSize // kind, time, memory, threads, salt
	wrappedSize    = keySize + tagSize
	slotSize       = slotParamsSize + nonceSize + wrappedSize
)

type keySlot struct {
	kind    byte
	kdf     passphrase.KDF
	salt    [saltSize]byte
	nonce   [nonceSize]byte
	wrapped [wrappedSize]byte
}

func (s *keySlot) params() []byte {
	b := make([]byte, 0, slotParamsSize)
	b = append(b, s.kind)
	b = binary.BigEndian.AppendUint32(b, s.kdf.Time)
	b = binary.BigEndian.AppendUint32(b, s.kdf.Memory)
	b = append(b, s.kdf.Threads)
	return append(b, s.salt[:]...)
}

func (s *keySlot) append(b []byte) []byte {
	b = append(b, s.params()...)
	b = append(b, s.nonce[:]...)
	return append(b, s.wrapped[:]...)
}

func parseSlot(b []byte) keySlot {
	var s keySlot
	s.kind = b[0]
	s.kdf.Time = binary.BigEndian.Uint32(b[1:5])
	s.kdf.Memory = binary.BigEndian.Uint32(b[5:9])
	s.kdf.Threads = b[9]
	copy(s.salt[:], b[10:slotParamsSize])
	copy(s.nonce[:], b[slotParamsSize:slotParamsSize+nonceSize])
	copy(s.wrapped[:], b[slotParamsSize+nonceSize:])
	return s
}

// slotAAD binds the wrapped key to the format and to the slot's own
// parameters. It leaves out the rest of the header on purpose: the header
// MAC, keyed from the unwrapped data key, covers all of it, and checking
// it after the unwrap reports an edited header as modified instead of as
// a wrong passphrase. A slot copied from another archive unwraps that
// archive's data key, whose MAC key then fails this header.
func slotAAD(s *keySlot) []byte {
	return append([]byte(slotLabel), s.params()...)
}

const slotLabel = "fineract-installer backup v1 key slot"

// newSlot wraps dataKey with a key derived from pass; rnd supplies
// the salt and nonce.
func newSlot(pass, dataKey []byte, kdf passphrase.KDF, rnd io.Reader) (keySlot, error) {
	s := keySlot{kind: slotArgon2id, kdf: kdf}
	if _, err := io.ReadFull(rnd, s.salt[:]); err != nil {
		return s, fmt.Errorf("reading random salt: %w", err)
	}
	if _, err := io.ReadFull(rnd, s.nonce[:]); err != nil {
		return s, fmt.Errorf("reading random nonce: %w", err)
	}
	kek := kdf.Key(pass, s.salt[:])
	defer clear(kek)
	aead, err := newGCM(kek)
	if err != nil {
		return s, err
	}
	aead.Seal(s.wrapped[:0], s.nonce[:], dataKey, slotAAD(&s))
	return s, nil
}

// unwrap returns the data key if pass opens this slot.
func (s *keySlot) unwrap(pass []byte) ([]byte, bool) {
	kek := s.kdf.Key(pass, s.salt[:])
	defer clear(kek)
	aead, err := newGCM(kek)
	if err != nil {
		return nil, false
	}
	key, err := aead.Open(nil, s.nonce[:], s.wrapped[:], slotAAD(s))
	return key, err == nil
}

// openSlots tries every slot in turn and returns the data key. The header's
// validation has bounded the work this does (passphrase.Limits).
func openSlots(h *header, pass []byte) ([]byte, error) {
	for i := range h.slots {
		if key, ok := h.slots[i].unwrap(pass); ok {
			return key, nil
		}
	}
	return nil, headerError(ErrWrongPassphrase, -1,
		fmt.Sprintf("the passphrase opens none of the archive's %d key slot(s)", len(h.slots)),
		"check the passphrase (file contents, environment variable or typing); the header checksum is intact, so the file was not damaged by accident")
}

// newGCM is AES-256-GCM, as every key of the format is 32 bytes.
func newGCM(key []byte) (cipher.AEAD, error) { return stream.NewGCM(key) }
