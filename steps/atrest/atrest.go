// Package atrest finds out whether a directory's data sits on an encrypted
// block device (dm-crypt: LUKS or plain), by following the kernel's own
// description of the storage under it: the path's device number, the
// mount it belongs to (/proc/self/mountinfo), and the block device stack
// in sysfs (/sys/dev/block/MAJ:MIN, device-mapper's dm/uuid, slaves/,
// partitions' parent disks).
//
// It reports what it finds and nothing it cannot see: filesystem-level
// encryption (fscrypt, ZFS native encryption) and self-encrypting drives
// are not detected, and a network filesystem is the server's business.
package atrest

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Host is where the kernel's view of the storage is read: Sys is sysfs
// ("/sys" when empty) and MountInfo the mount table of this process
// ("/proc/self/mountinfo" when empty). Tests point them at copies.
type Host struct {
	Sys       string
	MountInfo string
}

func (h Host) sys() string {
	if h.Sys == "" {
		return "/sys"
	}
	return h.Sys
}

func (h Host) mountInfo() string {
	if h.MountInfo == "" {
		return "/proc/self/mountinfo"
	}
	return h.MountInfo
}

// Layer is one block device in the stack under a filesystem.
type Layer struct {
	Name string // kernel name: sda2, dm-0, loop3
	Kind string // disk, partition, dm-crypt, LVM, device-mapper, md, loop
	// Detail names it for people: the device-mapper name and the dm-crypt
	// type (LUKS2, PLAIN), a loop device's backing file.
	Detail string
	// Lower are the devices this one is built on.
	Lower []Layer
}

// Encrypted is true when this device is dm-crypt, or every device it is
// built on is encrypted (LVM on LUKS; a RAID of LUKS members).
func (l Layer) Encrypted() bool {
	if l.Kind == KindCrypt {
		return true
	}
	if len(l.Lower) == 0 {
		return false
	}
	for _, lo := range l.Lower {
		if !lo.Encrypted() {
			return false
		}
	}
	return true
}

func (l Layer) String() string {
	s := l.Name + " (" + l.Kind
	if l.Detail != "" {
		s += " " + l.Detail
	}
	s += ")"
	switch len(l.Lower) {
	case 0:
	case 1:
		s += " on " + l.Lower[0].String()
	default:
		parts := make([]string, len(l.Lower))
		for i, lo := range l.Lower {
			parts[i] = lo.String()
		}
		s += " on [" + strings.Join(parts, "; ") + "]"
	}
	return s
}

// Device kinds.
const (
	KindDisk      = "disk"
	KindPartition = "partition"
	KindCrypt     = "dm-crypt"
	KindLVM       = "LVM"
	KindDM        = "device-mapper"
	KindMD        = "md RAID"
	KindLoop      = "loop"
)

// Place is where one path's data is kept.
type Place struct {
	// Path is the path asked about; Checked the existing directory that
	// was looked at (Path itself, or its nearest existing parent).
	Path    string
	Checked string
	// Mount is the mount point Checked is under, FSType and Source its
	// filesystem type and source as the mount table says.
	Mount  string
	FSType string
	Source string
	// Device is the block device stack under the filesystem, nil when the
	// filesystem has none (tmpfs, a network filesystem).
	Device *Layer
	// Note explains a filesystem without a block device, or why the
	// stack could not be followed.
	Note string
	// Err is set when the path could not be looked at at all.
	Err error
}

// Encrypted reports whether the place's data is on dm-crypt.
func (p Place) Encrypted() bool { return p.Err == nil && p.Device != nil && p.Device.Encrypted() }

func (p Place) String() string {
	where := p.Path
	if p.Checked != "" && p.Checked != p.Path {
		where += " (not created yet; " + p.Checked + ")"
	}
	if p.Err != nil {
		return where + ": " + p.Err.Error()
	}
	s := fmt.Sprintf("%s: %s %s on %s", where, p.FSType, p.Source, p.Mount)
	if p.Device != nil {
		s += ", device " + p.Device.String()
	}
	if p.Note != "" {
		s += "; " + p.Note
	}
	return s
}

// maxDepth bounds the walk down a device stack (and through overlay
// upper directories); real stacks are a few layers deep.
const maxDepth = 12

// Inspect finds where path's data is kept. A path that does not exist yet
// is judged by its nearest existing parent, where it will be created.
func (h Host) Inspect(path string) Place {
	return h.inspect(path, 0)
}

// InspectExisting is Inspect for a directory that must exist already,
// such as the Docker engine's data root: one missing here belongs to an
// engine on another host, whose disks this host cannot see.
func (h Host) InspectExisting(path string) Place {
	if _, err := os.Stat(path); err != nil {
		return Place{Path: path, Err: fmt.Errorf("not on this host (an engine elsewhere?): %w", err)}
	}
	return h.inspect(path, 0)
}

func (h Host) inspect(path string, depth int) Place {
	p := Place{Path: path}
	checked, err := existing(path)
	if err != nil {
		p.Err = err
		return p
	}
	p.Checked = checked
	var st unix.Stat_t
	if err := unix.Stat(checked, &st); err != nil {
		p.Err = fmt.Errorf("stat %s: %w", checked, err)
		return p
	}
	mounts, err := readMounts(h.mountInfo())
	if err != nil {
		p.Err = err
		return p
	}
	return h.place(p, uint64(st.Dev), mounts, depth)
}

// place fills in p for a path whose st_dev is dev.
func (h Host) place(p Place, dev uint64, mounts []mount, depth int) Place {
	m, ok := mountOf(mounts, p.Checked)
	if !ok {
		p.Err = fmt.Errorf("no mount in %s holds %s", h.mountInfo(), p.Checked)
		return p
	}
	p.Mount, p.FSType, p.Source = m.point, m.fsType, m.source
	// st_dev names the block device for ext4, xfs and the like. btrfs,
	// overlay and tmpfs give an anonymous device (major 0) that sysfs does
	// not know: their storage is found through the mount instead.
	if dir, ok := h.blockDir(unix.Major(dev), unix.Minor(dev)); ok {
		l, err := h.walk(dir, 0)
		if err != nil {
			p.Note = err.Error()
			return p
		}
		p.Device = &l
		return p
	}
	switch {
	case m.fsType == "overlay":
		upper := m.option("upperdir")
		switch {
		case upper == "":
			p.Note = "a read-only overlay (no upper directory): it keeps no writes"
			return p
		case depth >= maxDepth:
			p.Note = fmt.Sprintf("overlays nested deeper than %d are not followed", maxDepth)
			return p
		}
		under := h.inspect(upper, depth+1)
		if under.Err != nil {
			p.Note = fmt.Sprintf("overlay whose upper directory %s cannot be followed: %v", upper, under.Err)
			return p
		}
		p.Device = under.Device
		p.Note = "overlay: writes go to " + under.String()
		return p
	case m.fsType == "tmpfs" || m.fsType == "ramfs":
		p.Note = "kept in memory, lost at reboot (swap may write it to disk)"
		return p
	case isNetwork(m.fsType):
		p.Note = "a network filesystem: whether it is encrypted at rest is up to its server"
		return p
	}
	dir, err := h.sourceDir(m.source)
	if err != nil {
		p.Note = err.Error()
		return p
	}
	l, err := h.walk(dir, 0)
	if err != nil {
		p.Note = err.Error()
		return p
	}
	p.Device = &l
	return p
}

func isNetwork(fsType string) bool {
	switch {
	case strings.HasPrefix(fsType, "nfs"), fsType == "cifs", fsType == "smb3", fsType == "9p",
		fsType == "ceph", fsType == "glusterfs", strings.HasPrefix(fsType, "fuse."):
		return true
	}
	return false
}

// blockDir is the sysfs directory of block device maj:min, if there is one.
func (h Host) blockDir(maj, minor uint32) (string, bool) {
	if maj == 0 {
		return "", false
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(h.sys(), "dev", "block", fmt.Sprintf("%d:%d", maj, minor)))
	if err != nil {
		return "", false
	}
	return dir, true
}

// sourceDir finds the sysfs directory of a mount's source device (btrfs:
// the device it was mounted from; a multi-device btrfs is judged by that
// one).
func (h Host) sourceDir(source string) (string, error) {
	if !strings.HasPrefix(source, "/dev/") {
		return "", fmt.Errorf("the filesystem's source %q is not a block device", source)
	}
	// On the host itself the device node says its number.
	var st unix.Stat_t
	if err := unix.Stat(source, &st); err == nil && st.Mode&unix.S_IFMT == unix.S_IFBLK {
		if dir, ok := h.blockDir(unix.Major(uint64(st.Rdev)), unix.Minor(uint64(st.Rdev))); ok {
			return dir, nil
		}
	}
	// Otherwise by name: /dev/sda2 and /dev/dm-0 are sysfs names,
	// /dev/mapper/NAME is the device-mapper device whose dm/name is NAME.
	if name, ok := strings.CutPrefix(source, "/dev/mapper/"); ok {
		entries, err := os.ReadDir(filepath.Join(h.sys(), "class", "block"))
		if err != nil {
			return "", fmt.Errorf("read sysfs block devices: %w", err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "dm-") && readString(filepath.Join(h.sys(), "class", "block", e.Name(), "dm", "name")) == name {
				return filepath.EvalSymlinks(filepath.Join(h.sys(), "class", "block", e.Name()))
			}
		}
		return "", fmt.Errorf("no device-mapper device is named %s", name)
	}
	dir, err := filepath.EvalSymlinks(filepath.Join(h.sys(), "class", "block", filepath.Base(source)))
	if err != nil {
		return "", fmt.Errorf("the source %s is not a block device sysfs knows", source)
	}
	return dir, nil
}

// walk describes the block device in sysfs directory dir and those it is
// built on.
func (h Host) walk(dir string, depth int) (Layer, error) {
	l := Layer{Name: filepath.Base(dir), Kind: KindDisk}
	if depth >= maxDepth {
		return l, fmt.Errorf("the device stack under %s is deeper than %d layers", l.Name, maxDepth)
	}
	if uuid, err := os.ReadFile(filepath.Join(dir, "dm", "uuid")); err == nil {
		l.Kind, l.Detail = dmKind(strings.TrimSpace(string(uuid)), readString(filepath.Join(dir, "dm", "name")))
	} else if _, err := os.Stat(filepath.Join(dir, "md")); err == nil {
		l.Kind = KindMD
	} else if _, err := os.Stat(filepath.Join(dir, "loop")); err == nil {
		l.Kind = KindLoop
		if f := readString(filepath.Join(dir, "loop", "backing_file")); f != "" {
			l.Detail = "of " + f
		}
	}
	// A partition's directory sits inside its disk's.
	if _, err := os.Stat(filepath.Join(dir, "partition")); err == nil {
		l.Kind = KindPartition
		parent, err := h.walk(filepath.Dir(dir), depth+1)
		if err != nil {
			return l, err
		}
		l.Lower = []Layer{parent}
		return l, nil
	}
	slaves, err := os.ReadDir(filepath.Join(dir, "slaves"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return l, fmt.Errorf("read %s: %w", filepath.Join(dir, "slaves"), err)
	}
	for _, s := range slaves {
		lower, err := filepath.EvalSymlinks(filepath.Join(dir, "slaves", s.Name()))
		if err != nil {
			return l, fmt.Errorf("follow %s: %w", filepath.Join(dir, "slaves", s.Name()), err)
		}
		ll, err := h.walk(lower, depth+1)
		if err != nil {
			return l, err
		}
		l.Lower = append(l.Lower, ll)
	}
	return l, nil
}

// dmKind reads a device-mapper device's uuid: cryptsetup gives dm-crypt
// devices "CRYPT-<TYPE>-..." (CRYPT-LUKS2-<uuid>-<name>, CRYPT-PLAIN-<name>)
// and LVM its volumes "LVM-<vg uuid><lv uuid>".
func dmKind(uuid, name string) (kind, detail string) {
	switch {
	case strings.HasPrefix(uuid, "CRYPT-"):
		typ, _, _ := strings.Cut(strings.TrimPrefix(uuid, "CRYPT-"), "-")
		return KindCrypt, strings.TrimSpace(typ + " " + name)
	case strings.HasPrefix(uuid, "LVM-"):
		return KindLVM, name
	}
	return KindDM, name
}

func readString(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// existing is the nearest existing directory of path, with symlinks
// resolved so it can be matched against mount points.
func existing(path string) (string, error) {
	p, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", path, err)
	}
	for {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			return real, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("resolve %s: %w", p, err)
		}
		parent := filepath.Dir(p)
		if parent == p {
			return "", fmt.Errorf("no part of %s exists", path)
		}
		p = parent
	}
}

// mount is one line of a mountinfo file (proc(5)).
type mount struct {
	point, fsType, source, superOpts string
}

func (m mount) option(key string) string {
	for _, o := range strings.Split(m.superOpts, ",") {
		if v, ok := strings.CutPrefix(o, key+"="); ok {
			return v
		}
	}
	return ""
}

// maxMountInfo bounds what is read of a mount table.
const maxMountInfo = 16 << 20

func readMounts(path string) ([]mount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the mount table: %w", err)
	}
	defer f.Close()
	var out []mount
	sc := bufio.NewScanner(&limitedReader{f, maxMountInfo})
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		// id parent maj:min root mountpoint options [optional...] - fstype source superopts
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 6 || len(tail) < 2 {
			return nil, fmt.Errorf("%s: malformed line %q", path, sc.Text())
		}
		m := mount{point: unescape(fields[4]), fsType: tail[0], source: unescape(tail[1])}
		if len(tail) > 2 {
			m.superOpts = tail[2]
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return out, nil
}

// limitedReader is io.LimitReader that fails rather than truncates.
type limitedReader struct {
	f *os.File
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("the mount table is larger than expected")
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= int64(n)
	return n, err
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mountOf is the mount holding path: the last-mounted of those whose
// mount point is the longest prefix of path (later mounts hide earlier
// ones on the same point).
func mountOf(mounts []mount, path string) (mount, bool) {
	best, found := mount{}, false
	for _, m := range mounts {
		if !under(path, m.point) {
			continue
		}
		if !found || len(m.point) >= len(best.point) {
			best, found = m, true
		}
	}
	return best, found
}

func under(path, dir string) bool {
	if dir == "/" {
		return strings.HasPrefix(path, "/")
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

// notDetected is what the check cannot see, said with every answer.
const notDetected = "filesystem-level encryption (fscrypt, ZFS native encryption) and self-encrypting drives are not detected"

// Fix says how to put directories on an encrypted device.
const Fix = "put them on a LUKS volume: install the host with encrypted LVM (the Debian installer's " +
	"\"Guided - use entire disk and set up encrypted LVM\"), or for a data disk: cryptsetup luksFormat /dev/DISK; " +
	"cryptsetup open /dev/DISK data; mkfs.ext4 /dev/mapper/data; add it to /etc/crypttab and /etc/fstab; " +
	"then move Docker's data root there (\"data-root\" in /etc/docker/daemon.json, with the engine stopped) and restore the installation into an install dir on it"

// Directories lists the places the stack keeps data on this host:
// Docker's data root (images, and the volumes of the database, Vault and
// the other services), the install dir, and the default backup
// directory in it.
func (h Host) Directories(dockerRoot, installDir string) []Place {
	var out []Place
	if dockerRoot != "" {
		out = append(out, h.InspectExisting(dockerRoot))
	}
	return append(out, h.Inspect(installDir), h.Inspect(installation.New(installDir, "").BackupsDir()))
}

// HostAt reads sysfs and the mount table under root ("/" when empty),
// as a host's /sys and /proc are seen from a copy or a chroot.
func HostAt(root string) Host {
	if root == "" {
		root = "/"
	}
	return Host{Sys: filepath.Join(root, "sys"), MountInfo: filepath.Join(root, "proc", "self", "mountinfo")}
}

// Summary says, for people, where each place's data is kept, and whether
// every one of them is on dm-crypt.
func Summary(places []Place) (allEncrypted bool, evidence string) {
	defer func() { evidence += " (" + notDetected + ")" }()
	allEncrypted = len(places) > 0
	parts := make([]string, 0, len(places))
	for _, p := range places {
		state := "NOT on an encrypted device"
		if p.Encrypted() {
			state = "encrypted"
		} else {
			allEncrypted = false
		}
		parts = append(parts, state+": "+p.String())
	}
	return allEncrypted, strings.Join(parts, "; ")
}
