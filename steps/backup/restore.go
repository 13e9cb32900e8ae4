package backup

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/errdefs"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// Unpacked is a verified backup extracted to a private directory.
type Unpacked struct {
	Dir  string
	Info archive.Info
}

// Answers are the answers the backed-up installation was made from.
func (u Unpacked) Answers() (answers.Answers, error) {
	return answers.Load(installation.New(filepath.Join(u.Dir, installPrefix), "").AnswersFile())
}

// Remove deletes the extracted copy (it holds the bank's data).
func (u Unpacked) Remove() error { return os.RemoveAll(u.Dir) }

// Unpack authenticates the whole archive first, then extracts it into a
// new private directory next to parent. A wrong passphrase, a flipped byte,
// a truncated or reordered file is refused before anything is written.
func Unpack(file string, passphrase []byte, parent string) (Unpacked, error) {
	return unpack(file, "backup", passphrase, parent, archive.ExtractOptions{})
}

// unpack is Unpack with extract options; what names the archive in errors.
func unpack(file, what string, passphrase []byte, parent string, opts archive.ExtractOptions) (Unpacked, error) {
	f, err := os.Open(file)
	if err != nil {
		return Unpacked{}, fmt.Errorf("open %s: %w", what, err)
	}
	defer f.Close()
	info, err := archive.Verify(f, passphrase)
	if err != nil {
		return Unpacked{}, fmt.Errorf("verify %s %s: %w; nothing was changed", what, file, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Unpacked{}, err
	}
	if err := os.MkdirAll(parent, 0o750); err != nil {
		return Unpacked{}, err
	}
	dir, err := os.MkdirTemp(parent, ".restore-*")
	if err != nil {
		return Unpacked{}, fmt.Errorf("make a working directory: %w", err)
	}
	if _, err := archive.Extract(f, passphrase, dir, opts); err != nil {
		os.RemoveAll(dir)
		return Unpacked{}, fmt.Errorf("extract %s: %w; nothing was changed", what, err)
	}
	return Unpacked{Dir: dir, Info: info}, nil
}

// Restoration puts an unpacked backup in place of the installation
// described by env: the data an installation cannot re-derive (the CA and
// the keys, Vault's record and demo custody file, Vault's storage, the
// databases) comes from the archive; the answers are written again from the
// parsed ones, and the compose project and every configuration file are
// rendered again by this installer from them. Nothing else in the archive
// is used, and modes and owners are set here, never taken from the
// archive. The install dir it replaces is kept beside it. Then everything
// starts and the checklist runs. env.Bundle must be rendered from u's
// answers.
type Restoration struct {
	Env     *install.Env
	Backup  Unpacked
	Custody install.Custody
	// Results receives the checklist of the restored installation.
	Results func([]validate.Result)
	// Recovery, when set, restores PostgreSQL from its base backup and
	// the archived WAL instead of from database dumps.
	Recovery *Recovery

	staged string // the new install dir, until it is swapped in
}

// Plan is the restore, one step after the other. The steps of its own are
// never found done: the archive, not the host, says what is right. Everything that can be
// checked (the images against the backup's record, the backup's
// certificates against its answers, its Vault record) is checked before
// the stack stops. A restore interrupted or failed part-way is run again
// from the archive: each run stages the backup's install dir afresh, and
// the one it replaces is kept beside it.
func (r *Restoration) Plan() *steps.Plan {
	env := r.Env
	var postgres []steps.Step
	if r.Recovery != nil {
		postgres = []steps.Step{baseDataStep{r}, recoveryStep{r}}
	} else {
		postgres = []steps.Step{postgresOnly{env}, databasesStep{r}}
	}
	return (&steps.Plan{}).
		Then(imageRecordStep{r}).
		Then(install.ImagesStep{Env: env, RecordDir: r.Backup.InstallDir()}).
		Then(stageStep{r}).
		Then(stopStep{r}).
		Then(swapStep{r}).
		Then(install.InstallDirStep{Env: env}).
		// The render step also prepares the WAL repository and the
		// installer PostgreSQL runs from it (restore_command runs it).
		Then(install.RenderStep{Env: env}).
		// The networks step also makes the (new, empty) data volumes and
		// gives each to its service.
		Then(install.NetworksStep{Env: env}).
		Then(vaultStorageStep{r}).
		// The certificates step gives every key to its service's uid (in
		// place, without reissuing).
		Then(install.CertificatesStep{Env: env}).
		Then(install.VaultStartStep{Env: env}).
		Then(install.VaultSetupStep{Env: env, Custody: r.Custody}).
		Then(postgres[0]).
		Then(postgres[1]).
		Then(install.ServicesStep{Env: env}).
		// Elasticsearch starts again on a new, empty data volume: its log
		// retention is set again.
		Then(install.LogRetentionStep{Env: env}).
		Then(install.ValidateStep{Env: env, Results: r.Results})
}

// Close removes the staged install dir when the plan stopped before it was
// swapped in.
func (r *Restoration) Close() error {
	if r.staged == "" {
		return nil
	}
	return os.RemoveAll(r.staged)
}

// imageRecordStep gives a backup made before image records the record of
// the installation it replaces, if there is one; the images step then
// checks this host's images against it, or records them.
type imageRecordStep struct{ r *Restoration }

func (imageRecordStep) ID() string                          { return "restore-image-record" }
func (imageRecordStep) Title() string                       { return "Read the backup's image record" }
func (imageRecordStep) Check(context.Context) (bool, error) { return false, nil }
func (s imageRecordStep) Run(_ context.Context, emit steps.Emitter) error {
	dir := s.r.Backup.InstallDir()
	if _, ok, err := install.LoadImageRecord(dir); err != nil {
		return fmt.Errorf("the backup's image record: %w; nothing was changed", err)
	} else if ok {
		return nil
	}
	current, ok, err := install.LoadImageRecord(s.r.Env.Dir)
	if err != nil || !ok {
		return err
	}
	emit.Info("images", "the backup has no image record: checking against the current installation's")
	return current.Save(dir)
}

// stageStep builds the new install dir beside the current one and checks
// it (see stageInstallDir).
type stageStep struct{ r *Restoration }

func (stageStep) ID() string                          { return "restore-stage" }
func (stageStep) Title() string                       { return "Check the backup's certificates and Vault record" }
func (stageStep) Check(context.Context) (bool, error) { return false, nil }
func (s stageStep) Run(ctx context.Context, _ steps.Emitter) error {
	if err := s.r.Close(); err != nil {
		return err
	}
	s.r.staged = ""
	staged, err := stageInstallDir(ctx, s.r.Env, filepath.Join(s.r.Backup.Dir, installPrefix))
	if err != nil {
		return err
	}
	s.r.staged = staged
	return nil
}

// stopStep takes the running stack down and removes the data volumes the
// backup's copies go into.
type stopStep struct{ r *Restoration }

func (stopStep) ID() string                          { return "restore-stop" }
func (stopStep) Title() string                       { return "Stop the stack and clear its data volumes" }
func (stopStep) Check(context.Context) (bool, error) { return false, nil }
func (s stopStep) Run(ctx context.Context, emit steps.Emitter) error {
	env := s.r.Env
	if err := env.Engine.Down(ctx, env.Project, compose.DownOptions{}, emit); err != nil {
		return fmt.Errorf("stop the running stack: %w", err)
	}
	for _, v := range []string{vaultVolume(env), env.Volume("postgres-data")} {
		if err := env.Engine.API().VolumeRemove(ctx, v, false); err != nil && !errdefs.IsNotFound(err) {
			return fmt.Errorf("remove volume %s: %w", v, err)
		}
	}
	emit.Info(env.Project, "stopped the stack; data volumes cleared for the backup's copies")
	return nil
}

// swapStep puts the staged install dir in place of the current one.
type swapStep struct{ r *Restoration }

func (swapStep) ID() string                          { return "restore-install-dir" }
func (swapStep) Title() string                       { return "Put the backup's install dir in place" }
func (swapStep) Check(context.Context) (bool, error) { return false, nil }
func (s swapStep) Run(_ context.Context, emit steps.Emitter) error {
	if err := swapInstallDir(s.r.Env.Dir, s.r.staged); err != nil {
		return err
	}
	s.r.staged = ""
	emit.Info(s.r.Env.Dir, "install dir restored: the backup's CA, keys and Vault record, configuration rendered again from its answers")
	return nil
}

// vaultStorageStep copies the backup's Vault storage into its volume.
type vaultStorageStep struct{ r *Restoration }

func (vaultStorageStep) ID() string                          { return "restore-vault-storage" }
func (vaultStorageStep) Title() string                       { return "Restore Vault's storage" }
func (vaultStorageStep) Check(context.Context) (bool, error) { return false, nil }
func (s vaultStorageStep) Run(ctx context.Context, emit steps.Emitter) error {
	if err := restoreVaultStorage(ctx, s.r.Env, filepath.Join(s.r.Backup.Dir, vaultPrefix)); err != nil {
		return err
	}
	emit.Info("vault", "Vault storage restored")
	return nil
}

// databasesStep replays the backup's roles and database dumps.
type databasesStep struct{ r *Restoration }

func (databasesStep) ID() string                          { return "restore-databases" }
func (databasesStep) Title() string                       { return "Restore the databases" }
func (databasesStep) Check(context.Context) (bool, error) { return false, nil }
func (s databasesStep) Run(ctx context.Context, emit steps.Emitter) error {
	return restoreDatabases(ctx, s.r.Env, filepath.Join(s.r.Backup.Dir, postgresPrefix), emit)
}

// restoredFiles are the files of an archived install dir that a restore
// takes: what an installation cannot derive again from its answers. Each
// gets the mode given here, whatever the archive says.
var restoredFiles = []struct {
	dir     string
	pattern *regexp.Regexp
	mode    os.FileMode
	limit   int64 // bytes taken at most; 0 is maxRestoredFile
}{
	{inInstallDir.PKIDir(), regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*\.(key|pem)$`), 0o600, 0},
	{inInstallDir.PKIDir(), regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*\.(crt|p12)$`), 0o644, 0},
	{inInstallDir.VaultDir(), exactly(inInstallDir.VaultRecordFile(), inInstallDir.CustodyFile(), inInstallDir.EncryptedSharesFile()), 0o600, 0},
	// The image record, checked against this host's images before the
	// restore began (see the restore command).
	{".", exactly(inInstallDir.ImageRecordFile()), 0o600, 0},
	// The audit log as it was at the backup: Vault's storage, restored
	// with it, keeps the heads of these entries, and audit verify holds
	// the log to them. (A restore over an installation keeps the live log
	// instead: see swapInstallDir.)
	{".", exactly(inInstallDir.AuditLogFile()), 0o600, audit.MaxLogSize},
}

// exactly matches the base names of files, and nothing else.
func exactly(files ...string) *regexp.Regexp {
	quoted := make([]string, len(files))
	for i, f := range files {
		quoted[i] = regexp.QuoteMeta(filepath.Base(f))
	}
	return regexp.MustCompile(`^(` + strings.Join(quoted, "|") + `)$`)
}

// maxRestoredFile bounds each file taken from the archive.
const maxRestoredFile = 4 << 20

// stageInstallDir builds, next to the install dir, a new install dir from
// the archived one (from, extracted by Unpack): the marker and the
// restoredFiles only. It checks what it took before anything else
// changes: the certificates must be usable for the answers (the same
// decision the certificates step makes, without writing) and Vault's record
// must parse. It returns the new directory.
func stageInstallDir(ctx context.Context, env *install.Env, from string) (string, error) {
	parent := filepath.Dir(filepath.Clean(env.Dir))
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	staged, err := os.MkdirTemp(parent, ".restore-stage-*")
	if err != nil {
		return "", fmt.Errorf("make the restored install dir: %w", err)
	}
	if err := os.Chmod(staged, 0o750); err != nil {
		os.RemoveAll(staged)
		return "", err
	}
	if err := installdir.Mark(staged); err != nil {
		os.RemoveAll(staged)
		return "", err
	}
	if err := copyRestoredFiles(from, staged); err != nil {
		os.RemoveAll(staged)
		return "", fmt.Errorf("take the backup's data: %w; nothing was changed", err)
	}
	check := *env
	check.Installation = installation.New(staged, env.Project)
	if _, err := check.Store().Plan(ctx, check.CertRequests()); err != nil {
		os.RemoveAll(staged)
		return "", fmt.Errorf("the backup's certificates cannot serve its answers: %w; nothing was changed", err)
	}
	if _, err := check.RecordStore().Load(ctx); err != nil {
		os.RemoveAll(staged)
		return "", fmt.Errorf("the backup's Vault record: %w; nothing was changed", err)
	}
	return staged, nil
}

// copyRestoredFiles copies restoredFiles from the archived install dir to
// the new one. Only plain files are taken, never through a link.
func copyRestoredFiles(from, to string) error {
	src, err := os.OpenRoot(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenRoot(to)
	if err != nil {
		return err
	}
	defer dst.Close()
	for _, dir := range []string{".", inInstallDir.PKIDir(), inInstallDir.VaultDir()} {
		entries, err := fs.ReadDir(src.FS(), dir)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if dir != "." {
			if err := dst.Mkdir(dir, 0o700); err != nil {
				return err
			}
		}
		for _, e := range entries {
			mode, limit, ok := restoredMode(dir, e.Name())
			if !ok || !e.Type().IsRegular() {
				continue
			}
			if err := copyOne(src, dst, path.Join(dir, e.Name()), mode, limit); err != nil {
				return err
			}
		}
	}
	return nil
}

// restoredMode says whether a restore takes dir/name, with the mode it
// gets and how many bytes it may hold.
func restoredMode(dir, name string) (os.FileMode, int64, bool) {
	for _, f := range restoredFiles {
		if f.dir == dir && f.pattern.MatchString(name) {
			return f.mode, cmp.Or(f.limit, maxRestoredFile), true
		}
	}
	return 0, 0, false
}

func copyOne(src, dst *os.Root, name string, mode os.FileMode, limit int64) error {
	in, err := src.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := dst.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return err
	}
	n, err := io.Copy(out, io.LimitReader(in, limit+1))
	if err == nil && n > limit {
		err = fmt.Errorf("%s is larger than %d bytes", name, limit)
	}
	if err == nil {
		err = out.Chmod(mode)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// swapInstallDir puts the restored install dir in place. The directory it
// replaces is renamed, not deleted, and its backups and its audit log
// move along: the log is the host's record of every change, and the
// archive's copy stops at the backup, so putting it back would drop the
// entries written since (the restore's own entry goes after them).
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
		was, now := installation.New(aside, ""), installation.New(dir, "")
		if _, err := os.Stat(was.BackupsDir()); err == nil {
			if err := os.Rename(was.BackupsDir(), now.BackupsDir()); err != nil {
				return fmt.Errorf("keep the backups dir: %w", err)
			}
		}
		if _, err := os.Lstat(was.AuditLogFile()); err == nil {
			if err := os.Rename(was.AuditLogFile(), now.AuditLogFile()); err != nil {
				return fmt.Errorf("keep the audit log: %w", err)
			}
		}
		return nil
	}
	if err := os.Rename(restored, dir); err != nil {
		return fmt.Errorf("put the restored install dir in place: %w", err)
	}
	return nil
}

// restoreVaultStorage copies Vault's archived storage into its (new, empty)
// volume: directories 0700 and files 0600, as Vault's file backend makes
// them, owned by Vault's uid; through os.Root on both sides.
func restoreVaultStorage(ctx context.Context, env *install.Env, from string) error {
	v, err := env.Engine.API().VolumeInspect(ctx, vaultVolume(env))
	if err != nil {
		return fmt.Errorf("restore vault storage: %w", err)
	}
	svc, _ := env.Bundle.Service("vault")
	src, err := os.OpenRoot(from)
	if err != nil {
		return fmt.Errorf("restore vault storage: %w", err)
	}
	defer src.Close()
	dst, err := os.OpenRoot(v.Mountpoint)
	if err != nil {
		return fmt.Errorf("restore vault storage: %w", err)
	}
	defer dst.Close()
	err = fs.WalkDir(src.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == "." {
			return err
		}
		switch {
		case d.IsDir():
			if err := dst.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
		case d.Type().IsRegular():
			in, err := src.OpenFile(p, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
			if err != nil {
				return err
			}
			defer in.Close()
			out, err := dst.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o600)
			if err != nil {
				return err
			}
			if _, err := io.Copy(out, in); err != nil {
				out.Close()
				return err
			}
			if err := out.Chmod(0o600); err != nil {
				out.Close()
				return err
			}
			if err := out.Close(); err != nil {
				return err
			}
		default:
			return nil // only directories and files are Vault's
		}
		return dst.Lchown(p, svc.UID, svc.GID)
	})
	if err != nil {
		return fmt.Errorf("restore vault storage: %w", err)
	}
	return dst.Lchown(".", svc.UID, svc.GID)
}

// postgresOnly starts PostgreSQL alone, so the databases are restored
// before Fineract connects to them.
type postgresOnly struct{ env *install.Env }

func (s postgresOnly) ID() string                          { return "postgres-start" }
func (s postgresOnly) Title() string                       { return "Start PostgreSQL alone" }
func (s postgresOnly) Check(context.Context) (bool, error) { return false, nil }
func (s postgresOnly) Run(ctx context.Context, emit steps.Emitter) error {
	return s.env.StartService(ctx, "postgres", emit)
}

// RestoreDatabases replays the unpacked backup's roles and database dumps
// into the running PostgreSQL; the services using those databases must be
// stopped (a database is dropped and created again).
func RestoreDatabases(ctx context.Context, env *install.Env, u Unpacked, emit steps.Emitter) error {
	return restoreDatabases(ctx, env, filepath.Join(u.Dir, postgresPrefix), emit)
}

// restoreDatabases replays the roles, then each database dump with
// pg_restore --clean --create, inside the postgres container.
func restoreDatabases(ctx context.Context, env *install.Env, dir string, emit steps.Emitter) error {
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
		res, err := env.Engine.Exec(ctx, env.Project, "postgres", postgresUser(env), cmd, f, nil)
		if err != nil {
			return err
		}
		if res.ExitCode != 0 {
			return fmt.Errorf("%s exited %d: %s", cmd[0], res.ExitCode, strings.TrimSpace(res.Stderr))
		}
		return nil
	}
	emit.Info("postgres", "restoring the roles and databases")
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
		emit.Info("postgres", "database "+strings.TrimSuffix(d, ".dump")+" restored")
	}
	return nil
}
