package archive

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// HKDF labels: the data key is only ever used through keys derived from it.
const (
	infoPayload = "fineract-installer backup v1 payload"
	infoMAC     = "fineract-installer backup v1 header mac"
)

// streamKeys are the per-archive keys derived from the data key.
type streamKeys struct {
	aead   cipher.AEAD // AES-256-GCM for the payload chunks
	macKey []byte      // HMAC-SHA256 key for the header
}

func deriveStreamKeys(dataKey []byte, fileID [fileIDSize]byte) (*streamKeys, error) {
	payloadKey, err := hkdf.Key(sha256.New, dataKey, fileID[:], infoPayload, keySize)
	if err != nil {
		return nil, fmt.Errorf("deriving the payload key: %w", err)
	}
	defer clear(payloadKey)
	macKey, err := hkdf.Key(sha256.New, dataKey, fileID[:], infoMAC, keySize)
	if err != nil {
		return nil, fmt.Errorf("deriving the header key: %w", err)
	}
	aead, err := newGCM(payloadKey)
	if err != nil {
		return nil, err
	}
	return &streamKeys{aead: aead, macKey: macKey}, nil
}

// chunkNonce is the STREAM nonce: an 11-byte big-endian chunk counter and a
// last byte that is 1 for the final chunk. The payload key is unique to the
// archive, so counter nonces never repeat under one key.
func chunkNonce(index uint64, final bool) []byte {
	n := make([]byte, nonceSize)
	binary.BigEndian.PutUint64(n[3:11], index)
	if final {
		n[11] = 1
	}
	return n
}

// chunkAAD binds a chunk to the archive header, its position and whether it
// is the last one. The nonce carries the same position; saying it twice
// keeps the binding explicit should the nonce scheme ever change.
func chunkAAD(binding [sha256.Size]byte, index uint64, final bool) []byte {
	b := make([]byte, 0, sha256.Size+9)
	b = append(b, binding[:]...)
	b = binary.BigEndian.AppendUint64(b, index)
	if final {
		return append(b, 1)
	}
	return append(b, 0)
}
