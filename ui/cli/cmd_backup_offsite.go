package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/backup/offsite"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// maxCredentialFileBytes bounds a key file: one key and a newline.
const maxCredentialFileBytes = 4 << 10

func newBackupOffsiteCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "offsite",
		Short: "Copy the backup repository to an S3-compatible store off this host",
		Long: `The backup repository (base backups and archived WAL) is mirrored to the
S3-compatible store named in the answers (backup.offsite.s3). Every object
is read back and compared by SHA-256 before it counts; last-copy.json in
the store, written last, says when the last complete copy ended. Nothing
in the local repository is ever changed or deleted by a copy.`,
		Args: noArgs,
	}
	cmd.AddCommand(newBackupOffsiteSetCredentialsCmd(a), newBackupOffsiteCopyCmd(a))
	return cmd
}

func newBackupOffsiteSetCredentialsCmd(a *app) *cobra.Command {
	var accessFile, secretFile string
	var co custodyOptions
	cmd := &cobra.Command{
		Use:   "set-credentials",
		Short: "Keep the off-host store's access key and secret key in Vault",
		Long: `Store the off-host store's access key and secret key in Vault
(banking/installer/offsite-s3), and make a token that can read them and
nothing else, kept root-only in the install dir, so copies need neither
the key holders nor any other secret. Run it again to change the keys; the
old token is revoked. It needs Vault unsealed and the key holders' shares
(the demo custody passphrase, or the shares typed or in a file).`,
		Example: `  fineract-installer backup offsite set-credentials --access-key-file /root/s3.access --secret-key-file /root/s3.secret`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBackupOffsiteSetCredentials(cmd.Context(), a, accessFile, secretFile, co)
		},
	}
	f := cmd.Flags()
	f.StringVar(&accessFile, "access-key-file", "", "`FILE` holding the store's access key, one line (mode 0600)")
	f.StringVar(&secretFile, "secret-key-file", "", "`FILE` holding the store's secret key, one line (mode 0600)")
	f.StringVar(&co.passphraseFile, "unseal-passphrase-file", "", "`FILE` holding the demo custody passphrase (mode 0600)")
	f.StringVar(&co.keysFile, "unseal-keys-file", "", "`FILE` with unseal key shares, one per line (mode 0600)")
	return cmd
}

// readCredentialFile reads one key from a secret file (the file rules of
// package passphrase): one line, no blanks inside.
func readCredentialFile(flag, path string) (string, error) {
	if path == "" {
		return "", usageError("%s is required: a file only its owner can read, holding the key on one line", flag)
	}
	data, err := passphrase.ReadFile(path, maxCredentialFileBytes)
	if err != nil {
		return "", withCode(ExitUsage, fmt.Errorf("%s: %w", flag, err))
	}
	defer clear(data)
	key := string(bytes.TrimSpace(data))
	if key == "" || bytes.ContainsAny([]byte(key), " \t\r\n") {
		return "", usageError("%s %s must hold the key alone, on one line", flag, path)
	}
	return key, nil
}

func runBackupOffsiteSetCredentials(ctx context.Context, a *app, accessFile, secretFile string, co custodyOptions) error {
	access, err := readCredentialFile("--access-key-file", accessFile)
	if err != nil {
		return err
	}
	secret, err := readCredentialFile("--secret-key-file", secretFile)
	if err != nil {
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
	custody, err := custodyFor(a, env, co)
	if err != nil {
		return err
	}
	conn, err := env.VaultConn()
	if err != nil {
		return withCode(ExitFailed, err)
	}
	plan := (&steps.Plan{}).Then(offsite.CredentialsStep{Vault: conn, Shares: custody.Shares, TokenFile: env.OffsiteTokenFile(),
		Access: offsite.Credentials{AccessKey: access, SecretKey: secret}})
	if err := runDay2(ctx, a, "backup offsite set-credentials", a.dir, plan); err != nil {
		return err
	}
	if !a.printer().json() {
		fmt.Fprintf(a.io.Out, "%s the off-host store's credentials are in Vault; copies read them with %s\n", a.printer().ok.Render("Stored:"), env.OffsiteTokenFile())
	}
	return nil
}

// offsiteCopyDoc is `backup offsite copy -o json`.
type offsiteCopyDoc struct {
	Location      string    `json:"location"`
	Time          time.Time `json:"time"`
	Objects       int       `json:"objects"`
	Bytes         int64     `json:"bytes"`
	Uploaded      int       `json:"uploaded"`
	UploadedBytes int64     `json:"uploaded_bytes"`
}

func newBackupOffsiteCopyCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "copy",
		Short: "Copy what the off-host store lacks of the backup repository, and verify it",
		Long: `Send every base backup and archived WAL file the store lacks, or holds
differently, read each back and compare it by SHA-256, then write
last-copy.json. When the store cannot be reached, the cause is reported,
the local repository stays as it is, and the next copy catches up.
` + "`backup`" + ` runs a copy at its end when backup.offsite.s3 is configured.`,
		Example: `  fineract-installer backup offsite copy
  fineract-installer backup offsite copy -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, done, err := installedEnv(cmd.Context(), a)
			if err != nil {
				return err
			}
			defer done()
			return runOffsiteCopy(cmd.Context(), a, env)
		},
	}
}

// runOffsiteCopy copies env's repository to its off-host store and says
// what it did; backup calls it at its end.
func runOffsiteCopy(ctx context.Context, a *app, env *install.Env) error {
	if env.Answers.Backup.Offsite.S3 == nil {
		return usageError("%v; add it to the answers and run `fineract-installer install` with them", offsite.ErrNotConfigured)
	}
	st, err := connectOffsite(ctx, env)
	if err != nil {
		return err
	}
	p := a.printer()
	emit := p.emitter("offsite")
	res, err := offsite.CopyRepository(ctx, env.Answers.Backup.RepositoryDir(env.Dir), st, func(key string, size int64) {
		emit.Info("offsite", fmt.Sprintf("sent and verified %s (%d bytes)", key, size))
	})
	if err != nil {
		return withCode(ExitFailed, err)
	}
	doc := offsiteCopyDoc{Location: st.Location(), Time: res.Time, Objects: res.Objects, Bytes: res.Bytes, Uploaded: res.Uploaded, UploadedBytes: res.UploadedBytes}
	if p.json() {
		return p.record(typeBackupOffsite, doc)
	}
	fmt.Fprintf(a.io.Out, "%s %s holds %d objects (%d bytes), every one verified; this copy sent %d (%d bytes)\n",
		p.ok.Render("Copied:"), doc.Location, doc.Objects, doc.Bytes, doc.Uploaded, doc.UploadedBytes)
	return nil
}

// connectOffsite reaches env's off-host store with the credentials in
// Vault.
func connectOffsite(ctx context.Context, env *install.Env) (*offsite.Store, error) {
	ca, err := os.ReadFile(filepath.Join(env.PKIDir(), "ca.crt"))
	if err != nil {
		return nil, withCode(ExitFailed, fmt.Errorf("read the installation's CA: %w", err))
	}
	conn, err := env.VaultConn()
	if err != nil {
		return nil, withCode(ExitFailed, err)
	}
	st, err := offsite.Connect(ctx, offsite.Installation{Answers: env.Answers, Project: env.Project, CA: ca,
		TokenFile: env.OffsiteTokenFile(), Vault: conn})
	if errors.Is(err, offsite.ErrNotConfigured) {
		return nil, withCode(ExitUsage, err)
	}
	if err != nil {
		return nil, withCode(ExitFailed, err)
	}
	return st, nil
}
