package archive

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"syscall"
)

// EntryWriter writes an entry stream: files and directories, each added
// once, then the manifest on Close. Data of unknown length (a pg_dump
// pipe) streams straight through in length-prefixed segments; nothing is
// spooled to disk.
//
// If an Add method fails after it started writing, the stream is broken:
// every later call returns the same error and the archive must be
// discarded.
type EntryWriter struct {
	w        io.Writer
	closer   io.Closer // the archive Writer when made by Create
	names    *nameSet
	manifest Manifest
	seg      []byte
	err      error
}

// segmentSize is how much of a stream goes into one segment.
const segmentSize = 256 << 10

var errEntryWriterClosed = errors.New("the archive entry writer is already closed")

// Create starts an encrypted archive on w (see NewWriter) whose payload is
// an entry stream. Close writes the manifest and the final chunk; it does
// not close w.
func Create(w io.Writer, passphrase []byte, opts Options) (*EntryWriter, error) {
	aw, err := NewWriter(w, passphrase, opts)
	if err != nil {
		return nil, err
	}
	ew, err := NewEntryWriter(aw)
	if err != nil {
		return nil, err
	}
	ew.closer = aw
	return ew, nil
}

// NewEntryWriter starts an entry stream on w, which is usually an archive
// Writer. Close writes the manifest but does not close w.
func NewEntryWriter(w io.Writer) (*EntryWriter, error) {
	if _, err := io.WriteString(w, entryMagic); err != nil {
		return nil, fmt.Errorf("writing the archive payload: %w", err)
	}
	return &EntryWriter{w: w, names: newNameSet(), manifest: Manifest{Format: manifestFormat, Entries: []ManifestEntry{}}}, nil
}

// AddDir adds a directory entry with the permission bits of mode.
func (e *EntryWriter) AddDir(name string, mode fs.FileMode) error {
	if err := e.begin(name, TypeDir, mode); err != nil {
		return err
	}
	e.manifest.Entries = append(e.manifest.Entries, ManifestEntry{Name: name, Type: TypeDir, Mode: modeString(mode)})
	return nil
}

// AddBytes adds a file entry holding data.
func (e *EntryWriter) AddBytes(name string, mode fs.FileMode, data []byte) error {
	_, err := e.AddStream(name, mode, bytes.NewReader(data))
	return err
}

// AddStream adds a file entry with everything r yields until io.EOF, of
// any length, and returns the number of bytes added. An error from r
// breaks the stream (see EntryWriter).
func (e *EntryWriter) AddStream(name string, mode fs.FileMode, r io.Reader) (int64, error) {
	if err := e.begin(name, TypeFile, mode); err != nil {
		return 0, err
	}
	if e.seg == nil {
		e.seg = make([]byte, 4+segmentSize)
	}
	h := sha256.New()
	var size int64
	for {
		n, err := io.ReadFull(r, e.seg[4:])
		if n > 0 {
			binary.BigEndian.PutUint32(e.seg, uint32(n))
			if werr := e.write(e.seg[:4+n]); werr != nil {
				return size, werr
			}
			h.Write(e.seg[4 : 4+n])
			size += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			e.err = fmt.Errorf("reading the data for archive entry %q: %w", name, err)
			return size, e.err
		}
	}
	if err := e.write([]byte{0, 0, 0, 0}); err != nil {
		return size, err
	}
	e.manifest.Entries = append(e.manifest.Entries, ManifestEntry{
		Name: name, Type: TypeFile, Mode: modeString(mode), Size: size, SHA256: hex.EncodeToString(h.Sum(nil)),
	})
	return size, nil
}

// AddFile adds the regular file at path under name, with its permission
// bits. Symbolic links, devices and other special files are refused rather
// than followed or skipped, so a backup never silently misses data.
func (e *EntryWriter) AddFile(name, path string) error {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return fmt.Errorf("%s is a symbolic link; add the file it points to instead", path)
		}
		return fmt.Errorf("opening %s for the backup: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("reading %s for the backup: %w", path, err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (%s); backups hold regular files and directories only", path, st.Mode().Type())
	}
	_, err = e.AddStream(name, st.Mode().Perm(), f)
	return err
}

// AddTree adds the directory dir and everything below it under prefix
// (prefix "" puts its contents at the top). Symbolic links and special
// files are refused, as in AddFile.
func (e *EntryWriter) AddTree(prefix, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("reading %s for the backup: %w", p, err)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return fmt.Errorf("naming %s in the backup: %w", p, err)
		}
		name := path.Join(prefix, filepath.ToSlash(rel))
		if d.IsDir() {
			if name == "." || name == "" {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return fmt.Errorf("reading %s for the backup: %w", p, err)
			}
			return e.AddDir(name, info.Mode().Perm())
		}
		return e.AddFile(name, p)
	})
}

// Manifest returns the manifest of the entries added so far.
func (e *EntryWriter) Manifest() Manifest { return e.manifest }

// Close writes the manifest record and, for an EntryWriter from Create,
// the archive's final chunk.
func (e *EntryWriter) Close() error {
	if e.err != nil {
		if e.err == errEntryWriterClosed {
			return nil
		}
		return e.err
	}
	body, err := json.Marshal(e.manifest)
	if err != nil {
		return fmt.Errorf("encoding the archive manifest: %w", err)
	}
	if len(body) > maxManifestLen {
		return fmt.Errorf("the archive manifest is %d bytes; the limit is %d: put fewer, larger entries in the backup", len(body), maxManifestLen)
	}
	rec := binary.BigEndian.AppendUint32([]byte{recManifest}, uint32(len(body)))
	if err := e.write(append(rec, body...)); err != nil {
		return err
	}
	if e.closer != nil {
		if err := e.closer.Close(); err != nil {
			e.err = err
			return err
		}
	}
	e.err = errEntryWriterClosed
	return nil
}

// begin checks name and writes the record header.
func (e *EntryWriter) begin(name string, t EntryType, mode fs.FileMode) error {
	if e.err != nil {
		return e.err
	}
	if err := e.names.add(name, t); err != nil {
		return fmt.Errorf("adding to the archive: %w", err)
	}
	rec := []byte{recFile}
	if t == TypeDir {
		rec[0] = recDir
	}
	rec = binary.BigEndian.AppendUint16(rec, uint16(len(name)))
	rec = append(rec, name...)
	rec = binary.BigEndian.AppendUint32(rec, uint32(mode.Perm()))
	return e.write(rec)
}

func (e *EntryWriter) write(b []byte) error {
	if _, err := e.w.Write(b); err != nil {
		e.err = fmt.Errorf("writing the archive payload: %w", err)
		return e.err
	}
	return nil
}
