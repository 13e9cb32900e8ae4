package wal

import (
	"bufio"
	"bytes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/backup/stream"
)

// Format constants; doc.go has the byte layout.
const (
	magic         = "FIWALOBJ"
	formatVersion = 1
	fileIDSize    = 16
	hkdfInfo      = "fineract-installer wal v1"

	// KeySize is the length of the WAL key.
	KeySize = stream.KeySize

	minChunkSize = 64 << 10
	maxChunkSize = 1 << 20
	chunkSize    = 1 << 20

	// fixedSize is the header up to the name; maxHeader bounds everything
	// read before the first chunk authenticates the header.
	fixedSize = len(magic) + 1 + 4 + fileIDSize + 8 + 1
	maxHeader = fixedSize + maxNameLen
)

// header is an object's header: it names the WAL file it holds and when it
// was archived. It is authenticated by every chunk (its hash is in their
// additional data), never by itself.
type header struct {
	chunkSize  uint32
	fileID     [fileIDSize]byte
	archivedAt time.Time
	name       string
}

func (h *header) encode() []byte {
	b := make([]byte, 0, fixedSize+len(h.name))
	b = append(b, magic...)
	b = append(b, formatVersion)
	b = binary.BigEndian.AppendUint32(b, h.chunkSize)
	b = append(b, h.fileID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(h.archivedAt.UnixNano()))
	b = append(b, byte(len(h.name)))
	return append(b, h.name...)
}

func deriveAEAD(key []byte, fileID [fileIDSize]byte) (cipher.AEAD, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("the WAL key is %d bytes, not %d", len(key), KeySize)
	}
	k, err := hkdf.Key(sha256.New, key, fileID[:], hkdfInfo, stream.KeySize)
	if err != nil {
		return nil, fmt.Errorf("deriving the WAL object key: %w", err)
	}
	defer clear(k)
	return stream.NewGCM(k)
}

// writer encrypts one WAL file into an object.
type writer struct {
	w       io.Writer
	aead    cipher.AEAD
	binding [sha256.Size]byte
	index   uint64
	buf     []byte
	out     []byte
}

// newWriter writes the header for name to w; fileID must be random.
func newWriter(w io.Writer, key []byte, fileID [fileIDSize]byte, name string, archivedAt time.Time) (*writer, error) {
	if !ValidName(name) {
		return nil, fmt.Errorf("%q is not a WAL file name PostgreSQL archives", name)
	}
	aead, err := deriveAEAD(key, fileID)
	if err != nil {
		return nil, err
	}
	h := header{chunkSize: chunkSize, fileID: fileID, archivedAt: archivedAt.UTC(), name: name}
	enc := h.encode()
	if _, err := w.Write(enc); err != nil {
		return nil, fmt.Errorf("writing the WAL object header: %w", err)
	}
	return &writer{
		w: w, aead: aead, binding: sha256.Sum256(enc),
		buf: make([]byte, 0, chunkSize), out: make([]byte, 0, chunkSize+stream.TagSize),
	}, nil
}

func (w *writer) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		if len(w.buf) == cap(w.buf) {
			if err := w.seal(false); err != nil {
				return written, err
			}
		}
		n := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:n]...)
		p, written = p[n:], written+n
	}
	return written, nil
}

// Close seals the final chunk; it does not close the underlying writer.
func (w *writer) Close() error { return w.seal(true) }

func (w *writer) seal(final bool) error {
	w.out = w.aead.Seal(w.out[:0], stream.Nonce(w.index, final), w.buf, stream.AAD(w.binding, w.index, final))
	if _, err := w.w.Write(w.out); err != nil {
		return fmt.Errorf("writing WAL object chunk %d: %w", w.index, err)
	}
	w.index++
	w.buf = w.buf[:0]
	return nil
}

// reader decrypts an object. newReader authenticates the header (with the
// first chunk) before it returns, so header fields are trustworthy; Read
// returns only authenticated chunks and io.EOF only after the final one.
type reader struct {
	src     *bufio.Reader
	aead    cipher.AEAD
	binding [sha256.Size]byte
	chunk   int
	header  header
	index   uint64
	enc     []byte
	plain   []byte
	pos     int
	done    bool
	err     error
	obj     string // the object's name, for errors
}

// newReader reads the header of the object stored as name and
// authenticates it. It refuses an object holding another WAL file.
func newReader(r io.Reader, key []byte, name string) (*reader, error) {
	src := bufio.NewReaderSize(r, 64<<10)
	h, raw, err := readHeader(src, name)
	if err != nil {
		return nil, err
	}
	aead, err := deriveAEAD(key, h.fileID)
	if err != nil {
		return nil, err
	}
	rd := &reader{
		src: src, aead: aead, binding: sha256.Sum256(raw), chunk: int(h.chunkSize), header: *h,
		enc: make([]byte, int(h.chunkSize)+stream.TagSize), plain: make([]byte, 0, h.chunkSize), obj: name,
	}
	if err := rd.next(); err != nil {
		return nil, err
	}
	if h.name != name {
		return nil, &Error{Kind: ErrMisplaced, Name: name,
			Problem: fmt.Sprintf("it holds WAL file %s (archived %s): it was copied or renamed over this one", h.name, h.archivedAt.Format(time.RFC3339))}
	}
	return rd, nil
}

// readHeader reads at most maxHeader bytes and checks the structure; the
// header is only trusted once the first chunk authenticates it.
func readHeader(src *bufio.Reader, name string) (*header, []byte, error) {
	corrupt := func(problem string) error { return &Error{Kind: ErrCorrupt, Name: name, Problem: problem} }
	fixed := make([]byte, fixedSize)
	if n, err := io.ReadFull(src, fixed); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			if !bytes.HasPrefix(fixed[:n], []byte(magic)[:min(n, len(magic))]) {
				return nil, nil, corrupt("it is not a WAL object (wrong signature)")
			}
			return nil, nil, &Error{Kind: ErrTruncated, Name: name, Problem: fmt.Sprintf("it ends inside its header after %d bytes", n)}
		}
		return nil, nil, fmt.Errorf("reading WAL object %s: %w", name, err)
	}
	if string(fixed[:len(magic)]) != magic {
		return nil, nil, corrupt("it is not a WAL object (wrong signature)")
	}
	if v := fixed[len(magic)]; v != formatVersion {
		return nil, nil, corrupt(fmt.Sprintf("it has format version %d; this installer reads version %d", v, formatVersion))
	}
	p := fixed[len(magic)+1:]
	h := &header{chunkSize: binary.BigEndian.Uint32(p)}
	p = p[4:]
	copy(h.fileID[:], p)
	p = p[fileIDSize:]
	h.archivedAt = time.Unix(0, int64(binary.BigEndian.Uint64(p))).UTC()
	nameLen := int(p[8])
	if h.chunkSize < minChunkSize || h.chunkSize > maxChunkSize {
		return nil, nil, corrupt(fmt.Sprintf("its header declares a chunk size of %d bytes; objects use %d to %d", h.chunkSize, minChunkSize, maxChunkSize))
	}
	if nameLen == 0 || nameLen > maxNameLen {
		return nil, nil, corrupt(fmt.Sprintf("its header declares a name of %d bytes; WAL names have 1 to %d", nameLen, maxNameLen))
	}
	nb := make([]byte, nameLen)
	if n, err := io.ReadFull(src, nb); err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, nil, &Error{Kind: ErrTruncated, Name: name, Problem: fmt.Sprintf("it ends inside its header after %d bytes", fixedSize+n)}
		}
		return nil, nil, fmt.Errorf("reading WAL object %s: %w", name, err)
	}
	h.name = string(nb)
	if !ValidName(h.name) {
		return nil, nil, corrupt(fmt.Sprintf("its header names %q, which is not a WAL file name", h.name))
	}
	return h, append(fixed, nb...), nil
}

func (r *reader) Read(p []byte) (int, error) {
	for r.pos == len(r.plain) {
		if r.err != nil {
			return 0, r.err
		}
		if r.done {
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.plain[r.pos:])
	r.pos += n
	return n, nil
}

// next reads and authenticates the next chunk into r.plain.
func (r *reader) next() error {
	full := r.chunk + stream.TagSize
	n, err := io.ReadFull(r.src, r.enc[:full])
	last := false
	switch {
	case errors.Is(err, io.EOF):
		return &Error{Kind: ErrTruncated, Name: r.obj, Problem: fmt.Sprintf("it ends before chunk %d, and the chunk before is not the final one", r.index)}
	case errors.Is(err, io.ErrUnexpectedEOF):
		last = true
	case err != nil:
		return fmt.Errorf("reading WAL object %s chunk %d: %w", r.obj, r.index, err)
	default:
		_, err := r.src.Peek(1)
		last = errors.Is(err, io.EOF)
		if err != nil && !last {
			return fmt.Errorf("reading WAL object %s chunk %d: %w", r.obj, r.index+1, err)
		}
	}
	ct := r.enc[:n]
	if n < stream.TagSize {
		return &Error{Kind: ErrTruncated, Name: r.obj, Problem: fmt.Sprintf("it ends %d bytes into chunk %d, before its authentication tag", n, r.index)}
	}
	plain, err := r.open(ct, last)
	if err != nil {
		return r.explain(ct, last)
	}
	if last && len(plain) == 0 && r.index > 0 {
		return &Error{Kind: ErrCorrupt, Name: r.obj, Problem: "it ends with an empty final chunk after full ones, which is never written"}
	}
	r.plain, r.pos, r.done = plain, 0, last
	r.index++
	return nil
}

func (r *reader) open(ct []byte, final bool) ([]byte, error) {
	return r.aead.Open(r.plain[:0], stream.Nonce(r.index, final), ct, stream.AAD(r.binding, r.index, final))
}

// explain tells a cut-short object from a changed one by trying the other
// final flag.
func (r *reader) explain(ct []byte, last bool) error {
	if last && len(ct) == r.chunk+stream.TagSize {
		if _, err := r.open(ct, false); err == nil {
			return &Error{Kind: ErrTruncated, Name: r.obj, Problem: fmt.Sprintf("it ends after chunk %d, which is not the final one", r.index)}
		}
	}
	if !last {
		if _, err := r.open(ct, true); err == nil {
			return &Error{Kind: ErrCorrupt, Name: r.obj, Problem: fmt.Sprintf("data was appended after its final chunk %d", r.index)}
		}
	}
	what := "was changed, moved or duplicated"
	if r.index == 0 {
		what = "or its header was changed, or it was written under another WAL key"
	}
	return &Error{Kind: ErrCorrupt, Name: r.obj, Problem: fmt.Sprintf("chunk %d does not authenticate: it %s", r.index, what)}
}
