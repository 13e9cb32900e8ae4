package preflight

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/system"

	"github.com/fineract-installer/fineract-installer/steps/hostfacts"
)

func checkMemory(ctx context.Context, in Input, _ *system.Info) []Result {
	r := Result{ID: "memory", Title: "Memory"}
	mem, err := hostfacts.ReadMemory(in.HostRoot)
	if err != nil {
		r.Status, r.Observed = Warn, err.Error()
		return []Result{r}
	}
	total, avail := mem.TotalMiB, mem.AvailableMiB
	need := uint64(in.MemoryBudgetMiB)
	r.Observed = fmt.Sprintf("%d MiB total, %d MiB available; the selected groups need about %d MiB", total, avail, need)
	switch {
	case total < need:
		r.Status = Fail
		r.Fix = "choose fewer service groups (or the demo profile), or use a host with more memory"
	case avail < need+need/10: // a 10% margin: the JVMs grow after start
		r.Status = Warn
		r.Fix = "free memory by stopping other workloads; the stack may be killed for lack of memory"
	default:
		r.Status = Pass
	}
	return []Result{r}
}

// Disk needs, in MiB: images for the stack, and the install dir's
// certificates, configuration and backups.
const (
	imagesFailMiB  = 5 * 1024
	imagesWarnMiB  = 20 * 1024
	installFailMiB = 256
	installWarnMiB = 2 * 1024
)

func checkDisk(ctx context.Context, in Input, info *system.Info) []Result {
	var out []Result
	if info != nil && info.DockerRootDir != "" {
		out = append(out, diskResult("Disk for images ("+info.DockerRootDir+")", info.DockerRootDir, imagesFailMiB, imagesWarnMiB))
	}
	out = append(out, diskResult("Disk for the install dir ("+in.Answers.InstallDir+")", in.Answers.InstallDir, installFailMiB, installWarnMiB))
	return out
}

func diskResult(title, path string, failMiB, warnMiB uint64) Result {
	r := Result{ID: "disk", Title: title}
	dir := existingAncestor(path)
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		r.Status, r.Observed = Warn, fmt.Sprintf("cannot measure free space at %s: %v", dir, err)
		return r
	}
	free := fs.Bavail * uint64(fs.Bsize) / (1 << 20)
	r.Observed = fmt.Sprintf("%d MiB free on the filesystem of %s", free, dir)
	switch {
	case free < failMiB:
		r.Status = Fail
		r.Fix = fmt.Sprintf("free at least %d MiB there (docker system prune removes unused images), or choose another directory", failMiB)
	case free < warnMiB:
		r.Status = Warn
		r.Fix = fmt.Sprintf("less than %d MiB free: backups and logs will fill it", warnMiB)
	default:
		r.Status = Pass
	}
	return r
}

// existingAncestor is the nearest directory of path that exists.
func existingAncestor(path string) string {
	p := filepath.Clean(path)
	for {
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(p)
		if parent == p {
			return p
		}
		p = parent
	}
}

func checkPrivileges(ctx context.Context, in Input, _ *system.Info) []Result {
	r := Result{ID: "privileges", Title: "Privileges"}
	dir := in.Answers.InstallDir
	base := existingAncestor(dir)
	probe, err := os.CreateTemp(base, ".fineract-preflight-*")
	if err != nil {
		r.Status = Fail
		r.Observed = fmt.Sprintf("cannot write under %s: %v", base, err)
		r.Fix = "run as root (sudo), or choose an install dir you can write with --dir / install_dir"
		return []Result{r}
	}
	probe.Close()
	os.Remove(probe.Name())
	who := "root"
	if os.Geteuid() != 0 {
		who = fmt.Sprintf("uid %d", os.Geteuid())
	}
	r.Status = Pass
	r.Observed = fmt.Sprintf("running as %s; %s is writable", who, base)
	if os.Geteuid() != 0 {
		r.Status = Warn
		r.Fix = "keys, secret files and data volumes are given to each service's own uid, which needs root: run the install with sudo"
	}
	return []Result{r}
}

// earliestSaneTime is before any certificate this installer issues; a clock
// behind it makes every certificate "not yet valid".
var earliestSaneTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func checkClock(ctx context.Context, in Input, info *system.Info) []Result {
	now := time.Now().UTC()
	r := Result{ID: "clock", Title: "Clock", Observed: now.Format(time.RFC3339)}
	if now.Before(earliestSaneTime) {
		r.Status = Fail
		r.Fix = "set the clock (timedatectl set-ntp true); certificates and Vault tokens depend on it"
		return []Result{r}
	}
	if info != nil && info.SystemTime != "" {
		if engineTime, err := time.Parse(time.RFC3339Nano, info.SystemTime); err == nil {
			skew := now.Sub(engineTime)
			if skew < 0 {
				skew = -skew
			}
			if skew > 30*time.Second {
				r.Status = Warn
				r.Observed += fmt.Sprintf("; the Docker engine's clock differs by %s", skew.Round(time.Second))
				r.Fix = "synchronise both clocks with NTP"
				return []Result{r}
			}
		}
	}
	r.Status = Pass
	if synced, known := ntpSynchronised(); known && !synced {
		r.Status = Warn
		r.Observed += "; not synchronised by NTP"
		r.Fix = "enable time synchronisation (timedatectl set-ntp true)"
	}
	return []Result{r}
}

// ntpSynchronised reads systemd-timesyncd's marker when it is present.
func ntpSynchronised() (synced, known bool) {
	if _, err := os.Stat("/run/systemd/timesync"); errors.Is(err, os.ErrNotExist) {
		return false, false
	}
	_, err := os.Stat("/run/systemd/timesync/synchronized")
	return err == nil, true
}
