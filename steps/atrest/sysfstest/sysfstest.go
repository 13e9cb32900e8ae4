// Package sysfstest builds copies of the parts of sysfs that package atrest
// reads, laid out as the kernel lays them out, for tests.
package sysfstest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Sysfs builds a copy of the parts of /sys the walk reads, laid out as the
// kernel lays them out: devices under /sys/devices (a partition's directory
// inside its disk's), /sys/dev/block/MAJ:MIN and /sys/class/block/NAME as
// relative symlinks to them, device-mapper's dm/{name,uuid}, and slaves/
// entries linking a stacked device to the ones under it.
type Sysfs struct {
	t testing.TB
	// Root is the copy's root, to use as atrest.Host.Sys.
	Root string
}

// New makes an empty copy in a temporary directory.
func New(t testing.TB) *Sysfs { return NewAt(t, t.TempDir()) }

// NewAt makes an empty copy at root (for a host root: root/sys).
func NewAt(t testing.TB, root string) *Sysfs {
	s := &Sysfs{t: t, Root: root}
	for _, d := range []string{"devices", "dev/block", "class/block"} {
		if err := os.MkdirAll(filepath.Join(s.Root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *Sysfs) link(from, to string) {
	s.t.Helper()
	rel, err := filepath.Rel(filepath.Dir(from), to)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(from), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.Symlink(rel, from); err != nil {
		s.t.Fatal(err)
	}
}

func (s *Sysfs) write(dev, name, content string) {
	s.t.Helper()
	p := filepath.Join(s.Root, "devices", dev, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content+"\n"), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

// Device adds the block device at devices/<path> with number majmin
// and returns path.
func (s *Sysfs) Device(path, majmin string) string {
	s.t.Helper()
	s.write(path, "dev", majmin)
	dir := filepath.Join(s.Root, "devices", path)
	s.link(filepath.Join(s.Root, "dev", "block", majmin), dir)
	s.link(filepath.Join(s.Root, "class", "block", filepath.Base(path)), dir)
	return path
}

// Partition adds partition name (number) of the disk at devices/<disk>.
func (s *Sysfs) Partition(disk, name, majmin, number string) string {
	p := s.Device(disk+"/"+name, majmin)
	s.write(p, "partition", number)
	return p
}

// DM adds device-mapper device name with its dm/name and dm/uuid, built
// on the devices at devices/<lower>.
func (s *Sysfs) DM(name, majmin, dmName, uuid string, lower ...string) string {
	p := s.Device("virtual/block/"+name, majmin)
	s.write(p, "dm/name", dmName)
	s.write(p, "dm/uuid", uuid)
	for _, lo := range lower {
		s.link(filepath.Join(s.Root, "devices", p, "slaves", filepath.Base(lo)), filepath.Join(s.Root, "devices", lo))
	}
	return p
}

// MountInfo writes a mount table (proc(5) mountinfo lines) in a
// temporary directory and returns its path, to use as atrest.Host.MountInfo.
func (s *Sysfs) MountInfo(lines ...string) string {
	s.t.Helper()
	p := filepath.Join(s.t.TempDir(), "mountinfo")
	WriteMountInfo(s.t, p, lines...)
	return p
}

// WriteMountInfo writes a mount table at path.
func WriteMountInfo(t testing.TB, path string, lines ...string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}
