package archive

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// Info describes an archive. NewReader fills in the header fields; the
// payload counters grow while the payload is read and are complete once
// Read has returned io.EOF (Verify returns them complete).
type Info struct {
	// Version is the archive format version.
	Version int
	// FileID is the archive's random identifier, in hex.
	FileID string
	// ChunkSize is the plaintext size of each full chunk.
	ChunkSize int
	// Metadata is the authenticated metadata from the header.
	Metadata Metadata
	// KeySlots lists the key derivation parameters of each key slot.
	KeySlots []passphrase.KDF
	// HeaderSize is the header length in bytes.
	HeaderSize int64

	// Chunks is the number of payload chunks read and authenticated.
	Chunks int64
	// PayloadSize is the number of plaintext bytes read and authenticated.
	PayloadSize int64
	// ArchiveSize is the number of archive bytes read.
	ArchiveSize int64
	// Manifest is set by Verify and Extract after checking it.
	Manifest *Manifest
}

// Reader decrypts and authenticates an archive's payload. Each chunk is
// authenticated before any of its bytes are returned; Read returns an
// error, never data, for a chunk that fails, and an error rather than
// io.EOF when the input ends before the final chunk.
//
// Data returned before an error came from authentic chunks, but the
// payload as a whole is only proven complete when Read returns io.EOF:
// a consumer must discard what it made from the payload on any error.
type Reader struct {
	src       *bufio.Reader
	keys      *streamKeys
	binding   [sha256.Size]byte
	chunkSize int
	info      Info

	enc   []byte // ciphertext of the current chunk
	plain []byte // its plaintext
	pos   int    // next unread byte in plain
	done  bool   // the final chunk has been authenticated
	err   error  // sticky
}

// NewReader reads the archive header from r, checks its checksum, unwraps
// the data key with pass and verifies the header MAC. The argon2id
// derivation runs here, once the header has shown it asks for no more work
// than passphrase.Limits allows. Errors wrap ErrNotAnArchive, ErrTruncated,
// ErrUnsupportedVersion, ErrWeakParameters, ErrCorrupt or ErrWrongPassphrase.
func NewReader(r io.Reader, pass []byte) (*Reader, error) {
	return newReader(r, pass, passphrase.Limits)
}

func newReader(r io.Reader, pass []byte, limits passphrase.KDFLimits) (*Reader, error) {
	o, err := openArchive(r, pass, limits)
	if err != nil {
		return nil, err
	}
	clear(o.dataKey)
	return o.reader, nil
}

// opened is an archive whose header has been read and authenticated.
type opened struct {
	header  *header
	dataKey []byte
	reader  *Reader
}

func openArchive(r io.Reader, pass []byte, limits passphrase.KDFLimits) (*opened, error) {
	src := bufio.NewReaderSize(r, 64<<10)
	h, size, err := readHeader(src, limits)
	if err != nil {
		return nil, err
	}
	dataKey, err := openSlots(h, pass)
	if err != nil {
		return nil, err
	}
	keys, err := deriveStreamKeys(dataKey, h.fileID)
	if err != nil {
		clear(dataKey)
		return nil, err
	}
	if !h.verifyMAC(keys.macKey) {
		clear(dataKey)
		return nil, headerError(ErrCorrupt, 0,
			"the passphrase opens a key slot but the header fails authentication: it was modified after it was written",
			"do not restore from this file; use another copy of this backup")
	}
	meta, _ := decodeMetadata(h.metadata) // validated by readHeader
	cs := int(h.chunkSize)
	rd := &Reader{
		src:       src,
		keys:      keys,
		binding:   h.binding(),
		chunkSize: cs,
		enc:       make([]byte, cs+tagSize),
		plain:     make([]byte, 0, cs),
		info: Info{
			Version:     formatVersion,
			FileID:      hex.EncodeToString(h.fileID[:]),
			ChunkSize:   cs,
			Metadata:    meta,
			KeySlots:    slotKDFs(h.slots),
			HeaderSize:  size,
			ArchiveSize: size,
		},
	}
	return &opened{header: h, dataKey: dataKey, reader: rd}, nil
}

// Info returns what is known about the archive so far.
func (r *Reader) Info() Info { return r.info }

// Read returns authenticated plaintext. See Reader for its guarantees.
func (r *Reader) Read(p []byte) (int, error) {
	for r.pos == len(r.plain) {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		if _, err := r.nextChunk(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.plain[r.pos:])
	r.pos += n
	return n, nil
}

// nextChunk reads, authenticates and decrypts the next chunk into r.plain
// and returns its ciphertext (valid until the next call).
func (r *Reader) nextChunk() ([]byte, error) {
	index := uint64(r.info.Chunks)
	offset := r.info.ArchiveSize
	full := r.chunkSize + tagSize
	n, err := io.ReadFull(r.src, r.enc[:full])
	last := false
	switch {
	case errors.Is(err, io.EOF):
		return nil, r.endedEarly(index, offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		last = true
	case err != nil:
		return nil, fmt.Errorf("reading backup archive chunk %d: %w", index, err)
	default:
		_, err := r.src.Peek(1)
		last = errors.Is(err, io.EOF)
		if err != nil && !last {
			return nil, fmt.Errorf("reading backup archive chunk %d: %w", index+1, err)
		}
	}
	ct := r.enc[:n]
	if n < tagSize {
		return nil, chunkError(ErrTruncated, int64(index), offset,
			fmt.Sprintf("the archive ends %d bytes into chunk %d, before its authentication tag", n, index), fixTruncated)
	}
	plain, err := r.open(ct, index, last)
	if err != nil {
		return nil, r.explain(ct, index, offset, last)
	}
	if last && len(plain) == 0 && index > 0 {
		return nil, chunkError(ErrCorrupt, int64(index), offset,
			"the archive ends with an empty final chunk after full ones, which this format never writes", fixDamaged)
	}
	r.plain, r.pos, r.done = plain, 0, last
	r.info.Chunks++
	r.info.PayloadSize += int64(len(plain))
	r.info.ArchiveSize += int64(n)
	return ct, nil
}

func (r *Reader) open(ct []byte, index uint64, final bool) ([]byte, error) {
	return r.keys.aead.Open(r.plain[:0], chunkNonce(index, final), ct, chunkAAD(r.binding, index, final))
}

// endedEarly explains an archive that ends cleanly between two chunks.
func (r *Reader) endedEarly(index uint64, offset int64) error {
	if index == 0 {
		return chunkError(ErrTruncated, 0, offset, "the archive ends right after its header, without any payload", fixTruncated)
	}
	return chunkError(ErrTruncated, int64(index), offset,
		fmt.Sprintf("the archive ends after chunk %d, but that chunk is not the final one", index-1), fixTruncated)
}

// explain tells why a chunk failed: trying the other final flag separates
// a cut-short file and appended data from plain damage.
func (r *Reader) explain(ct []byte, index uint64, offset int64, last bool) error {
	full := len(ct) == r.chunkSize+tagSize
	if last && full {
		if _, err := r.open(ct, index, false); err == nil {
			return chunkError(ErrTruncated, int64(index+1), offset+int64(len(ct)),
				fmt.Sprintf("the archive ends after chunk %d, but that chunk is not the final one", index), fixTruncated)
		}
	}
	if !last {
		if _, err := r.open(ct, index, true); err == nil {
			return chunkError(ErrCorrupt, int64(index+1), offset+int64(len(ct)),
				fmt.Sprintf("data follows chunk %d, which is the archive's final chunk", index),
				"something was appended to the file after it was written: use another copy of this backup")
		}
	}
	if last {
		return chunkError(ErrCorrupt, int64(index), offset,
			fmt.Sprintf("the archive's last chunk (%d) does not authenticate: it was changed, data was appended to it, or the file was cut short inside it", index),
			"use another copy of this backup")
	}
	return chunkError(ErrCorrupt, int64(index), offset,
		fmt.Sprintf("chunk %d does not authenticate: it was changed, moved or duplicated", index), fixDamaged)
}
