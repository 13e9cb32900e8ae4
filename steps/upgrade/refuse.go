package upgrade

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/containerd/errdefs"
	"golang.org/x/sys/unix"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/install"
)

// Kinds of refusal, for the command's exit code.
const (
	// RefusedPath: a Fineract downgrade, or a jump over a release the
	// upgrade path requires.
	RefusedPath = "path"
	// RefusedDisk: not enough disk for the new images and the backup.
	RefusedDisk = "disk"
	// RefusedUnhealthy: the stack is not healthy before the upgrade.
	RefusedUnhealthy = "unhealthy"
)

// Refusal is a hard stop, found before anything changed.
type Refusal struct {
	Kind  string
	Cause string
	Fix   string
}

func (r *Refusal) Error() string { return r.Cause + "; nothing was changed" }

// Hint says what to do instead.
func (r *Refusal) Hint() string { return r.Fix }

// CheckPath refuses a Fineract downgrade and a jump over a release the
// upgrade path requires (assets.FineractWaypoints).
func (u *Upgrade) CheckPath() error {
	c, ok := u.Change("fineract")
	if !ok {
		return nil
	}
	from, err := fineractRelease(c.FromRelease, c.From)
	if err != nil {
		return &Refusal{Kind: RefusedPath, Cause: "the installed Fineract's release cannot be told: " + err.Error(),
			Fix: "the installation runs an image accepted by hand; restore a backup made with an installer release, or install again with its answers"}
	}
	to, err := fineractRelease(c.ToRelease, c.To)
	if err != nil {
		return &Refusal{Kind: RefusedPath, Cause: "this installer's Fineract release cannot be told: " + err.Error(), Fix: "use an installer release"}
	}
	err = assets.CheckFineractPath(from, to)
	var down *assets.DowngradeError
	var skip *assets.SkipError
	switch {
	case errors.As(err, &down):
		return &Refusal{Kind: RefusedPath, Cause: err.Error(),
			Fix: fmt.Sprintf("the way back to Fineract %s is `fineract-installer restore FILE` with a backup taken before the upgrade to %s; otherwise keep using the installer release that carries %s", to, from, from)}
	case errors.As(err, &skip):
		return &Refusal{Kind: RefusedPath, Cause: err.Error(),
			Fix: fmt.Sprintf("upgrade first with an installer release that carries Fineract %s, then with this one", skip.Stop.Version)}
	}
	return err
}

// fineractRelease is the release declared with an image, else the one its
// tag says.
func fineractRelease(declared, ref string) (assets.FineractVersion, error) {
	if declared != "" {
		return assets.ParseFineractRelease(declared)
	}
	return assets.ParseFineractVersion(ref)
}

// CheckHealth refuses a stack whose services are not all running and,
// where they have a healthcheck, healthy: an upgrade from a broken stack
// could not tell what it broke, nor roll back to a working one.
func (u *Upgrade) CheckHealth(ctx context.Context) error {
	st, err := u.Old.Engine.Status(ctx, u.Old.Project)
	if err != nil {
		return fmt.Errorf("read the stack's state: %w", err)
	}
	byService := map[string]string{}
	for _, s := range st {
		switch {
		case s.State != "running":
			byService[s.Service] = s.State
		case s.Health != "" && s.Health != "healthy":
			byService[s.Service] = s.Health
		default:
			if _, bad := byService[s.Service]; !bad {
				byService[s.Service] = ""
			}
		}
	}
	var bad []string
	for _, svc := range u.Old.Bundle.Services {
		state, ok := byService[svc.Name]
		switch {
		case !ok:
			bad = append(bad, svc.Name+" has no container")
		case state != "":
			bad = append(bad, svc.Name+" is "+state)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return &Refusal{Kind: RefusedUnhealthy, Cause: "the stack is not healthy: " + strings.Join(bad, ", "),
		Fix: "find the cause with `fineract-installer status` and `fineract-installer validate` and fix it first; --force upgrades anyway after you type the project name"}
}

// diskNeed is space the upgrade will take on the filesystem of Path.
type diskNeed struct {
	What  string
	Path  string
	Bytes int64
}

// fsSpace says which filesystem a path is on and how much of it is free
// to this process.
type fsSpace func(path string) (dev uint64, free int64, err error)

// diskReserve is left free on top of the estimate: the engine, PostgreSQL
// and Vault's storage must not be left at zero.
const diskReserve = 512 << 20

// statfsSpace measures the filesystem of path's nearest existing ancestor.
func statfsSpace(path string) (uint64, int64, error) {
	dir := filepath.Clean(path)
	for {
		var st unix.Stat_t
		if err := unix.Stat(dir, &st); err == nil {
			var fs unix.Statfs_t
			if err := unix.Statfs(dir, &fs); err != nil {
				return 0, 0, fmt.Errorf("measure free space at %s: %w", dir, err)
			}
			return st.Dev, int64(fs.Bavail) * fs.Bsize, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return 0, 0, fmt.Errorf("measure free space at %s: no existing directory", path)
		}
		dir = parent
	}
}

// shortfall adds the needs up per filesystem (Docker's data root and the
// backups dir are often one) and refuses when one has less free than its
// needs plus the reserve.
func shortfall(needs []diskNeed, space fsSpace) error {
	type fsNeed struct {
		free  int64
		bytes int64
		what  []string
		path  string
	}
	byDev := map[uint64]*fsNeed{}
	var devs []uint64
	for _, n := range needs {
		dev, free, err := space(n.Path)
		if err != nil {
			return err
		}
		f, ok := byDev[dev]
		if !ok {
			f = &fsNeed{free: free, path: n.Path}
			byDev[dev] = f
			devs = append(devs, dev)
		}
		f.bytes += n.Bytes
		f.what = append(f.what, fmt.Sprintf("%s %s", n.What, mib(n.Bytes)))
	}
	sort.Slice(devs, func(i, j int) bool { return devs[i] < devs[j] })
	var short []string
	for _, d := range devs {
		f := byDev[d]
		if f.free < f.bytes+diskReserve {
			short = append(short, fmt.Sprintf("the filesystem of %s has %s free; the upgrade needs %s (%s, and %s kept free)",
				f.path, mib(f.free), mib(f.bytes+diskReserve), strings.Join(f.what, " + "), mib(diskReserve)))
		}
	}
	if len(short) == 0 {
		return nil
	}
	return &Refusal{Kind: RefusedDisk, Cause: "not enough disk: " + strings.Join(short, "; "),
		Fix: "free space there (old backups in the backups dir, unused images: `docker image ls`), then run the upgrade again"}
}

func mib(n int64) string { return strconv.FormatInt((n+(1<<20)-1)>>20, 10) + " MiB" }

// CheckDisk refuses an upgrade that would run out of disk. The space is
// estimated before anything is downloaded, without a registry: each new
// image not yet on this host as large as the image it replaces (a new
// release of an image is about the size of the one before; shared layers
// make it less), and the backup as large as the databases PostgreSQL
// reports (pg_database_size; the compressed dump is smaller) plus the
// install dir.
func (u *Upgrade) CheckDisk(ctx context.Context) error {
	api := u.Env.Engine.API()
	info, err := api.Info(ctx)
	if err != nil {
		return fmt.Errorf("ask the engine for its data root: %w", err)
	}
	var images int64
	for _, c := range u.Changes {
		if _, err := api.ImageInspect(ctx, c.To); err == nil {
			continue
		} else if !errdefs.IsNotFound(err) {
			return fmt.Errorf("inspect image %s: %w", c.To, err)
		}
		old, err := api.ImageInspect(ctx, c.FromID)
		if err != nil {
			return fmt.Errorf("inspect the installed image of %s: %w", c.Service, err)
		}
		images += old.Size
	}
	dbs, err := databasesSize(ctx, u.Old)
	if err != nil {
		return err
	}
	dir, err := dirSize(u.Env.Dir, u.Env.BackupsDir())
	if err != nil {
		return err
	}
	return shortfall([]diskNeed{
		{What: "new images", Path: info.DockerRootDir, Bytes: images},
		{What: "backup", Path: u.Env.BackupsDir(), Bytes: dbs + dir},
	}, statfsSpace)
}

// databasesSize asks PostgreSQL how large its databases are.
func databasesSize(ctx context.Context, env *install.Env) (int64, error) {
	svc, _ := env.Bundle.Service("postgres")
	res, err := env.Engine.Exec(ctx, env.Project, "postgres", svc.User(), []string{"psql", "-X", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "postgres", "-At",
		"-c", "SELECT coalesce(sum(pg_database_size(datname)), 0) FROM pg_database WHERE datallowconn AND NOT datistemplate"}, nil, nil)
	if err != nil {
		return 0, fmt.Errorf("measure the databases: %w", err)
	}
	if res.ExitCode != 0 {
		return 0, fmt.Errorf("measure the databases: %s", strings.TrimSpace(res.Stderr))
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(res.Stdout)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("measure the databases: %q is not a size", strings.TrimSpace(string(res.Stdout)))
	}
	return n, nil
}

// dirSize adds up the regular files under dir, skipping skip; links are
// not followed.
func dirSize(dir, skip string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == skip && d.IsDir() {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			n += fi.Size()
		}
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("measure the install dir: %w", err)
	}
	return n, nil
}
