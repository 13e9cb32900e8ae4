package atrest

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The tests below look at this machine's real storage and compare with
// util-linux (findmnt, lsblk), which reads the same kernel interfaces by
// its own code.

func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// lsblkSays reads lsblk's kernel name of dev and the types of the devices
// under it (disk, part, crypt, lvm, loop).
func lsblkSays(t *testing.T, dev string) (kname string, types []string) {
	t.Helper()
	kname = run(t, "lsblk", "-n", "-d", "-o", "KNAME", dev)
	return kname, strings.Fields(run(t, "lsblk", "-n", "-s", "-o", "TYPE", dev))
}

func TestThisHostAgreesWithUtilLinux(t *testing.T) {
	need(t, "findmnt", "lsblk")
	dir := t.TempDir()
	p := Host{}.Inspect(dir)
	t.Logf("%s", p)
	if p.Err != nil {
		t.Fatal(p.Err)
	}
	source := run(t, "findmnt", "-n", "-o", "SOURCE", "-T", dir)
	// findmnt adds a btrfs subvolume as SOURCE[/subvol].
	source, _, _ = strings.Cut(source, "[")
	if p.Source != source {
		t.Errorf("source %q, findmnt says %q", p.Source, source)
	}
	if !strings.HasPrefix(source, "/dev/") {
		return
	}
	kname, types := lsblkSays(t, source)
	if p.Device == nil || p.Device.Name != kname {
		t.Errorf("device %v, lsblk says %s", p.Device, kname)
	}
	if p.Encrypted() != slices.Contains(types, "crypt") {
		t.Errorf("encrypted %t, lsblk's stack is %v", p.Encrypted(), types)
	}
}

// rootOnly skips where loop devices cannot be made: they need root.
func rootOnly(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("making a loop device needs root")
	}
	need(t, "losetup", "mkfs.ext4", "mount", "umount", "lsblk")
}

// image writes a size-byte disk image file.
func image(t *testing.T, size int64) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(f, size); err != nil {
		t.Fatal(err)
	}
	return f
}

func attach(t *testing.T, file string, partitions bool) string {
	t.Helper()
	args := []string{"--show", "-f", file}
	if partitions {
		args = append([]string{"-P"}, args...)
	}
	out, err := exec.Command("losetup", args...).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device here: losetup: %v %s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() { _ = exec.Command("losetup", "-d", dev).Run() })
	return dev
}

func mountExt4(t *testing.T, dev string) string {
	t.Helper()
	run(t, "mkfs.ext4", "-q", "-F", dev)
	dir := t.TempDir()
	if out, err := exec.Command("mount", dev, dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount here: %v %s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	return dir
}

// A real partition table on a real loop device: the partition is found
// through /sys/dev/block and followed to its disk.
func TestRealPartitionOnALoopDevice(t *testing.T) {
	rootOnly(t)
	file := image(t, 32<<20)
	// One Linux partition from sector 2048 to the end, as fdisk writes it.
	var mbr [512]byte
	entry := mbr[446:462]
	entry[4] = 0x83
	binary.LittleEndian.PutUint32(entry[8:], 2048)
	binary.LittleEndian.PutUint32(entry[12:], (32<<20)/512-2048)
	mbr[510], mbr[511] = 0x55, 0xAA
	f, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(mbr[:], 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	disk := attach(t, file, true)
	part := disk + "p1"
	if _, err := os.Stat(part); err != nil {
		t.Skipf("the kernel found no partition on %s (it may be built without MS-DOS partition tables): %v", disk, err)
	}
	dir := mountExt4(t, part)

	p := Host{}.Inspect(filepath.Join(dir, "not-yet", "created"))
	t.Logf("%s", p)
	want := filepath.Base(part) + " (partition) on " + filepath.Base(disk) + " (loop of " + file + ")"
	if p.Err != nil || p.Checked != dir || p.Device == nil || p.Device.String() != want || p.Encrypted() {
		t.Errorf("got %s, want device %s", p, want)
	}
	if kname, types := lsblkSays(t, part); kname != p.Device.Name || !slices.Equal(types, []string{"part", "loop"}) {
		t.Errorf("lsblk says %s %v", kname, types)
	}
}

// A filesystem made straight on a loop device: found through st_dev, named
// with its backing file.
func TestRealLoopDevice(t *testing.T) {
	rootOnly(t)
	file := image(t, 16<<20)
	loop := attach(t, file, false)
	dir := mountExt4(t, loop)
	p := Host{}.Inspect(dir)
	t.Logf("%s", p)
	want := filepath.Base(loop) + " (loop of " + file + ")"
	if p.Err != nil || p.Mount != dir || p.Source != loop || p.Device == nil || p.Device.String() != want || p.Encrypted() {
		t.Errorf("got %s, want device %s", p, want)
	}
}

// deviceMapper says why dm-crypt cannot be tried here, or "".
func deviceMapper() string {
	misc, err := os.ReadFile("/proc/misc")
	if err != nil {
		return "cannot read /proc/misc: " + err.Error()
	}
	if !strings.Contains(string(misc), "device-mapper") {
		return "this kernel has no device-mapper (none in /proc/misc), so dm-crypt cannot be set up here"
	}
	return ""
}

// A real LUKS2 volume: cryptsetup's own dm/uuid is recognised.
func TestRealLUKSVolume(t *testing.T) {
	rootOnly(t)
	if why := deviceMapper(); why != "" {
		t.Skip(why)
	}
	need(t, "cryptsetup")
	file := image(t, 48<<20)
	loop := attach(t, file, false)
	key := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(key, []byte("a key for a throwaway test volume"), 0o600); err != nil {
		t.Fatal(err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "fit-atrest-" + hex.EncodeToString(b[:])
	// A cheap key derivation: the volume lives for one test.
	run(t, "cryptsetup", "luksFormat", "--batch-mode", "--type", "luks2", "--pbkdf", "pbkdf2", "--pbkdf-force-iterations", "1000", "--key-file", key, loop)
	run(t, "cryptsetup", "open", "--key-file", key, loop, name)
	t.Cleanup(func() { _ = exec.Command("cryptsetup", "close", name).Run() })
	dir := mountExt4(t, "/dev/mapper/"+name)

	p := Host{}.Inspect(dir)
	t.Logf("%s", p)
	if p.Err != nil || !p.Encrypted() || p.Device.Kind != KindCrypt || p.Device.Detail != "LUKS2 "+name ||
		len(p.Device.Lower) != 1 || p.Device.Lower[0].Name != filepath.Base(loop) {
		t.Errorf("LUKS2 on %s: %s", loop, p)
	}
	if _, types := lsblkSays(t, "/dev/mapper/"+name); !slices.Contains(types, "crypt") {
		t.Errorf("lsblk does not see a crypt device: %v", types)
	}
}
