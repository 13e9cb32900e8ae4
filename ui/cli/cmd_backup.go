package cli

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup"
	"github.com/fineract-installer/fineract-installer/steps/backup/archive"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// backupPassphraseEnv holds the backup passphrase for unattended runs.
const backupPassphraseEnv = "FINERACT_BACKUP_PASSPHRASE"

// backupPassphrase reads the backup passphrase from --passphrase-file,
// $FINERACT_BACKUP_PASSPHRASE or the terminal. A new archive needs a
// strong one (asked twice on a terminal); opening one takes any.
func backupPassphrase(a *app, file string, creating bool) ([]byte, error) {
	src := passphrase.Source{What: "backup passphrase", File: file, FileFlag: "--passphrase-file",
		Env: backupPassphraseEnv, Ask: secretPrompt(a)}
	read := src.Existing
	if creating {
		read = src.New
	}
	p, err := read()
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	return p, nil
}

func newBackupCmd(a *app) *cobra.Command {
	var out, passFile string
	var keep, keepBase, keepDays int
	var logical bool
	var co custodyOptions
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Write an encrypted, authenticated backup of the installation",
		Long: `Write one encrypted, authenticated archive holding the install dir
(answers, CA and certificates, configuration, state), a consistent dump of
every PostgreSQL database, and Vault's storage. Vault is stopped for the
seconds its storage copy takes and unsealed again as with ` + "`unseal`" + `;
the services keep running.

The key comes from a passphrase (argon2id), from --passphrase-file, $` + backupPassphraseEnv + `
or a terminal prompt. Keep the passphrase apart from the backups.`,
		Example: `  FINERACT_BACKUP_PASSPHRASE=... FINERACT_UNSEAL_PASSPHRASE=... fineract-installer backup --keep 14
  # daily at 02:30, from /etc/cron.d/fineract-backup (demo profile):
  30 2 * * * root fineract-installer backup --passphrase-file /root/backup.pass --unseal-passphrase-file /root/unseal.pass --keep 14`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if err := requireInstallDir(a); err != nil {
				return err
			}
			unlock, err := lockInstallation(a)
			if err != nil {
				return err
			}
			defer unlock()
			env, done, err := installedEnv(ctx, a)
			if err != nil {
				return err
			}
			defer done()
			pass, err := backupPassphrase(a, passFile, true)
			if err != nil {
				return err
			}
			custody, err := custodyFor(a, env, co)
			if err != nil {
				return err
			}
			o := backup.Options{Out: out, Passphrase: pass, Custody: custody, Version: a.build.Version, Keep: keep}
			if bk := env.Answers.Backup; bk.WALArchiving && !logical {
				if out != "" || keep != 0 {
					return usageError("--out and --keep are for logical backups: with WAL archiving on, base backups go into the repository (%s) and --keep-base/--keep-days prune them; add --logical for a pg_dump archive", bk.RepositoryDir(a.dir))
				}
				o.Repository = bk.RepositoryDir(a.dir)
				o.Retention = backup.Retention{KeepBase: cmp.Or(keepBase, bk.KeepBaseOrDefault()), KeepDays: cmp.Or(keepDays, bk.KeepDaysOrDefault())}
			} else if keepBase != 0 || keepDays != 0 {
				return usageError("--keep-base and --keep-days prune base backups, which need backup.wal_archiving: true in the answers; use --keep for logical backups")
			}
			p := a.printer()
			start := time.Now()
			var written backup.Written
			plan := backup.Plan(env, o, func(w backup.Written) { written = w })
			if err := runDay2(ctx, a, "backup", a.dir, plan); err != nil {
				return err
			}
			if p.json() {
				if err := p.record(typeBackup, written); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.io.Out, "%s %s: %d entries, %s, in %s\n", p.ok.Render("Backup written:"), written.File, written.Entries, humanBytes(written.Bytes), time.Since(start).Round(time.Millisecond))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "backup `FILE` to write (default: INSTALL_DIR/backups/backup-TIME.fib)")
	f.StringVar(&passFile, "passphrase-file", "", "`FILE` holding the backup passphrase, one line (mode 0600)")
	f.IntVar(&keep, "keep", 0, "keep only the newest `N` logical backups in the backup directory (0 keeps all)")
	f.BoolVar(&logical, "logical", false, "write a logical pg_dump archive (for moving to another PostgreSQL major version) even when WAL archiving is on")
	f.IntVar(&keepBase, "keep-base", 0, "keep the newest `N` base backups (default: the answers' backup.keep_base)")
	f.IntVar(&keepDays, "keep-days", 0, "keep every point of the last `D` days restorable (default: the answers' backup.keep_days)")
	f.StringVar(&co.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600), to unseal Vault after its storage is copied")
	f.StringVar(&co.keysFile, "unseal-keys-file", "", "`FILE` with unseal key shares, one per line (mode 0600), when no terminal is available")
	cmd.AddCommand(newBackupVerifyCmd(a), newBackupScheduleCmd(a), newBackupListCmd(a))
	return cmd
}

// verifyDoc is `backup verify -o json`: what was checked, in the names
// README documents.
type verifyDoc struct {
	File             string                  `json:"file"`
	Format           int                     `json:"format"`
	FileID           string                  `json:"file_id"`
	Created          time.Time               `json:"created"`
	InstallerVersion string                  `json:"installer_version,omitempty"`
	Labels           map[string]string       `json:"labels,omitempty"`
	KeySlots         []keySlotDoc            `json:"key_slots"`
	Chunks           int64                   `json:"chunks"`
	PayloadBytes     int64                   `json:"payload_bytes"`
	ArchiveBytes     int64                   `json:"archive_bytes"`
	Entries          []archive.ManifestEntry `json:"entries"`
}

// keySlotDoc is one key slot's argon2id parameters.
type keySlotDoc struct {
	Passes    uint32 `json:"passes"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

func newVerifyDoc(file string, info archive.Info) verifyDoc {
	d := verifyDoc{File: file, Format: info.Version, FileID: info.FileID, Created: info.Metadata.Created,
		InstallerVersion: info.Metadata.InstallerVersion, Labels: info.Metadata.Labels,
		Chunks: info.Chunks, PayloadBytes: info.PayloadSize, ArchiveBytes: info.ArchiveSize, Entries: []archive.ManifestEntry{}}
	for _, k := range info.KeySlots {
		d.KeySlots = append(d.KeySlots, keySlotDoc{Passes: k.Time, MemoryKiB: k.Memory, Threads: k.Threads})
	}
	if info.Manifest != nil {
		d.Entries = info.Manifest.Entries
	}
	return d
}

// archiveError gives a backup archive's problem its exit code, the same
// for `backup verify` and `restore`: an archive that is missing or refused
// (damaged, cut short, not an archive, a wrong passphrase) is bad input, 2;
// failing to read or unpack a sound one is a failure, 1.
func archiveError(err error) error {
	if archive.Refused(err) || errors.Is(err, fs.ErrNotExist) {
		return withCode(ExitUsage, err)
	}
	return withCode(ExitFailed, err)
}

func newBackupVerifyCmd(a *app) *cobra.Command {
	var passFile, repoFlag string
	cmd := &cobra.Command{
		Use:   "verify [FILE]",
		Short: "Check a backup, or without FILE the whole repository, completely (every byte authenticated) without restoring it",
		Long: `With FILE, authenticate that backup archive. Without it, check the backup
repository: every base backup authenticated whole, every archived WAL file
authenticated, and the WAL chain continuous from the oldest base backup's
start to the newest segment; missing and damaged segments are named and the
exit status is 1.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError("backup verify takes at most one backup file")
			}
			if len(args) == 1 && repoFlag != "" {
				return usageError("backup verify takes a backup file or --repository, not both")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			pass, err := backupPassphrase(a, passFile, false)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				repo, err := repositoryDir(a, repoFlag)
				if err != nil {
					return err
				}
				doc, err := verifyRepository(repo, pass)
				if err != nil {
					return err
				}
				return printRepositoryVerify(a, doc)
			}
			f, err := os.Open(args[0])
			if err != nil {
				return withCode(ExitUsage, err)
			}
			defer f.Close()
			info, err := archive.Verify(f, pass)
			if err != nil {
				return archiveError(fmt.Errorf("%s is not a sound backup: %w", args[0], err))
			}
			p := a.printer()
			if p.json() {
				return p.record(typeBackupVerify, newVerifyDoc(args[0], info))
			}
			fmt.Fprintf(a.io.Out, "%s %s: format %d, made %s by %s, %d chunks authenticated, labels %v\n", p.ok.Render("OK"), args[0], info.Version,
				info.Metadata.Created.Format(time.RFC3339), info.Metadata.InstallerVersion, info.Chunks, info.Metadata.Labels)
			return nil
		},
	}
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "`FILE` holding the backup passphrase, one line (mode 0600)")
	cmd.Flags().StringVar(&repoFlag, "repository", "", "backup repository `DIR` to verify (default: the one the installation's answers name)")
	return cmd
}

func newRestoreCmd(a *app) *cobra.Command {
	var passFile, repoFlag, toTime string
	var yes, toLatest bool
	var accept []string
	var co custodyOptions
	cmd := &cobra.Command{
		Use:   "restore FILE | --to-time TIME | --to-latest",
		Short: "Restore a backup: verify it all, then put the installation back and validate it",
		Long: `Restore a backup into the install dir given by --dir (this host's, or a
fresh one). The whole archive is authenticated before anything is touched.
Then the stack is stopped, the install dir is replaced (the old one is kept
beside it, renamed), Vault's storage and the databases are restored, Vault
is unsealed with the backup's key shares, and the checklist runs.

Before the current installation is touched, every image is checked against
the backup's image record (missing images are pulled, or loaded from the
answers' images bundle): a different image stops the restore with exit 4
unless --accept-image-change SERVICE accepts it.

With --to-time or --to-latest the restore comes from the backup repository
(--repository, by default the one the installation's answers name; on a
fresh host, the copied repository): the newest base backup finished at or
before the time is authenticated and every archived WAL segment from its
start to the time is checked before anything is touched, then PostgreSQL
replays the WAL to that moment and is promoted. A time outside the
repository's window is refused with the window named (exit 2).`,
		Example: `  fineract-installer restore --to-time 2026-12-04T14:05:00Z --passphrase-file /root/backup.pass --yes
  fineract-installer restore --to-latest --repository /mnt/copy/repository --passphrase-file /root/backup.pass`,
		Args: func(cmd *cobra.Command, args []string) error {
			pitr := toTime != "" || toLatest
			switch {
			case toTime != "" && toLatest:
				return usageError("restore takes --to-time or --to-latest, not both")
			case pitr && len(args) != 0:
				return usageError("restore takes a backup file or --to-time/--to-latest, not both")
			case !pitr && repoFlag != "":
				return usageError("--repository goes with --to-time or --to-latest")
			case !pitr && len(args) != 1:
				return usageError("restore takes one backup file, or --to-time TIME or --to-latest")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var target time.Time
			if toTime != "" {
				t, err := time.Parse(time.RFC3339Nano, toTime)
				if err != nil {
					return usageError("--to-time %q is not an RFC 3339 time such as 2026-12-04T14:05:00Z", toTime)
				}
				target = t.UTC()
			}
			var repo string
			if toTime != "" || toLatest {
				var err error
				if repo, err = repositoryDir(a, repoFlag); err != nil {
					return err
				}
			}
			pass, err := backupPassphrase(a, passFile, false)
			if err != nil {
				return err
			}
			// The lock lives beside the install dir, so it can be taken when
			// the directory does not exist yet and it holds while restore
			// swaps the directory: no other command runs meanwhile.
			unlock, err := lockInstallation(a)
			if err != nil {
				return err
			}
			defer unlock()
			if err := installdir.Claimable(a.dir); err != nil {
				return withCode(ExitUsage, err)
			}
			// The stack replaced is the one installed there.
			if _, err := a.open(); err != nil {
				return err
			}
			var rec *backup.Recovery
			var u backup.Unpacked
			if repo != "" {
				rec, err = backup.PrepareRecovery(repo, pass, target, filepath.Dir(a.dir))
				if err != nil {
					return recoveryError(err)
				}
				u = rec.Backup
			} else if u, err = backup.Unpack(args[0], pass, filepath.Dir(a.dir)); err != nil {
				return archiveError(err)
			}
			defer u.Remove()
			ans, err := u.Answers()
			if err != nil {
				return err
			}
			ans.InstallDir = a.dir
			if rec != nil && ans.Backup.RepositoryDir(a.dir) != repo {
				// The restored installation archives into the repository it
				// was restored from, which PostgreSQL reads the WAL from.
				ans.Backup.Repository = repo
			}
			e, err := a.engine(ctx)
			if err != nil {
				return err
			}
			defer e.Close()
			env, err := install.NewEnv(ans, a.project, a.dir, installdir.SecretsDir(a.project), e)
			if err != nil {
				return err
			}
			if err := acceptImageChanges(env, accept); err != nil {
				return err
			}
			if !yes {
				if !a.io.CanPrompt() {
					return usageError("restore replaces the installation in %s: pass --yes to confirm when not running in a terminal", a.dir)
				}
				from := "the backup from " + u.Info.Metadata.Created.Format(time.RFC3339)
				if rec != nil {
					from = "the repository's state at " + pointInTime(target)
				}
				fmt.Fprintf(a.io.Out, "Replace the installation in %s (project %s) with %s? Type the project name: ", a.dir, a.project, from)
				answer, err := a.io.ReadLine()
				if err != nil || strings.TrimSpace(answer) != a.project {
					return usageError("not confirmed; nothing was changed")
				}
			}
			// The custody must be read from the restored install dir: the
			// demo custody file comes back with it.
			custody, err := custodyFor(a, env, co)
			if err != nil {
				return err
			}
			var checklist []validate.Result
			r := &backup.Restoration{Env: env, Backup: u, Custody: custody, Recovery: rec, Results: func(rs []validate.Result) { checklist = rs }}
			defer r.Close()
			if err := runDay2(ctx, a, "restore", a.dir, r.Plan()); err != nil {
				return err
			}
			if err := steps.AdoptCommandState(a.dir, "restore"); err != nil {
				return err
			}
			p := a.printer()
			if err := p.checklist(checklist); err != nil {
				return err
			}
			if !p.json() {
				fmt.Fprintln(a.io.Out, p.ok.Render("Restored."))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&passFile, "passphrase-file", "", "`FILE` holding the backup passphrase, one line (mode 0600)")
	f.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	f.StringArrayVar(&accept, "accept-image-change", nil, "accept that this `SERVICE`'s image differs from the one the backup recorded (repeatable)")
	f.StringVar(&co.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase of the backed-up installation (mode 0600)")
	f.StringVar(&co.keysFile, "unseal-keys-file", "", "`FILE` with the unseal key shares of the backed-up installation, one per line (mode 0600)")
	f.StringVar(&toTime, "to-time", "", "restore PostgreSQL as it was at `TIME` (RFC 3339) from the backup repository")
	f.BoolVar(&toLatest, "to-latest", false, "restore from the backup repository, replaying every archived WAL segment")
	f.StringVar(&repoFlag, "repository", "", "backup repository `DIR` for --to-time/--to-latest (default: the one the installation's answers name)")
	return cmd
}

// pointInTime names a restore target for people.
func pointInTime(t time.Time) string {
	if t.IsZero() {
		return "the latest archived WAL"
	}
	return t.Format(time.RFC3339Nano)
}

// recoveryError gives a refused point-in-time restore its exit code: a
// target outside the window, a gap or damage in the WAL, or a base backup
// that does not authenticate is bad input, 2; nothing was changed.
func recoveryError(err error) error {
	var outside *backup.ErrOutsideWindow
	var gap *backup.ChainError
	switch {
	case errors.As(err, &outside):
		return usageHint(fmt.Errorf("%w; nothing was changed", err), "choose a time inside the window (`fineract-installer backup list` shows it), or --to-latest")
	case errors.As(err, &gap):
		return usageHint(fmt.Errorf("%w; nothing was changed", err), "choose an earlier time, or run `fineract-installer backup verify` to see every problem in the repository")
	}
	return archiveError(err)
}
