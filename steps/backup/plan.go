package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/install"
)

// Options says what one backup run writes.
type Options struct {
	// Out is the archive to write; empty writes a new one named after the
	// time into Dir(env).
	Out        string
	Passphrase []byte
	// Custody unseals Vault after its storage was copied.
	Custody install.Custody
	// Version is the installer's, recorded in the archive.
	Version string
	// Keep is how many of the newest backups to keep in the archive's
	// directory; 0 keeps all.
	Keep int
	// Repository, when set, makes the backup a base backup written into
	// this repository (WAL archiving is on) instead of a logical dump;
	// Retention then applies to its base backups and WAL.
	Repository string
	Retention  Retention
}

// Written is what a backup run wrote.
type Written struct {
	File    string `json:"file"`
	Entries int    `json:"entries"`
	Bytes   int64  `json:"bytes"`
}

// fileSuffix ends the name of every backup archive; partialSuffix ends
// the name of one being written.
const (
	fileSuffix    = ".fib"
	partialSuffix = ".partial"
)

// Plan is a backup: the archive is written (Vault stopped for the copy of
// its storage and started again, sealed), Vault is unsealed with custody
// and its secrets checked, it is waited for until healthy, and old
// backups beyond o.Keep are removed. written receives what the archive
// step wrote.
//
// A backup interrupted or failed part-way is resumed by running it again:
// a fresh archive is written (an archive is a stream that is never
// appended to), what an interrupted run left half-written is removed
// first, and Vault is unsealed again.
func Plan(env *install.Env, o Options, written func(Written)) *steps.Plan {
	p := &steps.Plan{}
	for _, s := range Steps(env, o, written) {
		p.Then(s)
	}
	return p
}

// Steps are the steps of a backup, one after the other, for a plan that
// takes a backup before it changes anything (upgrade).
func Steps(env *install.Env, o Options, written func(Written)) []steps.Step {
	if o.Repository != "" {
		return []steps.Step{
			BaseStep{Env: env, Repository: o.Repository, Passphrase: o.Passphrase, Version: o.Version, Written: written},
			install.VaultSetupStep{Env: env, Custody: o.Custody},
			vaultReadyStep{env: env},
			RetentionStep{Repository: o.Repository, Passphrase: o.Passphrase, Retention: o.Retention},
		}
	}
	if o.Out == "" {
		o.Out = filepath.Join(Dir(env), "backup-"+time.Now().UTC().Format("20060102T150405Z")+fileSuffix)
	}
	out := []steps.Step{
		ArchiveStep{Env: env, Options: o, Written: written},
		install.VaultSetupStep{Env: env, Custody: o.Custody},
		vaultReadyStep{env: env},
	}
	if o.Keep > 0 {
		out = append(out, PruneStep{Dir: filepath.Dir(o.Out), Keep: o.Keep})
	}
	return out
}

// ArchiveStep writes the archive: into a partial file beside it, synced,
// then renamed into place, so that a file named like a backup is always a
// whole one.
type ArchiveStep struct {
	Env     *install.Env
	Options Options
	Written func(Written)
}

// ID implements steps.Step.
func (s ArchiveStep) ID() string { return "backup" }

// Title implements steps.Step.
func (s ArchiveStep) Title() string { return "Write the backup archive" }

// Check always says no: every run writes a new archive.
func (s ArchiveStep) Check(context.Context) (bool, error) { return false, nil }

// Run implements steps.Step.
func (s ArchiveStep) Run(ctx context.Context, emit steps.Emitter) error {
	out := s.Options.Out
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("make the backup directory: %w", err)
	}
	// The caller holds the installation's lock, so a partial archive in
	// its backup directory is what an interrupted run left: the bank's
	// data, encrypted, and never going to be finished.
	if err := removePartials(dir, out, dir == Dir(s.Env), emit); err != nil {
		return err
	}
	tmp := out + partialSuffix
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return steps.Fail(fmt.Errorf("create the backup file: %w", err), "choose another --out, or remove the file if it is a backup no longer wanted")
	}
	m, err := Create(ctx, s.Env, f, s.Options.Passphrase, s.Options.Version, emit)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, out)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	syncDir(dir)
	fi, err := os.Stat(out)
	if err != nil {
		return fmt.Errorf("the backup just written: %w", err)
	}
	if s.Written != nil {
		s.Written(Written{File: out, Entries: len(m.Entries), Bytes: fi.Size()})
	}
	return nil
}

// removePartials removes the partial archive of out and, in the
// installation's own backup directory (own), every partial backup-*.fib:
// a directory given with --out may be shared with other installations.
func removePartials(dir, out string, own bool, emit steps.Emitter) error {
	found := []string{out + partialSuffix}
	if own {
		more, err := filepath.Glob(filepath.Join(dir, "backup-*"+fileSuffix+partialSuffix))
		if err != nil {
			return err
		}
		found = append(found, slices.DeleteFunc(more, func(f string) bool { return f == found[0] })...)
	}
	for _, f := range found {
		fi, err := os.Lstat(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return steps.Fail(fmt.Errorf("%s is not a file this installer wrote", f), "move it out of the backup directory")
		}
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("remove the partial backup of an interrupted run: %w", err)
		}
		emit.Info(f, "removed the partial backup of an interrupted run")
	}
	return nil
}

// syncDir makes a rename in dir durable; a failure only loses that
// guarantee, so it is not reported.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// PruneStep removes the oldest backups in Dir beyond Keep.
type PruneStep struct {
	Dir  string
	Keep int
}

// ID implements steps.Step.
func (s PruneStep) ID() string { return "backup-prune" }

// Title implements steps.Step.
func (s PruneStep) Title() string { return fmt.Sprintf("Keep the newest %d backups", s.Keep) }

// Check is true when no more than Keep backups are left.
func (s PruneStep) Check(context.Context) (bool, error) {
	found, err := s.backups()
	return err == nil && len(found) <= s.Keep, err
}

// Run implements steps.Step.
func (s PruneStep) Run(_ context.Context, emit steps.Emitter) error {
	found, err := s.backups()
	if err != nil {
		return err
	}
	for len(found) > s.Keep {
		if err := os.Remove(found[0]); err != nil {
			return fmt.Errorf("remove old backup: %w", err)
		}
		emit.Info(found[0], "removed old backup")
		found = found[1:]
	}
	return nil
}

// backups lists the backups in Dir, oldest first: their names carry the
// UTC time they were made.
func (s PruneStep) backups() ([]string, error) {
	found, err := filepath.Glob(filepath.Join(s.Dir, "backup-*"+fileSuffix))
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	sort.Strings(found)
	return found, nil
}

// vaultReadyStep leaves the stack as the backup found it: Vault, started
// again and unsealed, reports healthy.
type vaultReadyStep struct{ env *install.Env }

func (s vaultReadyStep) ID() string    { return "vault-ready" }
func (s vaultReadyStep) Title() string { return "Wait until Vault is healthy" }

// Check always says no: waiting on a healthy service returns at once.
func (s vaultReadyStep) Check(context.Context) (bool, error) { return false, nil }

func (s vaultReadyStep) Run(ctx context.Context, emit steps.Emitter) error {
	if err := s.env.StartService(ctx, "vault", emit); err != nil {
		// The archive is whole and Vault unsealed: the backup did its part.
		emit.Warn("Vault is unsealed but not yet healthy: " + err.Error())
	}
	return nil
}
