package archive

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// Format constants. doc.go has the byte layout.
const (
	magic         = "FIBACKUP"
	formatVersion = 1

	keySize      = 32 // AES-256 keys and the data key
	fileIDSize   = 16
	saltSize     = 16
	nonceSize    = 12 // AES-GCM standard nonce
	tagSize      = 16 // AES-GCM tag
	macSize      = sha256.Size
	checksumSize = sha256.Size

	fixedSize   = len(magic) + 1 + 4 + fileIDSize + 2 // up to the metadata
	maxMetadata = 1<<16 - 1
	maxSlots    = 8
)

// Chunk sizes: every chunk but the last holds exactly ChunkSize plaintext bytes.
const (
	MinChunkSize     = 64 << 10
	MaxChunkSize     = 1 << 20
	DefaultChunkSize = 1 << 20
)

// header is the parsed archive header.
type header struct {
	chunkSize uint32
	fileID    [fileIDSize]byte
	metadata  []byte // JSON, exactly as stored
	slots     []keySlot
	mac       [macSize]byte
}

// stable is the part of the header that never changes for an archive:
// Rekey replaces the key slots and the MAC but keeps these bytes, so the
// payload chunks, which bind their hash, stay valid.
func (h *header) stable() []byte {
	b := make([]byte, 0, fixedSize+len(h.metadata))
	b = append(b, magic...)
	b = append(b, formatVersion)
	b = binary.BigEndian.AppendUint32(b, h.chunkSize)
	b = append(b, h.fileID[:]...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(h.metadata)))
	return append(b, h.metadata...)
}

// binding is the hash every chunk and key slot authenticates.
func (h *header) binding() [sha256.Size]byte {
	return sha256.Sum256(h.stable())
}

// authenticated is everything the header MAC covers.
func (h *header) authenticated() []byte {
	b := h.stable()
	b = append(b, byte(len(h.slots)))
	for i := range h.slots {
		b = h.slots[i].append(b)
	}
	return b
}

// seal computes the header MAC with macKey.
func (h *header) seal(macKey []byte) {
	m := hmac.New(sha256.New, macKey)
	m.Write(h.authenticated())
	copy(h.mac[:], m.Sum(nil))
}

// verifyMAC reports whether the header MAC matches macKey.
func (h *header) verifyMAC(macKey []byte) bool {
	m := hmac.New(sha256.New, macKey)
	m.Write(h.authenticated())
	return hmac.Equal(m.Sum(nil), h.mac[:])
}

// encode returns the header as written to the file, checksum included.
func (h *header) encode() []byte {
	b := append(h.authenticated(), h.mac[:]...)
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

// readHeader reads and checks the header's structure and checksum. It does
// not need the passphrase; the key slots and the MAC are checked later.
// It returns the header and its size in bytes.
func readHeader(r *bufio.Reader, limits passphrase.KDFLimits) (*header, int64, error) {
	var raw bytes.Buffer
	read := func(n int) ([]byte, error) {
		start := raw.Len()
		if _, err := io.CopyN(&raw, r, int64(n)); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, headerError(ErrTruncated, int64(raw.Len()),
					fmt.Sprintf("the archive ends inside its header after %d bytes", raw.Len()), fixTruncated)
			}
			return nil, fmt.Errorf("reading the backup archive header: %w", err)
		}
		return raw.Bytes()[start:], nil
	}

	if err := readMagic(r, &raw); err != nil {
		return nil, 0, err
	}
	fixed, err := read(fixedSize - len(magic))
	if err != nil {
		return nil, 0, err
	}
	if v := fixed[0]; v != formatVersion {
		return nil, 0, versionError(v)
	}
	h := &header{chunkSize: binary.BigEndian.Uint32(fixed[1:5])}
	copy(h.fileID[:], fixed[5:5+fileIDSize])
	metaLen := int(binary.BigEndian.Uint16(fixed[5+fileIDSize:]))
	meta, err := read(metaLen)
	if err != nil {
		return nil, 0, err
	}
	h.metadata = bytes.Clone(meta)
	count, err := read(1)
	if err != nil {
		return nil, 0, err
	}
	if n := int(count[0]); n < 1 || n > maxSlots {
		return nil, 0, headerError(ErrCorrupt, int64(raw.Len()-1),
			fmt.Sprintf("the header declares %d key slots; an archive has 1 to %d", n, maxSlots), fixDamaged)
	}
	for range int(count[0]) {
		b, err := read(slotSize)
		if err != nil {
			return nil, 0, err
		}
		h.slots = append(h.slots, parseSlot(b))
	}
	mac, err := read(macSize)
	if err != nil {
		return nil, 0, err
	}
	copy(h.mac[:], mac)
	covered := raw.Len()
	sum, err := read(checksumSize)
	if err != nil {
		return nil, 0, err
	}
	want := sha256.Sum256(raw.Bytes()[:covered])
	if !bytes.Equal(sum, want[:]) {
		return nil, 0, headerError(ErrCorrupt, 0,
			"the archive header fails its checksum: a byte in the first "+fmt.Sprint(raw.Len())+" bytes changed", fixDamaged)
	}
	if err := h.validate(limits); err != nil {
		return nil, 0, err
	}
	return h, int64(raw.Len()), nil
}

// readMagic tells a file that is not an archive from one cut short inside
// the magic, which includes an empty file.
func readMagic(r *bufio.Reader, raw *bytes.Buffer) error {
	got, err := r.Peek(len(magic))
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the backup archive header: %w", err)
	}
	if !bytes.HasPrefix([]byte(magic), got) {
		return headerError(ErrNotAnArchive, -1,
			"the file does not start with the backup archive signature",
			"check that this is a backup written by fineract-installer (not a tar, gzip or openssl file)")
	}
	if len(got) < len(magic) {
		return headerError(ErrTruncated, int64(len(got)),
			fmt.Sprintf("the archive is only %d bytes long and ends inside its signature", len(got)), fixTruncated)
	}
	raw.Write(got)
	_, err = r.Discard(len(magic))
	return err
}

func versionError(v byte) error {
	fix := "use a fineract-installer release that reads this format"
	if v > formatVersion {
		fix = "the archive was written by a newer fineract-installer; restore it with that release or a later one"
	}
	return headerError(ErrUnsupportedVersion, int64(len(magic)),
		fmt.Sprintf("the archive has format version %d; this installer reads version %d", v, formatVersion), fix)
}

// validate checks the fields once the checksum has shown they were read as
// written. It bounds the key derivation work the key slots ask for, so it
// must pass before any key is derived.
func (h *header) validate(limits passphrase.KDFLimits) error {
	if h.chunkSize < MinChunkSize || h.chunkSize > MaxChunkSize {
		return headerError(ErrCorrupt, int64(len(magic)+1),
			fmt.Sprintf("the header declares a chunk size of %d bytes; archives use %d to %d", h.chunkSize, MinChunkSize, MaxChunkSize), fixDamaged)
	}
	for i, s := range h.slots {
		if s.kind != slotArgon2id {
			return headerError(ErrUnsupportedVersion, -1,
				fmt.Sprintf("key slot %d uses key derivation %d, which this installer does not know", i+1, s.kind),
				"use the fineract-installer release that wrote the archive")
		}
	}
	if err := limits.CheckAll(slotKDFs(h.slots)); err != nil {
		return headerError(ErrWeakParameters, -1,
			fmt.Sprintf("the key slots ask for key derivation outside the accepted range, refused before deriving any key (%v)", err),
			"this installer never writes such an archive, so it may have been tampered with: do not restore from it; use another copy of this backup")
	}
	if _, err := decodeMetadata(h.metadata); err != nil {
		return headerError(ErrCorrupt, int64(fixedSize), err.Error(), fixDamaged)
	}
	return nil
}
