package assets

import (
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// Continuous WAL archiving: PostgreSQL runs the installer's own binary as
// its archive_command (wal-push), which encrypts each WAL file into the
// backup repository's wal directory.
const (
	// WALKeyFile is the postgres service's secret file holding the WAL key.
	WALKeyFile = "wal_archive_key"
	// WALRepoMount is where the repository's wal directory is mounted,
	// read-write, in the postgres container.
	WALRepoMount = "/var/lib/fineract-wal"
	// LibexecDir is the install directory's directory holding a copy of
	// the installer binary, mounted read-only at LibexecMount. The directory
	// is mounted, not the file: compose hashes a single-file bind's content
	// into the service's configuration hash, and a new installer build
	// must not recreate PostgreSQL.
	LibexecDir   = "libexec"
	LibexecMount = "/usr/local/libexec/fineract-installer"
	// InstallerBinary is the binary's name in LibexecDir.
	InstallerBinary = "fineract-installer"
)

// WALKey is the WAL archive key: 32 random bytes (an AES-256 key the WAL
// objects' keys are derived from), base64 in Vault and in the secret file.
var WALKey = SecretNeed{VaultPath: "banking/installer/wal-archive", Key: "key",
	Generate: Generator{Length: 32, Charset: CharsetRandomBytes}, Format: FormatRaw}

// walArchiving is what the templates need to switch archiving on.
type walArchiving struct {
	On bool
	// ArchiveTimeout is PostgreSQL's archive_timeout in seconds.
	ArchiveTimeout int
	// Repository is the repository's host directory, relative to the
	// install directory ("./backups/repository") unless the answers give
	// an absolute one.
	Repository string
	// Command is PostgreSQL's archive_command.
	Command string
}

func newWALArchiving(b answers.Backup) walArchiving {
	if !b.WALArchiving {
		return walArchiving{}
	}
	repo := b.Repository
	if repo == "" {
		repo = "./backups/repository"
	}
	return walArchiving{
		On:             true,
		ArchiveTimeout: int(b.ArchiveTimeoutDuration().Seconds()),
		Repository:     repo,
		Command: LibexecMount + "/" + InstallerBinary + " wal-push --repo " + WALRepoMount +
			" --key-file /run/secrets/" + WALKeyFile + " %p %f",
	}
}
