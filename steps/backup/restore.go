package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// Unpacked is a verified backup extracted to a private directory.
type Unpacked struct {
	Dir  string
	Info archive.Info
}

// Answers are the answers the backed-up installation was made from.
func (u Unpacked) Answers() (answers.Answers, error) {
	return answers.Load(filepath.Join(u.Dir, installPrefix, "answers.yaml"))
}

// Remove deletes the extracted copy (it holds the bank's data).
func (u Unpacked) Remove() error { return os.RemoveAll(u.Dir) }

// Unpack authenticates the whole archive first, then extracts it into a
// new private directory next to parent. A wrong passphrase, a flipped byte,
// a truncated or reordered file is refused before anything is written.
func Unpack(file string, passphrase []byte, parent string) (Unpacked, error) {
	f, err := os.Open(file)
	if err != nil {
		return Unpacked{}, fmt.Errorf("open backup: %w", err)
	}
	defer f.Close()
	info, err := archive.Verify(f, passphrase)
	if err != nil {
		return Unpacked{}, fmt.Errorf("verify backup %s: %w; nothing was changed", file, err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		return Unpacked{}, err
	}
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return Unpacked{}, err
	}
	dir, err := os.MkdirTemp(parent, ".restore-*")
	if err != nil {
		return Unpacked{}, fmt.Errorf("make a working directory: %w", err)
	}
	if _, err := archive.Extract(f, passphrase, dir, archive.ExtractOptions{}); err != nil {
		os.RemoveAll(dir)
		return Unpacked{}, fmt.Errorf("extract backup: %w; nothing was changed", err)
	}
	return Unpacked{Dir: dir, Info: info}, nil
}

// Restore puts an unpacked backup in place of the installation described
// by env: the install dir (the one it replaces is kept beside it), Vault's
// storage, the databases; then it starts everything and runs the checklist.
func Restore(ctx context.Context, env *install.Env, u Unpacked, custody install.Custody, emit func(steps.Event)) ([]validate.Result, error) {
	e := env.Engine
	info := func(msg string) {
		emit(steps.Event{Kind: steps.KindProgress, Step: "restore", Message: msg, Time: time.Now().UTC()})
	}

	if err := e.Down(ctx, env.Project, compose.DownOptions{}, nil); err != nil {
		return nil, fmt.Errorf("stop the running stack: %w", err)
	}
	for _, v := range []string{vaultVolume(env), env.Project + "_postgres-data"} {
		if err := e.API().VolumeRemove(ctx, v, false); err != nil && !errdefs.IsNotFound(err) {
			return nil, fmt.Errorf("remove volume %s: %w", v, err)
		}
	}
	info("stopped the stack; data volumes cleared for the backup's copies")

	if err := swapInstallDir(env.Dir, filepath.Join(u.Dir, installPrefix)); err != nil {
		return nil, err
	}
	info("install dir restored")

	p, err := env.LoadProject(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.EnsureNetworks(ctx, p, nil); err != nil {
		return nil, err
	}
	if err := restoreVaultStorage(ctx, env, filepath.Join(u.Dir, vaultPrefix)); err != nil {
		return nil, err
	}
	info("Vault storage restored")

	var checklist []validate.Result
	// Extraction does not keep owners: the certificates step gives every
	// key back to its service's uid (in place, without reissuing).
	before := (&steps.Plan{}).
		Then(install.CertificatesStep{Env: env}).
		Then(install.VaultStartStep{Env: env}).
		Then(install.VaultSetupStep{Env: env, Custody: custody}).
		Then(postgresOnly{env})
	if err := (&steps.Runner{Plan: before, Project: env.Project, Events: emit}).Run(ctx); err != nil {
		return nil, err
	}
	if err := restoreDatabases(ctx, env, filepath.Join(u.Dir, postgresPrefix), info); err != nil {
		return nil, err
	}
	after := (&steps.Plan{}).
		Then(install.ServicesStep{Env: env}).
		Then(install.ValidateStep{Env: env, Results: func(rs []validate.Result) { checklist = rs }})
	if err := (&steps.Runner{Plan: after, Project: env.Project, Events: emit}).Run(ctx); err != nil {
		return checklist, err
	}
	return checklist, nil
}

// swapInstallDir puts the restored install dir in place. The directory it
// replaces is renamed, not deleted, and its backups move along.
func swapInstallDir(dir, restored string) error {
	if _, err := os.Stat(dir); err == nil {
		aside := fmt.Sprintf("%s.replaced-%s", dir, time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(dir, aside); err != nil {
			return fmt.Errorf("move the current install dir aside: %w", err)
		}
		if err := os.Rename(restored, dir); err != nil {
			_ = os.Rename(aside, dir)
			return fmt.Errorf("put the restored install dir in place: %w", err)
		}
		if _, err := os.Stat(filepath.Join(aside, "backups")); err == nil {
			_ = os.RemoveAll(filepath.Join(dir, "backups"))
			if err := os.Rename(filepath.Join(aside, "backups"), filepath.Join(dir, "backups")); err != nil {
				return fmt.Errorf("keep the backups dir: %w", err)
			}
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o750); err != nil {
		return err
	}
	if err := os.Rename(restored, dir); err != nil {
		return fmt.Errorf("put the restored install dir in place: %w", err)
	}
	return nil
}

func restoreVaultStorage(ctx context.Context, env *install.Env, from string) error {
	v, err := env.Engine.API().VolumeInspect(ctx, vaultVolume(env))
	if err != nil {
		return fmt.Errorf("restore vault storage: %w", err)
	}
	svc, _ := env.Bundle.Service("vault")
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		target := filepath.Join(v.Mountpoint, rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		if d.IsDir() {
			if err := os.MkdirAll(target, fi.Mode().Perm()); err != nil {
				return err
			}
		} else {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if err := os.WriteFile(target, data, fi.Mode().Perm()); err != nil {
				return err
			}
		}
		return os.Lchown(target, svc.UID, svc.GID)
	})
}

// postgresOnly starts PostgreSQL alone, so the databases are restored
// before Fineract connects to them.
type postgresOnly struct{ env *install.Env }

func (s postgresOnly) ID() string                          { return "postgres-start" }
func (s postgresOnly) Title() string                       { return "Start PostgreSQL alone" }
func (s postgresOnly) Check(context.Context) (bool, error) { return false, nil }
func (s postgresOnly) Run(ctx context.Context, emit steps.Emitter) error {
	p, err := s.env.LoadProject(ctx)
	if err != nil {
		return err
	}
	return s.env.Engine.Up(ctx, p, compose.UpOptions{Services: []string{"postgres"}}, nil)
}

// restoreDatabases replays the roles, then each database dump with
// pg_restore --clean --create, inside the postgres container.
func restoreDatabases(ctx context.Context, env *install.Env, dir string, info func(string)) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	run := func(cmd []string, input string) error {
		f, err := os.Open(input)
		if err != nil {
			return err
		}
		defer f.Close()
		res, err := env.Engine.Exec(ctx, env.Project, "postgres", "postgres", cmd, f, nil)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("%s exited %d: %s", cmd[0], res.ExitCode, strings.TrimSpace(res.Stderr))
		}
		return nil
	}
	info("restoring the roles and databases")
	sock := []string{"-h", "/var/run/postgresql", "-U", "postgres"}
	// Roles may already exist (the first start creates the stack's own);
	// psql goes on past those errors and creates any that are missing.
	if err := run(append([]string{"psql", "-X", "-q", "-d", "postgres"}, sock...), filepath.Join(dir, "globals.sql")); err != nil {
		return fmt.Errorf("restore roles: %w", err)
	}
	var dumps []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".dump") {
			dumps = append(dumps, e.Name())
		}
	}
	sort.Strings(dumps)
	for _, d := range dumps {
		cmd := append([]string{"pg_restore", "--clean", "--if-exists", "--create", "--exit-on-error", "-d", "postgres"}, sock...)
		if err := run(cmd, filepath.Join(dir, d)); err != nil {
			return fmt.Errorf("restore database %s: %w", strings.TrimSuffix(d, ".dump"), err)
		}
		info("database " + strings.TrimSuffix(d, ".dump") + " restored")
	}
	return nil
}
