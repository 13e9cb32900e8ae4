package offsite

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

// baseName is a finished base backup's name: the UTC time it started.
var baseName = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}Z\.fibackup$`)

// The repository's directories the copy mirrors and the objects taken
// from each: the names the writers give their finished objects (a
// partial one starts with "." and is never taken).
var mirrored = []struct {
	dir   string
	valid func(name string) bool
}{
	{"base", baseName.MatchString},
	{"wal", func(name string) bool {
		n, ok := strings.CutSuffix(name, wal.Suffix)
		return ok && wal.ValidName(n)
	}},
}

// MarkerName is the object, under the prefix, written after every
// complete copy.
const MarkerName = "last-copy.json"

// maxMarkerSize bounds what is read of the marker, which comes from the
// store: a manifest entry is about 250 bytes, so this holds some 250,000
// objects.
const maxMarkerSize = 64 << 20

// Marker is last-copy.json: when the last complete copy ended, how many
// objects and bytes it held, and what was verified of each.
type Marker struct {
	Time    time.Time `json:"time"`
	Objects int       `json:"objects"`
	Bytes   int64     `json:"bytes"`
	// Files is what was verified of each object. A later copy takes an
	// object as still in place, without reading it again, only when the
	// local file and the store's listing show the same size, the local
	// modification time and the store's ETag recorded here: the store
	// gives a changed object a new ETag, and the writers never change a
	// finished local object in place (one changed there anyway keeps its
	// good copy in the store). An ETag is an MD5, so a replacement crafted
	// to collide would pass here; the objects are authenticated
	// (packages archive and wal), so verifying or restoring them names it.
	Files []File `json:"files"`
}

// File is one verified object of the copy.
type File struct {
	Key     string    `json:"key"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	SHA256  string    `json:"sha256"`
	ETag    string    `json:"etag"`
}

// Result says what one copy did.
type Result struct {
	// Time is when the copy ended (the marker's time).
	Time time.Time
	// Objects and Bytes are the whole copy; Uploaded and UploadedBytes
	// what this run sent (and verified).
	Objects       int
	Bytes         int64
	Uploaded      int
	UploadedBytes int64
}

// ErrNoCopy says the store holds no complete copy yet.
var ErrNoCopy = errors.New("no complete off-host copy yet")

// local is one object of the repository.
type local struct {
	dir, name string
	size      int64
	modTime   time.Time
}

// Progress is told of each object uploaded and verified (key, size).
type Progress func(key string, size int64)

// Copy mirrors the repository to the store: every base backup and WAL
// file missing there, or different, is uploaded and read back, and the
// marker is written last. It only reads the repository. A failure names
// its cause and leaves the last marker as it was: the next copy sends
// everything not verified by a complete copy (what this one sent before
// failing included, as nothing recorded its verification). progress may
// be nil.
func Copy(ctx context.Context, repo *os.Root, s *Store, progress Progress) (Result, error) {
	objs, err := listLocal(repo)
	if err != nil {
		return Result{}, err
	}
	remote, err := s.list(ctx)
	if err != nil {
		return Result{}, s.failure("list the copy", err)
	}
	prev, err := s.LastCopy(ctx)
	if err != nil && !errors.Is(err, ErrNoCopy) {
		var f *steps.Failure
		if errors.As(err, &f) {
			return Result{}, err // the store did not answer
		}
		prev = Marker{} // an unreadable marker only costs reading everything again
	}
	verified := map[string]File{}
	for _, f := range prev.Files {
		verified[f.Key] = f
	}

	var res Result
	m := Marker{}
	for _, o := range objs {
		key := s.key(o.dir, o.name)
		f, ok := verified[key]
		r, there := remote[key]
		if !ok || !there || f.Size != o.size || !f.ModTime.Equal(o.modTime) || r.Size != f.Size || r.ETag != f.ETag {
			f, err = s.upload(ctx, repo, o, key)
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed by retention since the listing
			}
			if err != nil {
				return res, err
			}
			res.Uploaded++
			res.UploadedBytes += f.Size
			if progress != nil {
				progress(key, f.Size)
			}
		}
		m.Files = append(m.Files, f)
		m.Objects++
		m.Bytes += f.Size
	}
	m.Time = time.Now().UTC()
	if err := s.writeMarker(ctx, m); err != nil {
		return res, err
	}
	res.Time, res.Objects, res.Bytes = m.Time, m.Objects, m.Bytes
	return res, nil
}

// listLocal lists the repository's finished objects, in name order.
func listLocal(repo *os.Root) ([]local, error) {
	var out []local
	for _, d := range mirrored {
		sub, err := repo.OpenRoot(d.dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("open the repository's %s directory: %w", d.dir, err)
		}
		entries, err := fs.ReadDir(sub.FS(), ".")
		sub.Close()
		if err != nil {
			return nil, fmt.Errorf("list the repository's %s directory: %w", d.dir, err)
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || !d.valid(e.Name()) {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed by retention since the listing
			}
			if err != nil {
				return nil, fmt.Errorf("stat %s/%s in the repository: %w", d.dir, e.Name(), err)
			}
			out = append(out, local{dir: d.dir, name: e.Name(), size: fi.Size(), modTime: fi.ModTime().UTC()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dir+"/"+out[i].name < out[j].dir+"/"+out[j].name })
	return out, nil
}

type remoteObject struct {
	Size int64
	ETag string
}

// list is the store's objects under the copy's base/ and wal/.
func (s *Store) list(ctx context.Context) (map[string]remoteObject, error) {
	out := map[string]remoteObject{}
	for _, d := range mirrored {
		for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.key(d.dir) + "/", Recursive: true}) {
			if o.Err != nil {
				return nil, o.Err
			}
			out[o.Key] = remoteObject{Size: o.Size, ETag: strings.Trim(o.ETag, `"`)}
		}
	}
	return out, nil
}

// upload sends one object, reads it back and compares it with the local
// file by SHA-256. The file is opened once and both passes read that open
// file, whatever happens to its name meanwhile.
func (s *Store) upload(ctx context.Context, repo *os.Root, o local, key string) (File, error) {
	name := o.dir + "/" + o.name
	// O_NONBLOCK: a FIFO put under an object's name must not hang the copy.
	fd, err := repo.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return File{}, fmt.Errorf("open %s in the repository: %w", name, err)
	}
	defer fd.Close()
	fi, err := fd.Stat()
	if err != nil {
		return File{}, fmt.Errorf("stat %s in the repository: %w", name, err)
	}
	if !fi.Mode().IsRegular() {
		return File{}, fmt.Errorf("%s in the repository is not a regular file", name)
	}
	size := fi.Size()
	h := sha256.New()
	if n, err := io.Copy(h, io.NewSectionReader(fd, 0, size)); err != nil || n != size {
		return File{}, fmt.Errorf("read %s in the repository: %d of %d bytes: %v", name, n, size, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	_, err = s.client.PutObject(ctx, s.bucket, key, io.NewSectionReader(fd, 0, size), size, minio.PutObjectOptions{
		ContentType:  "application/octet-stream",
		UserMetadata: map[string]string{"sha256": sum},
	})
	if err != nil {
		return File{}, s.failure("upload "+name, err)
	}
	back, etag, err := s.readBack(ctx, key)
	if err != nil {
		return File{}, s.failure("read back "+name, err)
	}
	if back != sum {
		return File{}, &steps.Failure{
			Cause: fmt.Sprintf("the off-host copy of %s read back differs from the local object (SHA-256 %s, local %s)", name, back, sum),
			Hint:  "the store changed or lost what it was sent; check it, then copy again: the object is sent anew",
		}
	}
	return File{Key: key, Size: size, ModTime: fi.ModTime().UTC(), SHA256: sum, ETag: etag}, nil
}

// readBack reads an object whole and returns its SHA-256 and ETag.
func (s *Store) readBack(ctx context.Context, key string) (sum, etag string, err error) {
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return "", "", err
	}
	defer obj.Close()
	info, err := obj.Stat()
	if err != nil {
		return "", "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, obj); err != nil {
		return "", "", err
	}
	return hex.EncodeToString(h.Sum(nil)), strings.Trim(info.ETag, `"`), nil
}

func (s *Store) writeMarker(ctx context.Context, m Marker) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	key := s.key(MarkerName)
	if _, err := s.client.PutObject(ctx, s.bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{ContentType: "application/json"}); err != nil {
		return s.failure("write "+MarkerName, err)
	}
	return nil
}

// LastCopy reads the marker of the last complete copy; ErrNoCopy when
// there is none.
func (s *Store) LastCopy(ctx context.Context) (Marker, error) {
	obj, err := s.client.GetObject(ctx, s.bucket, s.key(MarkerName), minio.GetObjectOptions{})
	if err == nil {
		defer obj.Close()
		var b []byte
		b, err = io.ReadAll(io.LimitReader(obj, maxMarkerSize+1))
		if err == nil {
			if len(b) > maxMarkerSize {
				return Marker{}, fmt.Errorf("%s in the store is larger than %d bytes", MarkerName, maxMarkerSize)
			}
			var m Marker
			if err := json.Unmarshal(b, &m); err != nil {
				return Marker{}, fmt.Errorf("%s in the store: %w", MarkerName, err)
			}
			return m, nil
		}
	}
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return Marker{}, ErrNoCopy
	}
	return Marker{}, s.failure("read "+MarkerName, err)
}

// failure says why the store did not do what was asked: it refused
// (with its error code), or it could not be reached.
func (s *Store) failure(what string, err error) error {
	if r := minio.ToErrorResponse(err); r.Code != "" {
		return &steps.Failure{
			Cause: fmt.Sprintf("the off-host store %s refused to %s: %s (%s)", s.Location(), what, r.Message, r.Code),
			Hint:  "check the bucket, its permissions and the credentials (`fineract-installer backup offsite set-credentials`); the local repository is untouched",
			Err:   err,
		}
	}
	return &steps.Failure{
		Cause: fmt.Sprintf("the off-host store %s could not be reached to %s: %v", s.Location(), what, err),
		Hint:  "the local repository is untouched; when the store answers again, `fineract-installer backup offsite copy` catches up",
		Err:   err,
	}
}
