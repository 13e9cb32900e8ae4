package archive

import (
	"fmt"
	"io/fs"
	"path"
	"strings"
	"unicode/utf8"
)

// The payload of an archive is an entry stream: named files and
// directories, then a manifest. doc.go explains why it is not tar.
const (
	entryMagic = "FIENTRY1"

	recFile     = 'F'
	recDir      = 'D'
	recManifest = 'M'

	maxNameLen     = 4096
	maxSegment     = 1 << 20  // largest data segment of a file record
	maxManifestLen = 64 << 20 // largest manifest record
	manifestFormat = 1
)

// EntryType says what an entry is.
type EntryType string

// Entry types.
const (
	TypeFile EntryType = "file"
	TypeDir  EntryType = "dir"
)

// Entry is one file or directory in an archive.
type Entry struct {
	// Name is a relative slash-separated path, already checked by ValidName.
	Name string
	// Type is TypeFile or TypeDir.
	Type EntryType
	// Mode holds the permission bits (0o777) to restore.
	Mode fs.FileMode
}

// Manifest lists every entry of an archive with its size and SHA-256. It is
// the last record of the payload; reading checks it against the entries.
type Manifest struct {
	// Format is the manifest format version.
	Format int `json:"format"`
	// Entries are in payload order.
	Entries []ManifestEntry `json:"entries"`
}

// ManifestEntry describes one entry.
type ManifestEntry struct {
	Name string    `json:"name"`
	Type EntryType `json:"type"`
	// Mode is the permission bits in octal, such as "0640".
	Mode string `json:"mode"`
	// Size and SHA256 (hex) describe a file's content; both are zero for a directory.
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

func modeString(m fs.FileMode) string { return fmt.Sprintf("%04o", uint32(m.Perm())) }

// ValidName reports whether name may be an entry name: a clean relative
// slash-separated path without ".." components, backslashes, NUL or other
// control characters, at most 4096 bytes of UTF-8. Extraction relies on
// this, and on os.Root, to keep every entry inside the target directory.
func ValidName(name string) error {
	switch {
	case name == "" || name == ".":
		return fmt.Errorf("entry name %q is empty", name)
	case len(name) > maxNameLen:
		return fmt.Errorf("entry name is %d bytes long; the limit is %d", len(name), maxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("entry name %q is not valid UTF-8", name)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("entry name %q is an absolute path; names are relative to the restore directory", name)
	case strings.ContainsRune(name, '\\'):
		return fmt.Errorf("entry name %q contains a backslash; use / to separate directories", name)
	case path.Clean(name) != name:
		return fmt.Errorf("entry name %q is not a clean path (it would be %q)", name, path.Clean(name))
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return fmt.Errorf("entry name %q leaves the restore directory with \"..\"", name)
		}
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("entry name %q contains a control character", name)
		}
	}
	return nil
}
