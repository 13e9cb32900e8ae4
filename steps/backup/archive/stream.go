package archive

import (
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"

	"github.com/fineract-installer/fineract-installer/steps/backup/stream"
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

// chunkNonce and chunkAAD are the STREAM construction shared with the WAL
// object format (steps/backup/stream). The payload key is unique to the
// archive, so counter nonces never repeat under one key.
func chunkNonce(index uint64, final bool) []byte { return stream.Nonce(index, final) }

func chunkAAD(binding [sha256.Size]byte, index uint64, final bool) []byte {
	return stream.AAD(binding, index, final)
}
