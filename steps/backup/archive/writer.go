package archive

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// Options configure a new archive. The zero value is ready to use.
type Options struct {
	// ChunkSize is the plaintext size of each payload chunk, between
	// MinChunkSize and MaxChunkSize; 0 means DefaultChunkSize.
	ChunkSize int
	// KDF sets the argon2id parameters, within passphrase.Limits; the zero
	// value means passphrase.DefaultKDF.
	KDF passphrase.KDF
	// Metadata is stored, authenticated, in the header.
	Metadata Metadata
}

// Writer encrypts a payload into an archive. Create it with NewWriter,
// write the payload, then Close it: only Close writes the final chunk,
// without which the archive reads as truncated.
type Writer struct {
	w       io.Writer
	keys    *streamKeys
	binding [sha256.Size]byte
	buf     []byte // plaintext of the chunk being filled
	out     []byte // sealed chunk
	index   uint64
	err     error // sticky: the first write error, or errClosed
}

var errClosed = errors.New("the backup archive writer is already closed")

// NewWriter writes an archive header to w and returns a Writer for the
// payload. The passphrase must pass passphrase.CheckNew. The argon2id
// derivation runs here, so NewWriter takes a fraction of a second.
func NewWriter(w io.Writer, pass []byte, opts Options) (*Writer, error) {
	if err := passphrase.CheckNew(pass); err != nil {
		return nil, err
	}
	return newWriter(w, [][]byte{pass}, opts, passphrase.Limits, rand.Reader)
}

// newWriter takes the randomness source as a parameter so tests can make
// identical archives in separate processes (the fuzz corpus needs that).
func newWriter(w io.Writer, passphrases [][]byte, opts Options, limits passphrase.KDFLimits, rnd io.Reader) (*Writer, error) {
	opts, err := opts.withDefaults(limits)
	if err != nil {
		return nil, err
	}
	meta, err := encodeMetadata(opts.Metadata)
	if err != nil {
		return nil, err
	}
	h := &header{chunkSize: uint32(opts.ChunkSize), metadata: meta}
	if _, err := io.ReadFull(rnd, h.fileID[:]); err != nil {
		return nil, fmt.Errorf("reading a random file ID: %w", err)
	}
	dataKey := make([]byte, keySize)
	defer clear(dataKey)
	if _, err := io.ReadFull(rnd, dataKey); err != nil {
		return nil, fmt.Errorf("reading a random data key: %w", err)
	}
	keys, err := writeHeader(w, h, dataKey, passphrases, opts.KDF, limits, rnd)
	if err != nil {
		return nil, err
	}
	return &Writer{
		w:       w,
		keys:    keys,
		binding: h.binding(),
		buf:     make([]byte, 0, opts.ChunkSize),
		out:     make([]byte, 0, opts.ChunkSize+tagSize),
	}, nil
}

func (o Options) withDefaults(limits passphrase.KDFLimits) (Options, error) {
	if o.ChunkSize == 0 {
		o.ChunkSize = DefaultChunkSize
	}
	if o.ChunkSize < MinChunkSize || o.ChunkSize > MaxChunkSize {
		return o, fmt.Errorf("chunk size %d is outside the range %d to %d bytes", o.ChunkSize, MinChunkSize, MaxChunkSize)
	}
	if o.KDF == (passphrase.KDF{}) {
		o.KDF = passphrase.DefaultKDF
	}
	if o.Metadata.Created.IsZero() {
		o.Metadata.Created = time.Now().UTC()
	}
	return o, nil
}

// writeHeader fills in the key slots and MAC of h, writes it to w and
// returns the payload keys. It refuses a header a reader with the same
// limits would refuse.
func writeHeader(w io.Writer, h *header, dataKey []byte, passphrases [][]byte, kdf passphrase.KDF, limits passphrase.KDFLimits, rnd io.Reader) (*streamKeys, error) {
	if len(passphrases) < 1 || len(passphrases) > maxSlots {
		return nil, fmt.Errorf("an archive takes 1 to %d passphrases, not %d", maxSlots, len(passphrases))
	}
	kdfs := make([]passphrase.KDF, len(passphrases))
	for i := range kdfs {
		kdfs[i] = kdf
	}
	if err := limits.CheckAll(kdfs); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrWeakParameters, err)
	}
	h.slots = h.slots[:0]
	for _, p := range passphrases {
		s, err := newSlot(p, dataKey, kdf, rnd)
		if err != nil {
			return nil, err
		}
		h.slots = append(h.slots, s)
	}
	keys, err := deriveStreamKeys(dataKey, h.fileID)
	if err != nil {
		return nil, err
	}
	h.seal(keys.macKey)
	if _, err := w.Write(h.encode()); err != nil {
		return nil, fmt.Errorf("writing the backup archive header: %w", err)
	}
	return keys, nil
}

// Write encrypts p. A chunk is sealed as soon as it is full and more data
// follows; the last one waits for Close.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	written := 0
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if err := w.seal(false); err != nil {
				return written, err
			}
		}
		n := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p = p[n:]
		written += n
	}
	return written, nil
}

// Close writes the final chunk. It does not close the underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		if w.err == errClosed {
			return nil
		}
		return w.err
	}
	if err := w.seal(true); err != nil {
		return err
	}
	w.err = errClosed
	return nil
}

func (w *Writer) seal(final bool) error {
	w.out = w.keys.aead.Seal(w.out[:0], chunkNonce(w.index, final), w.buf, chunkAAD(w.binding, w.index, final))
	if _, err := w.w.Write(w.out); err != nil {
		w.err = fmt.Errorf("writing backup archive chunk %d: %w", w.index, err)
		return w.err
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}
