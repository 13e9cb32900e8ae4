package cli

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps/backup/wal"
)

// ExitWALAbort is wal-fetch's exit code for every failure but a missing
// file: an object that is damaged, cut short or holds another WAL file, an
// unreadable key or repository. PostgreSQL
// treats a restore_command exit status above 125 like a signal and aborts
// recovery (src/backend/access/transam/xlogarchive.c, RestoreArchivedFile;
// wait_result_is_any_signal in src/port/wait_error.c), where exit 1 would
// mean "no such file" and end recovery early, silently short of its target.
const ExitWALAbort = 126

// walOptions are the flags wal-push and wal-fetch share.
type walOptions struct {
	repo, keyFile string
}

func (o *walOptions) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.repo, "repo", "", "WAL repository `DIR`")
	cmd.Flags().StringVar(&o.keyFile, "key-file", "", "`FILE` holding the WAL key (base64 of 32 bytes)")
}

// open checks the flags and opens the repository and the key.
func (o *walOptions) open() (*os.Root, []byte, error) {
	if o.repo == "" || o.keyFile == "" {
		return nil, nil, usageError("--repo and --key-file are required")
	}
	key, err := readWALKey(o.keyFile)
	if err != nil {
		return nil, nil, err
	}
	repo, err := os.OpenRoot(o.repo)
	if err != nil {
		return nil, nil, fmt.Errorf("opening the WAL repository: %w", err)
	}
	return repo, key, nil
}

// readWALKey reads the key file, bounded: it is a secret file of a few
// dozen bytes.
func readWALKey(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, usageError("reading the WAL key: %v", err)
	}
	defer f.Close()
	text, err := io.ReadAll(io.LimitReader(f, 4096))
	if err != nil {
		return nil, usageError("reading the WAL key %s: %v", path, err)
	}
	key, err := wal.ParseKey(text)
	if err != nil {
		return nil, usageError("%s: %v (the installer writes it from Vault's banking/installer/wal-archive)", path, err)
	}
	return key, nil
}

// newWALPushCmd is PostgreSQL's archive_command: wal-push ... %p %f.
func newWALPushCmd(a *app) *cobra.Command {
	var o walOptions
	cmd := &cobra.Command{
		Use:    "wal-push --repo DIR --key-file FILE PATH NAME",
		Short:  "Archive one WAL file (PostgreSQL's archive_command)",
		Hidden: true,
		Args:   walArgs("wal-push", "PATH (%p) and NAME (%f)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			repo, key, err := o.open()
			if err != nil {
				return err
			}
			defer repo.Close()
			src, err := os.Open(args[0])
			if err != nil {
				return fmt.Errorf("wal-push: %w", err)
			}
			defer src.Close()
			if err := wal.Push(cmd.Context(), repo, key, src, args[1], a.now()); err != nil {
				return fmt.Errorf("wal-push %s: %w", args[1], err)
			}
			return nil
		},
	}
	o.flags(cmd)
	return cmd
}

// newWALFetchCmd is PostgreSQL's restore_command: wal-fetch ... %f %p.
// It exits 1 when the repository has no such file, as restore_command must.
func newWALFetchCmd(a *app) *cobra.Command {
	var o walOptions
	cmd := &cobra.Command{
		Use:    "wal-fetch --repo DIR --key-file FILE NAME PATH",
		Short:  "Restore one archived WAL file (PostgreSQL's restore_command)",
		Hidden: true,
		Args:   walArgs("wal-fetch", "NAME (%f) and PATH (%p)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			err := o.fetch(args[0], args[1])
			if err != nil && !errors.Is(err, wal.ErrNotFound) {
				return withCode(ExitWALAbort, fmt.Errorf("%w; recovery stops here rather than end early", err))
			}
			return err
		},
	}
	o.flags(cmd)
	return cmd
}

func (o *walOptions) fetch(name, dst string) error {
	repo, key, err := o.open()
	if err != nil {
		return err
	}
	defer repo.Close()
	return fetchWAL(repo, key, name, dst)
}

// fetchWAL decrypts name into a temporary file next to dst and renames it
// into place only once the whole object has authenticated, so PostgreSQL
// never reads a partial or unauthenticated WAL file.
func fetchWAL(repo *os.Root, key []byte, name, dst string) error {
	var suffix [8]byte
	rand.Read(suffix[:])
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".fetch-"+hex.EncodeToString(suffix[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if err != nil {
		return fmt.Errorf("wal-fetch: %w", err)
	}
	defer os.Remove(tmp)
	_, err = wal.Fetch(repo, key, name, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("wal-fetch: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("wal-fetch: %w", err)
	}
	return nil
}

func walArgs(cmd, want string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 2 {
			return usageError("%s takes %s, got %d arguments", cmd, want, len(args))
		}
		return nil
	}
}
