package atrest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/fineract-installer/fineract-installer/steps/atrest/sysfstest"
)

// An NVMe disk as the kernel places it in /sys/devices.
const nvmeDisk = "pci0000:00/0000:00:1d.0/0000:3d:00.0/nvme/nvme0/nvme0n1"

const sataDisk = sysfstest.SATADisk

const luksUUID = "CRYPT-LUKS2-3f6cbd0d8a4e4b1c9f7a2e5d6c7b8a90-cryptdata"

// placeAs looks at dir as if its st_dev were maj:minor.
func placeAs(t *testing.T, h Host, dir string, maj, minor uint32) Place {
	t.Helper()
	mounts, err := readMounts(h.MountInfo)
	if err != nil {
		t.Fatal(err)
	}
	p := h.place(Place{Path: dir, Checked: dir}, unix.Mkdev(maj, minor), mounts, 0)
	t.Logf("%s", p)
	return p
}

func TestPlainDiskIsNotEncrypted(t *testing.T) {
	s := sysfstest.New(t)
	s.Device(sataDisk, "8:0")
	dir := t.TempDir()
	h := Host{Sys: s.Root, MountInfo: s.MountInfo("27 1 8:0 / " + dir + " rw,relatime - ext4 /dev/sda rw")}
	p := placeAs(t, h, dir, 8, 0)
	if p.Encrypted() || p.Device == nil || p.Device.Name != "sda" || p.Device.Kind != KindDisk {
		t.Errorf("a filesystem on a whole plain disk: %+v", p)
	}
}

func TestPartitionIsFollowedToItsDisk(t *testing.T) {
	s := sysfstest.New(t)
	s.Device(sataDisk, "8:0")
	s.Partition(sataDisk, "sda1", "8:1", "1")
	dir := t.TempDir()
	h := Host{Sys: s.Root, MountInfo: s.MountInfo("27 1 8:1 / " + dir + " rw - ext4 /dev/sda1 rw")}
	p := placeAs(t, h, dir, 8, 1)
	if p.Encrypted() || p.Device == nil || p.Device.String() != "sda1 (partition) on sda (disk)" {
		t.Errorf("a plain partition: %+v", p)
	}
}

func TestLUKSOnAPartitionIsEncrypted(t *testing.T) {
	s := sysfstest.New(t)
	s.Device(sataDisk, "8:0")
	part := s.Partition(sataDisk, "sda2", "8:2", "2")
	s.DM("dm-0", "253:0", "cryptdata", luksUUID, part)
	dir := t.TempDir()
	h := Host{Sys: s.Root, MountInfo: s.MountInfo("30 1 253:0 / " + dir + " rw - ext4 /dev/mapper/cryptdata rw")}
	p := placeAs(t, h, dir, 253, 0)
	if !p.Encrypted() || p.Device.String() != "dm-0 (dm-crypt LUKS2 cryptdata) on sda2 (partition) on sda (disk)" {
		t.Errorf("LUKS on a partition: %+v", p)
	}
}

func TestLVMOnLUKSIsEncrypted(t *testing.T) {
	s := sysfstest.New(t)
	s.Device(nvmeDisk, "259:0")
	part := s.Partition(nvmeDisk, "nvme0n1p3", "259:3", "3")
	crypt := s.DM("dm-0", "253:0", "nvme0n1p3_crypt", "CRYPT-LUKS2-0b9e1f2ad3c44e5f8a6b7c8d9e0f1a2b-nvme0n1p3_crypt", part)
	s.DM("dm-1", "253:1", "vg0-root", "LVM-Zq1VbXJ1n3sG0aX2kq8uGz4Jm3oE1yTQw5Q0R8nN2pL7aH9cB6dV4xF3sK1eM0rT", crypt)
	dir := t.TempDir()
	h := Host{Sys: s.Root, MountInfo: s.MountInfo("27 1 253:1 / " + dir + " rw - ext4 /dev/mapper/vg0-root rw")}
	p := placeAs(t, h, dir, 253, 1)
	want := "dm-1 (LVM vg0-root) on dm-0 (dm-crypt LUKS2 nvme0n1p3_crypt) on nvme0n1p3 (partition) on nvme0n1 (disk)"
	if !p.Encrypted() || p.Device.String() != want {
		t.Errorf("LVM on LUKS: got %s, want %s", p.Device, want)
	}
}

func TestLVMSpanningAPlainVolumeIsNotEncrypted(t *testing.T) {
	s := sysfstest.New(t)
	s.Device(sataDisk, "8:0")
	luks := s.DM("dm-0", "253:0", "cryptdata", luksUUID, s.Partition(sataDisk, "sda2", "8:2", "2"))
	plain := s.Partition(sataDisk, "sda3", "8:3", "3")
	s.DM("dm-1", "253:1", "vg0-data", "LVM-aaaabbbbccccddddeeeeffffgggghhhhiiiijjjjkkkkllllmmmmnnnnoooopppp", luks, plain)
	dir := t.TempDir()
	h := Host{Sys: s.Root, MountInfo: s.MountInfo("27 1 253:1 / " + dir + " rw - xfs /dev/mapper/vg0-data rw")}
	if p := placeAs(t, h, dir, 253, 1); p.Encrypted() {
		t.Errorf("a volume group with a plain physical volume keeps some extents unencrypted: %+v", p)
	}
}

// btrfs gives every subvolume an anonymous device (major 0) unknown to
// sysfs: the storage is the device the filesystem was mounted from.
func TestBtrfsSubvolumeIsFollowedThroughItsMountSource(t *testing.T) {
	s := sysfstest.New(t)
	s.Device(sataDisk, "8:0")
	s.DM("dm-0", "253:0", "cryptroot", luksUUID, s.Partition(sataDisk, "sda2", "8:2", "2"))
	mnt := t.TempDir()
	nested := filepath.Join(mnt, "var", "lib", "docker")
	if err := os.MkdirAll(nested, 0o755); err != nil {
		t.Fatal(err)
	}
	h := Host{Sys: s.Root, MountInfo: s.MountInfo(
		"27 1 0:33 /@ / rw,relatime - btrfs /dev/mapper/cryptroot rw,ssd,space_cache=v2,subvolid=256,subvol=/@",
		"45 27 0:33 /@data "+mnt+" rw,relatime - btrfs /dev/mapper/cryptroot rw,ssd,space_cache=v2,subvolid=257,subvol=/@data",
	)}
	// A nested subvolume has yet another anonymous device than its mount.
	p := placeAs(t, h, nested, 0, 52)
	if !p.Encrypted() || p.Mount != mnt || p.Device.Name != "dm-0" {
		t.Errorf("btrfs on LUKS: %+v", p)
	}
}

func TestTmpfsHasNoDevice(t *testing.T) {
	s := sysfstest.New(t)
	dir := t.TempDir()
	h := Host{Sys: s.Root, MountInfo: s.MountInfo("25 24 0:23 / " + dir + " rw - tmpfs tmpfs rw,size=1024k")}
	p := placeAs(t, h, dir, 0, 23)
	if p.Encrypted() || p.Device != nil || !strings.Contains(p.Note, "memory") {
		t.Errorf("tmpfs: %+v", p)
	}
}

// An overlay's writes go to its upper directory; that directory is looked
// up for real (its own st_dev), so the copy of sysfs gives the real device
// number of the test's temporary directory the LUKS stack.
func TestOverlayIsFollowedToItsUpperDirectory(t *testing.T) {
	upper := t.TempDir()
	var st unix.Stat_t
	if err := unix.Stat(upper, &st); err != nil {
		t.Fatal(err)
	}
	maj, minor := unix.Major(uint64(st.Dev)), unix.Minor(uint64(st.Dev))
	if maj == 0 {
		t.Skipf("the temporary directory %s is on an anonymous device (%d:%d): this test needs it on a block device", upper, maj, minor)
	}
	s := sysfstest.New(t)
	s.Device(sataDisk, "8:0")
	s.DM("dm-0", fmtDev(maj, minor), "cryptdata", luksUUID, s.Partition(sataDisk, "sda2", "8:2", "2"))
	merged := t.TempDir()
	h := Host{Sys: s.Root, MountInfo: s.MountInfo(
		"27 1 "+fmtDev(maj, minor)+" / / rw - ext4 /dev/mapper/cryptdata rw",
		"90 27 0:80 / "+merged+" rw - overlay overlay rw,lowerdir=/l,upperdir="+upper+",workdir=/w",
	)}
	p := placeAs(t, h, merged, 0, 80)
	if !p.Encrypted() || !strings.Contains(p.Note, "writes go to "+upper) {
		t.Errorf("overlay over LUKS: %+v", p)
	}
}

func fmtDev(maj, minor uint32) string { return fmt.Sprintf("%d:%d", maj, minor) }

func TestMountPointsAreUnescaped(t *testing.T) {
	s := sysfstest.New(t)
	h := Host{Sys: s.Root, MountInfo: s.MountInfo(`27 1 8:0 / /srv/bank\040data rw - ext4 /dev/sda rw`)}
	ms, err := readMounts(h.MountInfo)
	if err != nil || len(ms) != 1 || ms[0].point != "/srv/bank data" {
		t.Fatalf("%+v %v", ms, err)
	}
	if m, ok := mountOf(ms, "/srv/bank data/x"); !ok || m.source != "/dev/sda" {
		t.Errorf("mountOf: %+v %v", m, ok)
	}
	if _, ok := mountOf(ms, "/srv/bank datax"); ok {
		t.Error("a sibling with the mount point as a prefix is not under it")
	}
}

func TestSummaryNeedsEveryPlaceEncrypted(t *testing.T) {
	enc := Place{Path: "/a", Checked: "/a", Device: &Layer{Name: "dm-0", Kind: KindCrypt}}
	plain := Place{Path: "/b", Checked: "/b", Device: &Layer{Name: "sda", Kind: KindDisk}}
	if ok, ev := Summary([]Place{enc, plain}); ok || !strings.Contains(ev, "NOT on an encrypted device: /b") || !strings.Contains(ev, "encrypted: /a") {
		t.Errorf("%v %s", ok, ev)
	}
	if ok, _ := Summary([]Place{enc}); !ok {
		t.Error("one encrypted place")
	}
	if ok, _ := Summary(nil); ok {
		t.Error("nothing looked at is not a pass")
	}
}
