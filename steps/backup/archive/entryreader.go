package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
)

// EntryReader reads an entry stream. Call Next for each entry and Read for
// a file's data; Next returns io.EOF once the manifest has been read and
// matched against every entry (names, types, modes, sizes, SHA-256).
type EntryReader struct {
	src      io.Reader
	offset   int64 // payload bytes consumed
	names    *nameSet
	seen     []ManifestEntry
	cur      *fileState // the file being read, nil between entries
	manifest *Manifest
	err      error // sticky
}

type fileState struct {
	entry   ManifestEntry
	hash    hash.Hash
	segLeft int64 // bytes left in the current segment
	done    bool  // the terminating empty segment was read
}

// NewEntryReader starts reading an entry stream from r, usually an
// archive Reader.
func NewEntryReader(r io.Reader) (*EntryReader, error) {
	e := &EntryReader{src: r, names: newNameSet()}
	got := make([]byte, len(entryMagic))
	if err := e.full(got, "the payload signature"); err != nil {
		return nil, err
	}
	if string(got) != entryMagic {
		return nil, payloadError(0, "the archive decrypts, but its payload is not a fineract-installer entry stream")
	}
	return e, nil
}

// Next advances to the next entry, skipping (but still checking) the rest
// of the current file. It returns io.EOF after a matching manifest.
func (e *EntryReader) Next() (Entry, error) {
	if e.err != nil {
		return Entry{}, e.err
	}
	ent, err := e.next()
	if err != nil {
		e.err = err
	}
	return ent, err
}

func (e *EntryReader) next() (Entry, error) {
	if err := e.finishFile(); err != nil {
		return Entry{}, err
	}
	var kind [1]byte
	if err := e.full(kind[:], "the next entry"); err != nil {
		return Entry{}, err
	}
	switch kind[0] {
	case recFile, recDir:
		return e.readEntry(kind[0])
	case recManifest:
		if err := e.readManifest(); err != nil {
			return Entry{}, err
		}
		return Entry{}, io.EOF
	default:
		return Entry{}, payloadError(e.offset-1, fmt.Sprintf("unknown record type %#x", kind[0]))
	}
}

func (e *EntryReader) readEntry(kind byte) (Entry, error) {
	var n [2]byte
	if err := e.full(n[:], "an entry name"); err != nil {
		return Entry{}, err
	}
	name := make([]byte, binary.BigEndian.Uint16(n[:]))
	if err := e.full(name, "an entry name"); err != nil {
		return Entry{}, err
	}
	var m [4]byte
	if err := e.full(m[:], "an entry mode"); err != nil {
		return Entry{}, err
	}
	mode := binary.BigEndian.Uint32(m[:])
	t := TypeFile
	if kind == recDir {
		t = TypeDir
	}
	if err := e.names.add(string(name), t); err != nil {
		return Entry{}, payloadError(e.offset, err.Error())
	}
	if mode&^0o777 != 0 {
		return Entry{}, payloadError(e.offset, fmt.Sprintf("entry %q has mode %#o; only permission bits are stored", name, mode))
	}
	ent := Entry{Name: string(name), Type: t, Mode: fs.FileMode(mode)}
	me := ManifestEntry{Name: ent.Name, Type: t, Mode: modeString(ent.Mode)}
	if t == TypeDir {
		e.seen = append(e.seen, me)
		return ent, nil
	}
	e.cur = &fileState{entry: me, hash: sha256.New()}
	return ent, nil
}

// Read reads the current file's data; it returns io.EOF at the file's end
// and for a directory.
func (e *EntryReader) Read(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

func (e *EntryReader) read(p []byte) (int, error) {
	f := e.cur
	if f == nil || f.done {
		return 0, io.EOF
	}
	if f.segLeft == 0 {
		var n [4]byte
		if err := e.full(n[:], "a data segment of "+f.entry.Name); err != nil {
			return 0, err
		}
		size := binary.BigEndian.Uint32(n[:])
		if size == 0 {
			f.done = true
			return 0, io.EOF
		}
		if size > maxSegment {
			return 0, payloadError(e.offset-4, fmt.Sprintf("entry %q has a %d-byte segment; the limit is %d", f.entry.Name, size, maxSegment))
		}
		f.segLeft = int64(size)
	}
	if len(p) == 0 {
		return 0, nil
	}
	p = p[:min(int64(len(p)), f.segLeft)]
	if err := e.full(p, "the data of "+f.entry.Name); err != nil {
		return 0, err
	}
	f.segLeft -= int64(len(p))
	f.entry.Size += int64(len(p))
	f.hash.Write(p)
	return len(p), nil
}

// finishFile reads the rest of the current file and records it as seen.
func (e *EntryReader) finishFile() error {
	if e.cur == nil {
		return nil
	}
	if _, err := io.Copy(io.Discard, readerFunc(e.read)); err != nil {
		return err
	}
	e.cur.entry.SHA256 = hex.EncodeToString(e.cur.hash.Sum(nil))
	e.seen = append(e.seen, e.cur.entry)
	e.cur = nil
	return nil
}

func (e *EntryReader) readManifest() error {
	var n [4]byte
	if err := e.full(n[:], "the manifest"); err != nil {
		return err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxManifestLen {
		return payloadError(e.offset-4, fmt.Sprintf("the manifest claims %d bytes; the limit is %d", size, maxManifestLen))
	}
	// Read rather than allocate the claimed size up front: memory grows
	// only with the data actually present.
	body, err := io.ReadAll(io.LimitReader(e.src, int64(size)))
	e.offset += int64(len(body))
	if err != nil {
		return e.sourceError(err, "the manifest")
	}
	if len(body) < int(size) {
		return e.sourceError(io.EOF, "the manifest")
	}
	var m Manifest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return payloadError(e.offset, fmt.Sprintf("the manifest is not valid: %v", err))
	}
	if err := compareManifest(&m, e.seen); err != nil {
		return payloadError(e.offset, err.Error())
	}
	var extra [1]byte
	if n, err := io.ReadFull(e.src, extra[:]); n > 0 {
		return payloadError(e.offset, "the payload continues after its manifest")
	} else if err != io.EOF {
		return e.sourceError(err, "the end of the payload")
	}
	e.manifest = &m
	return nil
}

// Manifest returns the manifest once Next has returned io.EOF, else nil.
func (e *EntryReader) Manifest() *Manifest { return e.manifest }

func compareManifest(m *Manifest, seen []ManifestEntry) error {
	if m.Format != manifestFormat {
		return fmt.Errorf("the manifest has format %d; this installer reads format %d", m.Format, manifestFormat)
	}
	if len(m.Entries) != len(seen) {
		return fmt.Errorf("the manifest lists %d entries but the payload holds %d", len(m.Entries), len(seen))
	}
	for i, want := range m.Entries {
		if got := seen[i]; got != want {
			return fmt.Errorf("entry %d: the manifest says %s %q mode %s, %d bytes, sha256 %s; the payload has %s %q mode %s, %d bytes, sha256 %s",
				i+1, want.Type, want.Name, want.Mode, want.Size, want.SHA256, got.Type, got.Name, got.Mode, got.Size, got.SHA256)
		}
	}
	return nil
}

// full reads exactly len(p) bytes; the payload ending early is an error
// because the archive layer has already proven the payload complete.
func (e *EntryReader) full(p []byte, what string) error {
	n, err := io.ReadFull(e.src, p)
	e.offset += int64(n)
	if err != nil {
		return e.sourceError(err, what)
	}
	return nil
}

func (e *EntryReader) sourceError(err error, what string) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return payloadError(e.offset, "the payload ends inside "+what+": the backup was not finished properly")
	}
	var ae *Error
	if errors.As(err, &ae) {
		return err // already explains itself
	}
	return fmt.Errorf("reading the archive payload: %w", err)
}

func payloadError(offset int64, problem string) *Error {
	return &Error{Kind: ErrCorrupt, Chunk: -1, Offset: -1,
		Problem: fmt.Sprintf("the decrypted payload is malformed at payload byte %d: %s", offset, problem),
		Fix:     "the archive authenticates, so it was written this way: the backup is unusable, use another one"}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }
