package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"golang.org/x/sys/unix"
)

// The secrets tree is root/SERVICE/FILE. Every directory in it belongs to
// root with mode 0700; only the files belong to the service's uid (mode
// 0400). Containers see the files through bind mounts, which do not check
// the host directories above them, so the services still read their files
// while no host account other than root can reach them by path.
//
// A directory a service uid could write would let that uid swap a file for
// a symlink between a write and a chown by path (the chown then follows the
// link to any file on the host). So no service uid ever owns a directory
// here, and every operation goes through a descriptor opened without
// following links: a service's files are written into a new, root-owned
// directory, handed over with fchown on their open descriptors, and the
// directory is swapped in with one rename.

// Names of the work directories next to the service directories; a crash
// can leave them behind and the next delivery removes them.
const (
	newDirPrefix = ".new-"
	oldDirPrefix = ".old-"
)

// maxSecretFile bounds what is read back from a delivered file when it is
// compared with the value it should hold.
const maxSecretFile = 1 << 20

// secretTree is the delivery root, opened once without following links.
type secretTree struct {
	path string
	dir  *os.File
}

// openSecretTree creates root if needed and opens it. It must be a real
// directory owned by this process's user; it is made private (0700).
func openSecretTree(root string) (*secretTree, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("creating the secrets directory %s: %w", root, err)
	}
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("opening the secrets directory %s: %w (it must be a directory, not a link)", root, err)
	}
	dir := os.NewFile(uintptr(fd), root)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		dir.Close()
		return nil, fmt.Errorf("inspecting the secrets directory %s: %w", root, err)
	}
	if int(st.Uid) != os.Geteuid() {
		dir.Close()
		return nil, fmt.Errorf("the secrets directory %s belongs to uid %d, not to the installer (uid %d); remove it and run again", root, st.Uid, os.Geteuid())
	}
	if st.Mode&0o777 != 0o700 {
		if err := unix.Fchmod(fd, 0o700); err != nil {
			dir.Close()
			return nil, fmt.Errorf("making the secrets directory %s private: %w", root, err)
		}
	}
	t := &secretTree{path: root, dir: dir}
	if err := t.removeLeftovers(); err != nil {
		dir.Close()
		return nil, err
	}
	return t, nil
}

func (t *secretTree) Close() error { return t.dir.Close() }

func (t *secretTree) fd() int { return int(t.dir.Fd()) }

// names lists the entries of the tree's root.
func (t *secretTree) names() ([]string, error) {
	return readDirNames(t.fd(), t.path)
}

// readDirNames lists a directory given by descriptor, without moving that
// descriptor's offset (it reads through a fresh descriptor of its own).
func readDirNames(dirfd int, path string) ([]string, error) {
	fd, err := unix.Openat(dirfd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", path, err)
	}
	sort.Strings(names)
	return names, nil
}

// removeLeftovers removes work directories a crashed delivery left.
func (t *secretTree) removeLeftovers() error {
	names, err := t.names()
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.HasPrefix(n, newDirPrefix) || strings.HasPrefix(n, oldDirPrefix) {
			if err := t.removeAll(n); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeAll removes the entry name of the tree's root and everything under
// it, never following a link (os.Root's RemoveAll opens each directory
// relative to its parent's descriptor).
func (t *secretTree) removeAll(name string) error {
	r, err := os.OpenRoot(t.path)
	if err != nil {
		return fmt.Errorf("opening %s: %w", t.path, err)
	}
	defer r.Close()
	if err := r.RemoveAll(name); err != nil {
		return fmt.Errorf("removing %s from %s: %w", name, t.path, err)
	}
	return nil
}

// serviceFiles is what one service directory must hold.
type serviceFiles struct {
	service  string
	uid, gid int
	files    map[string][]byte
}

// diff says how many files of the service directory must change (written,
// replaced or removed) to hold exactly want. A directory that is not
// root-owned and private, or an entry that is not a plain file of the
// service's with mode 0400, counts as changed: the directory is rebuilt.
func (t *secretTree) diff(want serviceFiles) (int, error) {
	fd, err := unix.Openat(t.fd(), want.service, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return len(want.files), nil
	case errors.Is(err, unix.ENOTDIR), errors.Is(err, unix.ELOOP):
		return len(want.files) + 1, nil
	case err != nil:
		return 0, fmt.Errorf("opening %s/%s: %w", t.path, want.service, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return 0, fmt.Errorf("inspecting %s/%s: %w", t.path, want.service, err)
	}
	names, err := readDirNames(fd, t.path+"/"+want.service)
	if err != nil {
		return 0, err
	}
	changed := 0
	for _, n := range names {
		if _, ok := want.files[n]; !ok {
			changed++ // stale: no longer delivered
		}
	}
	for name, data := range want.files {
		if !holds(fd, name, data, want.uid, want.gid) {
			changed++
		}
	}
	if changed == 0 && (int(st.Uid) != os.Geteuid() || st.Mode&0o777 != 0o700) {
		// Right files in a directory someone else can change (a layout of
		// an earlier release): rebuild it, counting every file.
		changed = len(want.files)
	}
	return changed, nil
}

// holds reports whether dirfd/name is a plain file with one link, owned by
// uid:gid with mode 0400, holding exactly data.
func holds(dirfd int, name string, data []byte, uid, gid int) bool {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Nlink != 1 || st.Mode&0o7777 != 0o400 ||
		int(st.Uid) != uid || int(st.Gid) != gid || st.Size != int64(len(data)) {
		return false
	}
	got, err := io.ReadAll(io.LimitReader(f, maxSecretFile))
	return err == nil && bytes.Equal(got, data)
}

// put makes the service directory hold exactly want: the files are written
// into a new root-owned directory, given to the service through their
// descriptors, and the directory replaces the old one in one rename. The
// old directory is removed afterwards without following any link in it.
func (t *secretTree) put(want serviceFiles) error {
	suffix := make([]byte, 8)
	if _, err := rand.Read(suffix); err != nil {
		return fmt.Errorf("reading the system's random source: %w", err)
	}
	work := newDirPrefix + want.service + "-" + hex.EncodeToString(suffix)
	if err := unix.Mkdirat(t.fd(), work, 0o700); err != nil {
		return fmt.Errorf("creating a work directory in %s: %w", t.path, err)
	}
	if err := t.fill(work, want); err != nil {
		return errors.Join(err, t.removeAll(work))
	}
	err := unix.Renameat2(t.fd(), work, t.fd(), want.service, unix.RENAME_EXCHANGE)
	switch {
	case err == nil:
		// work now names the old directory.
	case errors.Is(err, unix.ENOENT):
		// First delivery for this service: nothing to exchange with.
		if err := unix.Renameat2(t.fd(), work, t.fd(), want.service, unix.RENAME_NOREPLACE); err != nil {
			return errors.Join(fmt.Errorf("putting %s/%s in place: %w", t.path, want.service, err), t.removeAll(work))
		}
		return syncFD(t.fd(), t.path)
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		// A filesystem without RENAME_EXCHANGE: move the old directory
		// aside first, leaving a moment without one.
		old := oldDirPrefix + strings.TrimPrefix(work, newDirPrefix)
		if err := unix.Renameat(t.fd(), want.service, t.fd(), old); err != nil {
			return errors.Join(fmt.Errorf("moving %s/%s aside: %w", t.path, want.service, err), t.removeAll(work))
		}
		if err := unix.Renameat(t.fd(), work, t.fd(), want.service); err != nil {
			return fmt.Errorf("putting %s/%s in place: %w (the previous files are in %s)", t.path, want.service, err, old)
		}
		work = old
	default:
		return errors.Join(fmt.Errorf("swapping in %s/%s: %w", t.path, want.service, err), t.removeAll(work))
	}
	if err := syncFD(t.fd(), t.path); err != nil {
		return err
	}
	return t.removeAll(work)
}

// fill writes want's files into the new directory work.
func (t *secretTree) fill(work string, want serviceFiles) error {
	dfd, err := unix.Openat(t.fd(), work, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the work directory %s: %w", work, err)
	}
	defer unix.Close(dfd)
	names := make([]string, 0, len(want.files))
	for n := range want.files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := writeOwned(dfd, name, want.files[name], want.uid, want.gid); err != nil {
			return fmt.Errorf("service %s: %w", want.service, err)
		}
	}
	return syncFD(dfd, work)
}

// writeOwned creates dirfd/name (it must not exist), writes data, and gives
// it to uid:gid with mode 0400, all through the file's own descriptor.
func writeOwned(dirfd int, name string, data []byte, uid, gid int) error {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o400)
	if err != nil {
		return fmt.Errorf("creating secret file %s: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("writing secret file %s: %w", name, err)
	}
	if err := unix.Fchown(fd, uid, gid); err != nil {
		return fmt.Errorf("giving secret file %s to uid %d: %w (delivery must run as root to hand files to service users)", name, uid, err)
	}
	// After the chown: a chown by root clears no bits here, but the mode
	// must not depend on the umask either.
	if err := unix.Fchmod(fd, 0o400); err != nil {
		return fmt.Errorf("setting the mode of secret file %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("syncing secret file %s: %w", name, err)
	}
	return f.Close()
}

func syncFD(fd int, path string) error {
	if err := unix.Fsync(fd); err != nil {
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	return nil
}

// CheckDelivered reports whether every delivery's files are in place under
// root: a private root-owned directory per service holding each listed file
// as a plain file of the service's uid with mode 0400. It does not compare
// values (that needs Vault); it never follows a link.
func CheckDelivered(root string, deliveries []Delivery) error {
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the secrets directory %s: %w", root, err)
	}
	defer unix.Close(fd)
	for _, d := range deliveries {
		if err := checkService(fd, root, d); err != nil {
			return err
		}
	}
	return nil
}

func checkService(rootfd int, root string, d Delivery) error {
	fd, err := unix.Openat(rootfd, d.Service, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("secrets of %s: %w", d.Service, err)
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return fmt.Errorf("secrets of %s: %w", d.Service, err)
	}
	if int(st.Uid) != os.Geteuid() || st.Mode&0o777 != 0o700 {
		return fmt.Errorf("%s/%s is owned by uid %d with mode %04o; it must be root's with mode 0700", root, d.Service, st.Uid, st.Mode&0o777)
	}
	for _, f := range d.Files {
		var fst unix.Stat_t
		if err := unix.Fstatat(fd, f.Name, &fst, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return fmt.Errorf("secret file %s of %s: %w", f.Name, d.Service, err)
		}
		if fst.Mode&unix.S_IFMT != unix.S_IFREG || fst.Mode&0o7777 != 0o400 || int(fst.Uid) != d.UID || int(fst.Gid) != d.GID {
			return fmt.Errorf("secret file %s of %s is not a plain file of uid %d with mode 0400", f.Name, d.Service, d.UID)
		}
	}
	return nil
}
