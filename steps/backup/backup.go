// Package backup writes and restores encrypted backups of an installation:
// its install dir (answers, CA and certificates, rendered configuration,
// state), a consistent PostgreSQL dump, and Vault's storage.
//
// PostgreSQL is dumped inside its container (pg_dump, custom format, one
// per database, plus the roles), which is consistent per database without
// stopping anything. Vault's file storage has no snapshot API, and a copy
// taken while Vault writes could catch a half-written file, so the backup
// stops Vault for the seconds the copy takes and unseals it again with the
// same key custody as `unseal`. The services keep running meanwhile: they
// already hold their secret files.
package backup

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Entry name prefixes inside the archive.
const (
	installPrefix  = "install"
	postgresPrefix = "postgres"
	vaultPrefix    = "vault-file"
)

// Dir is where backups are kept by default.
func Dir(env *install.Env) string { return env.BackupsDir() }

// Create writes an encrypted backup of the installation to w. Vault is
// stopped for the copy of its storage and started again, sealed: the plan
// of a backup (see Plan) unseals it in a step of its own.
func Create(ctx context.Context, env *install.Env, w io.Writer, passphrase []byte, version string, emit steps.Emitter) (archive.Manifest, error) {
	ew, err := archive.Create(w, passphrase, archive.Options{Metadata: archive.Metadata{
		Created: time.Now().UTC(), InstallerVersion: version,
		Labels: map[string]string{"project": env.Project, "hostname": env.Answers.Host.Hostname, "profile": string(env.Answers.Profile)},
	}})
	if err != nil {
		return archive.Manifest{}, fmt.Errorf("start the backup archive: %w", err)
	}
	if err := addInstallDir(ew, env, emit); err != nil {
		return archive.Manifest{}, err
	}
	if err := addPostgres(ctx, ew, env, emit); err != nil {
		return archive.Manifest{}, err
	}
	if err := addVault(ctx, ew, env, emit); err != nil {
		return archive.Manifest{}, err
	}
	if err := ew.Close(); err != nil {
		return archive.Manifest{}, fmt.Errorf("finish the backup archive: %w", err)
	}
	return ew.Manifest(), nil
}

// inInstallDir names the files of an installation relative to its dir, as
// the archive stores them.
var inInstallDir = installation.Relative()

// skipInInstallDir are files a backup leaves out: earlier backups, and the
// lock file of earlier releases.
func skipInInstallDir(rel string) bool {
	backups := inInstallDir.BackupsDir()
	return rel == backups || strings.HasPrefix(rel, backups+"/") || rel == inInstallDir.LegacyLockFile()
}

func addInstallDir(ew *archive.EntryWriter, env *install.Env, emit steps.Emitter) error {
	n := 0
	err := filepath.WalkDir(env.Dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(env.Dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if skipInInstallDir(rel) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		name := installPrefix + "/" + rel
		if d.IsDir() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			return ew.AddDir(name, fi.Mode().Perm())
		}
		if !d.Type().IsRegular() {
			return nil
		}
		n++
		return ew.AddFile(name, p)
	})
	if err != nil {
		return fmt.Errorf("back up the install dir: %w", err)
	}
	emit.Info(env.Dir, fmt.Sprintf("%d files of the install dir", n))
	return nil
}

// postgresUser is who psql, pg_dump and pg_restore run as in the postgres
// container: PostgreSQL's own uid, which peer authentication maps to the
// postgres role.
func postgresUser(env *install.Env) string {
	svc, _ := env.Bundle.Service("postgres")
	return svc.User()
}

// databases lists the databases worth dumping.
func databases(ctx context.Context, env *install.Env) ([]string, error) {
	res, err := env.Engine.Exec(ctx, env.Project, "postgres", postgresUser(env), []string{"psql", "-X", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "postgres", "-At",
		"-c", "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname <> 'postgres' ORDER BY 1"}, nil, nil)
	if err != nil {
		return nil, err
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("list databases: %s", strings.TrimSpace(res.Stderr))
	}
	var dbs []string
	for _, l := range strings.Split(strings.TrimSpace(string(res.Stdout)), "\n") {
		if l != "" {
			dbs = append(dbs, l)
		}
	}
	return dbs, nil
}

// dumpInto streams a command's output from the postgres container into
// an archive entry.
func dumpInto(ctx context.Context, ew *archive.EntryWriter, env *install.Env, name string, cmd []string) (int64, error) {
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		res, err := env.Engine.Exec(ctx, env.Project, "postgres", postgresUser(env), cmd, nil, pw)
		if err == nil && res.ExitCode != 0 {
			err = fmt.Errorf("%s exited %d: %s", cmd[0], res.ExitCode, strings.TrimSpace(res.Stderr))
		}
		pw.CloseWithError(err)
		done <- err
	}()
	n, err := ew.AddStream(name, 0o600, pr)
	pr.Close()
	if derr := <-done; derr != nil {
		return n, derr
	}
	return n, err
}

func addPostgres(ctx context.Context, ew *archive.EntryWriter, env *install.Env, emit steps.Emitter) error {
	if _, ok := env.Bundle.Service("postgres"); !ok {
		return nil
	}
	dbs, err := databases(ctx, env)
	if err != nil {
		return fmt.Errorf("back up postgres: %w", err)
	}
	sock := []string{"-h", "/var/run/postgresql", "-U", "postgres"}
	n, err := dumpInto(ctx, ew, env, postgresPrefix+"/globals.sql", append([]string{"pg_dumpall", "--globals-only", "--no-role-passwords"}, sock...))
	if err != nil {
		return fmt.Errorf("back up postgres roles: %w", err)
	}
	emit.Info("postgres", fmt.Sprintf("roles (%d bytes)", n))
	for _, db := range dbs {
		n, err := dumpInto(ctx, ew, env, postgresPrefix+"/"+db+".dump", append([]string{"pg_dump", "-Fc", "-d", db}, sock...))
		if err != nil {
			return fmt.Errorf("back up database %s: %w", db, err)
		}
		emit.Info("postgres", fmt.Sprintf("database %s (%d bytes)", db, n))
	}
	return nil
}

// vaultVolume is the Docker volume holding Vault's file storage.
func vaultVolume(env *install.Env) string { return env.Volume("vault-file") }

func addVault(ctx context.Context, ew *archive.EntryWriter, env *install.Env, emit steps.Emitter) error {
	v, err := env.Engine.API().VolumeInspect(ctx, vaultVolume(env))
	if err != nil {
		return fmt.Errorf("back up vault: %w", err)
	}
	name := env.Container("vault")
	timeout := 30
	emit.Info("vault", "stopping Vault for a consistent copy of its storage")
	if err := env.Engine.API().ContainerStop(ctx, name, container.StopOptions{Timeout: &timeout}); err != nil {
		return fmt.Errorf("stop vault: %w", err)
	}
	copyErr := ew.AddTree(vaultPrefix, v.Mountpoint)
	// Start Vault again whatever happened to the copy, interrupted or not.
	startErr := env.Engine.API().ContainerStart(context.WithoutCancel(ctx), name, container.StartOptions{})
	if copyErr != nil {
		return steps.Fail(fmt.Errorf("copy Vault's storage: %w", copyErr), "Vault is sealed: run `fineract-installer unseal`, or this backup again")
	}
	if startErr != nil {
		return steps.Fail(fmt.Errorf("start vault again: %w", startErr), "run `fineract-installer unseal`")
	}
	emit.Info("vault", "storage copied; Vault started again")
	return nil
}
