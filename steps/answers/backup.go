package answers

import (
	"path/filepath"
	"strings"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// Backup is how the installation is backed up: continuous WAL archiving
// into a repository on this host, and how long base backups are kept.
type Backup struct {
	// WALArchiving turns on continuous WAL archiving (production default
	// true, demo default false).
	WALArchiving bool `yaml:"wal_archiving"`
	// ArchiveTimeout: a segment is closed at least this often, even when
	// the database is quiet (PostgreSQL's archive_timeout). A duration as
	// Go parses it ("5m"), 30s to 1h.
	ArchiveTimeout string `yaml:"archive_timeout,omitempty"`
	// RPO: validate warns when the newest archived segment is older.
	// At least ArchiveTimeout.
	RPO string `yaml:"rpo,omitempty"`
	// Repository is the host directory of the backup repository; empty
	// means INSTALL_DIR/backups/repository.
	Repository string `yaml:"repository,omitempty"`
	// KeepBase and KeepDays: retention of base backups by count and by age.
	KeepBase int `yaml:"keep_base,omitempty"`
	KeepDays int `yaml:"keep_days,omitempty"`
	// Offsite is an optional mirror of the repository off the host.
	Offsite Offsite `yaml:"offsite,omitempty"`
}

// Backup defaults. Five minutes is the RPO the production profile promises:
// archive_timeout closes a segment at least that often, so a lost disk
// loses at most that much committed work.
const (
	DefaultArchiveTimeout = 5 * time.Minute
	DefaultRPO            = 5 * time.Minute
	DefaultKeepBase       = 7
	DefaultKeepDays       = 14
	MinArchiveTimeout     = 30 * time.Second
	MaxArchiveTimeout     = time.Hour
)

func defaultBackup(p Profile) Backup {
	return Backup{
		WALArchiving:   p == Production,
		ArchiveTimeout: DefaultArchiveTimeout.String(),
		RPO:            DefaultRPO.String(),
		KeepBase:       DefaultKeepBase,
		KeepDays:       DefaultKeepDays,
	}
}

// ArchiveTimeoutDuration is ArchiveTimeout, or its default when empty or
// not valid (Validate refuses the latter).
func (b Backup) ArchiveTimeoutDuration() time.Duration {
	return durationOr(b.ArchiveTimeout, DefaultArchiveTimeout)
}

// RPODuration is RPO, or its default when empty or not valid.
func (b Backup) RPODuration() time.Duration { return durationOr(b.RPO, DefaultRPO) }

// RepositoryDir is the repository's host directory.
func (b Backup) RepositoryDir(installDir string) string {
	if b.Repository != "" {
		return b.Repository
	}
	return filepath.Join(installation.New(installDir, "").BackupsDir(), "repository")
}

// KeepBaseOrDefault is KeepBase, or its default when unset.
func (b Backup) KeepBaseOrDefault() int {
	if b.KeepBase > 0 {
		return b.KeepBase
	}
	return DefaultKeepBase
}

// KeepDaysOrDefault is KeepDays, or its default when unset.
func (b Backup) KeepDaysOrDefault() int {
	if b.KeepDays > 0 {
		return b.KeepDays
	}
	return DefaultKeepDays
}

func durationOr(s string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d
	}
	return def
}

func (a Answers) validateBackup(ps *problems) {
	b := a.Backup
	timeout, timeoutOK := DefaultArchiveTimeout, true
	if b.ArchiveTimeout != "" {
		d, err := time.ParseDuration(b.ArchiveTimeout)
		switch {
		case err != nil:
			ps.add("backup.archive_timeout", "backup.archive_timeout %q is not a duration; write it like 5m or 90s", b.ArchiveTimeout)
			timeoutOK = false
		case d < MinArchiveTimeout || d > MaxArchiveTimeout || d%time.Second != 0:
			ps.add("backup.archive_timeout", "backup.archive_timeout %s: give whole seconds between %s and %s (PostgreSQL closes a WAL segment at least this often; the default %s bounds the changes a lost disk costs to 5 minutes)",
				b.ArchiveTimeout, MinArchiveTimeout, MaxArchiveTimeout, DefaultArchiveTimeout)
			timeoutOK = false
		default:
			timeout = d
		}
	}
	if b.RPO != "" {
		d, err := time.ParseDuration(b.RPO)
		switch {
		case err != nil:
			ps.add("backup.rpo", "backup.rpo %q is not a duration; write it like 5m or 1h", b.RPO)
		case timeoutOK && d < timeout:
			ps.add("backup.rpo", "backup.rpo %s is shorter than backup.archive_timeout %s: a quiet database only closes a segment every archive_timeout, so validate would warn all the time; raise rpo or lower archive_timeout", b.RPO, timeout)
		}
	}
	if r := b.Repository; r != "" {
		switch {
		case !filepath.IsAbs(r):
			ps.add("backup.repository", "backup.repository %q must be an absolute path (leave it out for INSTALL_DIR/backups/repository)", r)
		case filepath.Clean(r) != r || r == "/":
			ps.add("backup.repository", "backup.repository %q: write the directory without ., .., a trailing slash or doubled slashes, and not /", r)
		case strings.ContainsAny(r, ":,\n\r\t\x00"):
			ps.add("backup.repository", "backup.repository %q holds a character (: , or a control character) a bind mount cannot carry; choose another directory", r)
		}
	}
	if b.KeepBase < 1 {
		ps.add("backup.keep_base", "backup.keep_base %d: keep at least 1 base backup (the default is %d)", b.KeepBase, DefaultKeepBase)
	}
	if b.KeepDays < 1 {
		ps.add("backup.keep_days", "backup.keep_days %d: keep base backups at least 1 day (the default is %d)", b.KeepDays, DefaultKeepDays)
	}
	b.Offsite.validate(ps, a.Profile, "backup.offsite")
}
