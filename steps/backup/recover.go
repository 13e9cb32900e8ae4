package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/install"
)

// Where the postgres service finds its data, the archived WAL and the
// installer (the compose file mounts them there).
const (
	postgresData    = "/var/lib/postgresql/data"
	containerWALDir = "/var/lib/fineract-wal"
	containerBinary = "/usr/local/libexec/fineract-installer/fineract-installer"
)

// recoverySettings are the settings PostgreSQL recovers with. They go
// into postgresql.auto.conf in the data directory, which PostgreSQL
// reads after the configuration file whatever config_file names
// (ProcessConfigFileInternal reads PG_AUTOCONF_FILENAME from the data
// directory, src/backend/utils/misc/guc-file.l, REL_17; docs 17, 19.1.2:
// "postgresql.auto.conf ... is read whenever postgresql.conf is, and its
// settings take effect in the same way"); the stack's postgresql.conf
// sets none of them. recoverySettingNames are reset after promotion.
func recoverySettings(target time.Time) string {
	lines := []string{
		fmt.Sprintf("restore_command = '%s wal-fetch --repo %s --key-file %s %%f %%p'", containerBinary, containerWALDir, walKeyFile),
	}
	if !target.IsZero() {
		lines = append(lines,
			fmt.Sprintf("recovery_target_time = '%s'", target.UTC().Format("2006-01-02 15:04:05.999999+00")),
			"recovery_target_action = 'promote'")
	}
	return "# restore to a point in time, written by fineract-installer restore\n" + strings.Join(lines, "\n") + "\n"
}

var recoverySettingNames = []string{"restore_command", "recovery_target_time", "recovery_target_action"}

// recoveryFellShort is PostgreSQL's message when the archived WAL ends
// before a recovery target (src/backend/access/transam/xlogrecovery.c,
// REL_17).
const recoveryFellShort = "recovery ended before configured recovery target was reached"

// baseDataStep streams the base backup's data directory into PostgreSQL's
// (new, empty) volume and leaves recovery settings beside it. The tar is
// unpacked by PostgreSQL's own uid in a one-off container of the postgres
// image with no network and no capabilities: the installer never writes
// into a directory that uid owns.
type baseDataStep struct{ r *Restoration }

func (baseDataStep) ID() string                          { return "restore-base-data" }
func (baseDataStep) Title() string                       { return "Put the base backup's data directory in place" }
func (baseDataStep) Check(context.Context) (bool, error) { return false, nil }
func (s baseDataStep) Run(ctx context.Context, emit steps.Emitter) error {
	rec := s.r.Recovery
	f, err := os.OpenFile(rec.Base.File, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return fmt.Errorf("open base backup: %w", err)
	}
	defer f.Close()
	rd, err := archive.NewReader(f, rec.Passphrase)
	if err != nil {
		return fmt.Errorf("open base backup: %w", err)
	}
	er, err := archive.NewEntryReader(rd)
	if err != nil {
		return fmt.Errorf("read base backup: %w", err)
	}
	for {
		ent, err := er.Next()
		if err != nil {
			return fmt.Errorf("find the data directory in base backup %s: %w", rec.Base.File, err)
		}
		if ent.Name == baseTarEntry {
			break
		}
	}
	start := time.Now()
	n, err := unpackInVolume(ctx, s.r.Env, er, recoverySettings(rec.Target))
	if err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	emit.Info("postgres", fmt.Sprintf("data directory of %s unpacked (%d MB compressed in %.1f s)", rec.Base.Started.Format(time.RFC3339), n>>20, secs))
	return nil
}

// unpackScript decompresses the tar on stdin into the data directory ($1)
// and appends the recovery settings ($2).
const unpackScript = `set -eu
zstd -dcq | tar -x -f - -C "$1" --no-same-owner
printf '%s' "$2" >> "$1/postgresql.auto.conf"
: > "$1/recovery.signal"`

// unpackInVolume runs unpackScript as PostgreSQL's uid with the data
// volume mounted, feeding it src; it returns the bytes fed.
func unpackInVolume(ctx context.Context, env *install.Env, src io.Reader, settings string) (int64, error) {
	svc, ok := env.Bundle.Service("postgres")
	if !ok {
		return 0, fmt.Errorf("the installation has no postgres service")
	}
	api := env.Engine.API()
	if err := giveEmptyVolume(ctx, env, env.Volume("postgres-data"), svc.UID, svc.GID); err != nil {
		return 0, err
	}
	name := env.Project + "-restore-base-data"
	// A container of an interrupted run.
	_ = api.ContainerRemove(ctx, name, container.RemoveOptions{Force: true})
	created, err := api.ContainerCreate(ctx, &container.Config{
		Image: svc.Image, User: svc.User(),
		Entrypoint: []string{"sh", "-c", unpackScript, "sh", postgresData, settings},
		OpenStdin:  true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true,
	}, &container.HostConfig{
		NetworkMode:    "none",
		ReadonlyRootfs: true,
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: env.Volume("postgres-data"), Target: postgresData,
			VolumeOptions: &mount.VolumeOptions{NoCopy: true}}},
	}, nil, nil, name)
	if err != nil {
		return 0, fmt.Errorf("create the container that unpacks the data directory: %w", err)
	}
	defer api.ContainerRemove(context.WithoutCancel(ctx), created.ID, container.RemoveOptions{Force: true})
	att, err := api.ContainerAttach(ctx, created.ID, container.AttachOptions{Stream: true, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		return 0, fmt.Errorf("attach to the unpacking container: %w", err)
	}
	defer att.Close()
	waitC, errC := api.ContainerWait(ctx, created.ID, container.WaitConditionNextExit)
	if err := api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return 0, fmt.Errorf("start the unpacking container: %w", err)
	}
	var out bytes.Buffer
	outDone := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(&limited{w: &out, n: 64 << 10}, &limited{w: &out, n: 64 << 10}, att.Reader)
		outDone <- err
	}()
	n, copyErr := io.Copy(att.Conn, src)
	_ = att.CloseWrite()
	var code int64
	select {
	case w := <-waitC:
		code = w.StatusCode
	case err := <-errC:
		return n, fmt.Errorf("wait for the unpacking container: %w", err)
	}
	<-outDone
	if copyErr != nil {
		return n, fmt.Errorf("stream the data directory: %w", copyErr)
	}
	if code != 0 {
		return n, fmt.Errorf("unpacking the data directory exited %d: %s", code, strings.TrimSpace(out.String()))
	}
	return n, nil
}

// giveEmptyVolume gives the data volume, new and empty (the stop step
// removed the old one), to PostgreSQL's uid with the mode PostgreSQL
// requires of its data directory (0700), through the volume's directory
// descriptor. A volume that is not empty is refused: nothing may have
// been written there by anyone yet.
func giveEmptyVolume(ctx context.Context, env *install.Env, volume string, uid, gid int) error {
	v, err := env.Engine.API().VolumeInspect(ctx, volume)
	if err != nil {
		return fmt.Errorf("inspect volume %s: %w", volume, err)
	}
	root, err := os.OpenRoot(v.Mountpoint)
	if err != nil {
		return fmt.Errorf("open volume %s: %w", volume, err)
	}
	defer root.Close()
	entries, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return fmt.Errorf("read volume %s: %w", volume, err)
	}
	if len(entries) > 0 {
		return fmt.Errorf("volume %s is not empty: a restore unpacks the base backup only into a new volume", volume)
	}
	if err := root.Lchown(".", uid, gid); err != nil {
		return fmt.Errorf("give volume %s to uid %d: %w", volume, uid, err)
	}
	return root.Chmod(".", 0o700)
}

// limited keeps the first n bytes written and discards the rest.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// recoveryStep starts PostgreSQL on the restored data directory, waits
// until it has replayed the WAL and left recovery (promoted), and removes
// the recovery settings.
type recoveryStep struct{ r *Restoration }

func (recoveryStep) ID() string                          { return "restore-recover" }
func (recoveryStep) Title() string                       { return "Replay the archived WAL to the target" }
func (recoveryStep) Check(context.Context) (bool, error) { return false, nil }
func (s recoveryStep) Run(ctx context.Context, emit steps.Emitter) error {
	env := s.r.Env
	target := "the latest archived WAL"
	if t := s.r.Recovery.Target; !t.IsZero() {
		target = t.UTC().Format(time.RFC3339Nano)
	}
	emit.Info("postgres", "replaying WAL from "+s.r.Recovery.Base.StartWAL+" to "+target)
	if err := env.StartService(ctx, "postgres", emit); err != nil {
		return s.failed(ctx, err)
	}
	for {
		res, err := env.Engine.Exec(ctx, env.Project, "postgres", postgresUser(env), psql("SELECT pg_is_in_recovery()"), nil, nil)
		if err != nil || res.ExitCode != 0 {
			return s.failed(ctx, fmt.Errorf("PostgreSQL stopped while replaying WAL: %v %s", err, strings.TrimSpace(res.Stderr)))
		}
		if strings.TrimSpace(string(res.Stdout)) == "f" {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
	for _, name := range recoverySettingNames {
		if err := execPsql(ctx, env, "ALTER SYSTEM RESET "+name); err != nil {
			return fmt.Errorf("remove the recovery settings: %w", err)
		}
	}
	if err := execPsql(ctx, env, "SELECT pg_reload_conf()"); err != nil {
		return err
	}
	emit.Info("postgres", "WAL replayed to "+target+"; PostgreSQL promoted on a new timeline")
	return nil
}

// failed explains a recovery that stopped: PostgreSQL's own reason from
// its log, with what to do.
func (s recoveryStep) failed(ctx context.Context, err error) error {
	env := s.r.Env
	var fatal []string
	_ = env.Engine.Logs(context.WithoutCancel(ctx), env.Project, compose.LogOptions{Services: []string{"postgres"}, Tail: 200}, func(l compose.LogLine) {
		if strings.Contains(l.Text, "FATAL") || strings.Contains(l.Text, recoveryFellShort) {
			fatal = append(fatal, strings.TrimSpace(l.Text))
		}
	})
	for _, l := range fatal {
		if strings.Contains(l, recoveryFellShort) {
			return steps.Fail(errors.New("PostgreSQL: "+l),
				"the archived WAL ends before the target: choose an earlier --to-time (see `fineract-installer backup list`), or --to-latest")
		}
	}
	if len(fatal) > 0 {
		err = fmt.Errorf("%w (PostgreSQL: %s)", err, fatal[len(fatal)-1])
	}
	return steps.Fail(err, "see `fineract-installer logs postgres`; the repository is unchanged, so the restore can be run again")
}

func psql(sql string) []string {
	return []string{"psql", "-X", "-h", "/var/run/postgresql", "-U", "postgres", "-d", "postgres", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql}
}

func execPsql(ctx context.Context, env *install.Env, sql string) error {
	res, err := env.Engine.Exec(ctx, env.Project, "postgres", postgresUser(env), psql(sql), nil, nil)
	if err == nil && res.ExitCode != 0 {
		err = fmt.Errorf("%s: %s", sql, strings.TrimSpace(res.Stderr))
	}
	return err
}
