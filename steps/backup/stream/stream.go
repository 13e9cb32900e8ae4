// Package stream holds the pieces of the STREAM construction (Hoang, Reyhanitabar,
// Rogaway and Vizár, "Online Authenticated-Encryption and its Nonce-Reuse
// Misuse-Resistance", 2015; as used by age, Tink and restic) that the
// installer's encrypted file formats share: per-chunk nonces and additional
// data that bind each AES-256-GCM chunk to its file, its position and
// whether it is the last one. A chunk then only decrypts at its own index,
// so swapped, duplicated or dropped chunks fail, and a file cut at a chunk
// boundary fails because only the last chunk carries the final flag.
//
// The key given to NewGCM must be unique to one file (both formats derive it
// with HKDF from a random per-file ID), so counter nonces never repeat under
// one key.
package stream

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// Sizes of the AES-256-GCM parts.
const (
	KeySize   = 32
	NonceSize = 12
	TagSize   = 16
)

// NewGCM returns AES-256-GCM under key.
func NewGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("creating AES-256-GCM: the key is %d bytes, not %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating AES-GCM: %w", err)
	}
	return aead, nil
}

// Nonce is the STREAM nonce of chunk index: an 11-byte big-endian counter
// and a last byte that is 1 for the final chunk.
func Nonce(index uint64, final bool) []byte {
	n := make([]byte, NonceSize)
	binary.BigEndian.PutUint64(n[3:11], index)
	if final {
		n[11] = 1
	}
	return n
}

// AAD binds a chunk to the hash of its file's header, its position and
// whether it is the last one. The nonce carries the same position; saying
// it twice keeps the binding explicit should the nonce scheme ever change.
func AAD(binding [sha256.Size]byte, index uint64, final bool) []byte {
	b := make([]byte, 0, sha256.Size+9)
	b = append(b, binding[:]...)
	b = binary.BigEndian.AppendUint64(b, index)
	if final {
		return append(b, 1)
	}
	return append(b, 0)
}
