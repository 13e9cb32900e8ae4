// Package sysfstest builds copies of the parts of sysfs that package atrest
// reads, laid out as the kernel lays them out, for tests.
package sysfstest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// SATADisk is where the kernel places a SATA disk in /sys/devices.
const SATADisk = "pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda"

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

// HostRoot builds a host root (root/sys, root/proc/self/mountinfo) whose
// sysfs puts the real devices of dirs on LUKS partitions (encrypted) or
// on plain disks, with a mount table mounting / from the same kind of
// device (for directories on anonymous devices, such as btrfs or overlay).
// The copy's own devices take numbers the real ones do not use.
func HostRoot(t testing.TB, encrypted bool, dirs ...string) string {
	t.Helper()
	real := map[string]bool{}
	var order []string
	for _, d := range dirs {
		var st unix.Stat_t
		if err := unix.Stat(d, &st); err != nil {
			t.Fatal(err)
		}
		maj, minor := unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev))
		if mm := fmt.Sprintf("%d:%d", maj, minor); maj != 0 && !real[mm] {
			real[mm] = true
			order = append(order, mm)
		}
	}
	minor := 0
	free := func(major int) string {
		for {
			minor++
			if mm := fmt.Sprintf("%d:%d", major, minor); !real[mm] {
				return mm
			}
		}
	}
	root := t.TempDir()
	s := NewAt(t, filepath.Join(root, "sys"))
	s.Device(SATADisk, free(8))
	// storage makes the device numbered majmin: a LUKS volume on a
	// partition, or a plain disk. It returns the source to mount it by.
	n := 0
	storage := func(majmin string) string {
		n++
		if !encrypted {
			s.Device(fmt.Sprintf("virtual/block/vd%d", n), majmin)
			return fmt.Sprintf("/dev/vd%d", n)
		}
		part := s.Partition(SATADisk, fmt.Sprintf("sda%d", n), free(8), fmt.Sprint(n))
		name := fmt.Sprintf("crypt%d", n)
		s.DM(fmt.Sprintf("dm-%d", n), majmin, name, fmt.Sprintf("CRYPT-LUKS2-%032d-%s", n, name), part)
		return "/dev/mapper/" + name
	}
	for _, mm := range order {
		storage(mm)
	}
	// The root filesystem, for directories sysfs has no device number of.
	rootMM := free(253)
	WriteMountInfo(t, filepath.Join(root, "proc", "self", "mountinfo"), "27 1 "+rootMM+" / / rw,relatime - ext4 "+storage(rootMM)+" rw")
	return root
}
