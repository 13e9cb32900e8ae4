// Package installation is the handle of one installation: its directory,
// its compose project name, and every name derived from them. Files,
// directories, containers and volumes of an installation are named here
// and nowhere else, so a reader finds them in one place and a rename
// cannot miss a copy.
package installation

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// Installation is one installation: the directory holding its
// certificates, rendered configuration and state, and the compose project
// its containers, networks and volumes belong to.
//
// A handle with an empty Dir names paths relative to the install dir, as
// a backup archive stores them.
type Installation struct {
	Dir     string
	Project string
}

// Relative is the handle whose names are relative to the install dir, as
// a rendered bundle, a backup archive and messages to people name them.
func Relative() *Installation { return &Installation{} }

// New is the handle of an installation being made in dir under project.
func New(dir, project string) *Installation {
	return &Installation{Dir: dir, Project: project}
}

// Open is the handle of the installation in dir, with the project name its
// state file records. A dir that does not exist, or where no run has
// recorded a project yet, gives a handle with an empty Project: the caller
// names it (the --project flag). A dir that exists but was not made by the
// installer gives installdir.ErrNotInstallDir, so no command reads or
// touches someone else's files. The recorded name is checked as --project
// is: it becomes part of host paths and container names.
func Open(dir string) (*Installation, error) {
	inst := New(dir, "")
	ok, err := installdir.Exists(dir)
	if err != nil || !ok {
		return inst, err
	}
	project, err := recordedProject(inst.StateFile())
	if err != nil {
		return nil, err
	}
	inst.Project = project
	return inst, nil
}

// maxStateSize bounds what Open reads of a state file: the file lives in
// a directory others may have written, and a real one is a few kilobytes.
const maxStateSize = 1 << 20

// recordedProject reads the project name the state file records; a
// missing file records none.
func recordedProject(path string) (string, error) {
	// Never through a link, and never blocking on a FIFO left in its place.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the installation's state %s: %w; move it aside to start over", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return "", fmt.Errorf("read the installation's state %s: not a regular file; move it aside to start over", path)
	}
	var st struct {
		Project string `json:"project"`
	}
	data, err := io.ReadAll(io.LimitReader(f, maxStateSize+1))
	if err != nil {
		return "", fmt.Errorf("read the installation's state %s: %w", path, err)
	}
	if len(data) > maxStateSize {
		return "", fmt.Errorf("read the installation's state %s: larger than %d bytes; move the file aside to start over", path, maxStateSize)
	}
	if err := json.Unmarshal(data, &st); err != nil {
		return "", fmt.Errorf("read the installation's state %s: %w (move the file aside to start over)", path, err)
	}
	if st.Project != "" {
		if err := compose.CheckProjectName(st.Project); err != nil {
			return "", fmt.Errorf("the installation's state %s records project %q: %w", path, st.Project, err)
		}
	}
	return st.Project, nil
}

// Names of the files and directories in the install dir.
const (
	answersFile         = "answers.yaml"
	stateFile           = "state.json"
	composeFile         = "compose.yaml"
	imageRecordFile     = "images.json"
	upgradeFile         = "upgrade.json"
	frontDoorFile       = "frontdoor.json"
	pkiDir              = "pki"
	backupsDir          = "backups"
	vaultDir            = "vault"
	vaultRecordFile     = "record.json"
	custodyFile         = "unseal-keys.enc"
	encryptedSharesFile = "encrypted-shares.txt"
	auditLogFile        = "audit.jsonl"
	auditHeadTokenFile  = "audit-head-token"
	offsiteTokenFile    = "offsite-token"
)

// AnswersFile is the copy of the answers the installation was made from.
func (i *Installation) AnswersFile() string { return filepath.Join(i.Dir, answersFile) }

// StateFile records the progress of the last run, for status and resume.
func (i *Installation) StateFile() string { return filepath.Join(i.Dir, stateFile) }

// CommandStateFile records the last run of a day-2 command (backup,
// restore, unseal, certs rotate, uninstall) apart from StateFile, so that
// it never disturbs the install's record.
func (i *Installation) CommandStateFile(command string) string {
	return filepath.Join(i.Dir, "state-"+strings.ReplaceAll(command, " ", "-")+".json")
}

// AuditLogFile is the append-only, hash-chained record of every command
// that changed the installation (package audit).
func (i *Installation) AuditLogFile() string { return filepath.Join(i.Dir, auditLogFile) }

// AuditHeadTokenFile holds the Vault token that may only add versions
// of the audit log's head in Vault (package vault, AuditHeadPolicy);
// readable by root alone.
func (i *Installation) AuditHeadTokenFile() string {
	return filepath.Join(i.VaultDir(), auditHeadTokenFile)
}

// OffsiteTokenFile holds the Vault token that may only read the off-host
// store's credentials (package vault, OffsiteReadPolicy); readable by root
// alone.
func (i *Installation) OffsiteTokenFile() string {
	return filepath.Join(i.VaultDir(), offsiteTokenFile)
}

// ComposeFile is the rendered compose file.
func (i *Installation) ComposeFile() string { return filepath.Join(i.Dir, composeFile) }

// ImageRecordFile records the image ID each service was installed with;
// later runs start only those images.
func (i *Installation) ImageRecordFile() string { return filepath.Join(i.Dir, imageRecordFile) }

// UpgradeFile records an upgrade under way: the stack version it moves to
// and the verified backup it took, so that a rerun after an interruption
// can roll back. It is removed when the upgrade or its rollback finishes.
func (i *Installation) UpgradeFile() string { return filepath.Join(i.Dir, upgradeFile) }

// FrontDoorFile records what the front-door step did (built-in users'
// passwords replaced), so a rerun does not do it twice.
func (i *Installation) FrontDoorFile() string { return filepath.Join(i.Dir, frontDoorFile) }

// PKIDir holds the CA and every service certificate.
func (i *Installation) PKIDir() string { return filepath.Join(i.Dir, pkiDir) }

// BackupsDir holds the installation's backup archives.
func (i *Installation) BackupsDir() string { return filepath.Join(i.Dir, backupsDir) }

// VaultDir holds the installer's Vault files: its record and key custody.
func (i *Installation) VaultDir() string { return filepath.Join(i.Dir, vaultDir) }

// VaultRecordFile is the installer's record of the Vault it initialised.
func (i *Installation) VaultRecordFile() string { return filepath.Join(i.VaultDir(), vaultRecordFile) }

// CustodyFile holds the unseal keys encrypted with a passphrase (demo
// custody).
func (i *Installation) CustodyFile() string { return filepath.Join(i.VaultDir(), custodyFile) }

// EncryptedSharesFile holds the unseal key shares encrypted to the
// custodians' PGP keys.
func (i *Installation) EncryptedSharesFile() string {
	return filepath.Join(i.VaultDir(), encryptedSharesFile)
}

// legacyLockFile is the lock file releases before LockFile kept inside the
// install dir; backups leave it out.
const legacyLockFile = ".lock"

// LegacyLockFile is the lock file earlier releases kept in the install dir.
func (i *Installation) LegacyLockFile() string { return filepath.Join(i.Dir, legacyLockFile) }

// Handout names a file the front door leaves people their passwords in.
type Handout int

// The handouts: the built-in users' first passwords, and the tenants'.
const (
	InitialCredentials Handout = iota
	TenantCredentials
)

// Handouts lists every handout.
func Handouts() []Handout { return []Handout{InitialCredentials, TenantCredentials} }

// HandoutFile is where the passwords of handout h are left in clear (no
// terminal to show them on, no PGP key), or, with pgp, encrypted to
// credentials.pgp_key.
func (i *Installation) HandoutFile(h Handout, pgp bool) string {
	name := "initial-credentials"
	if h == TenantCredentials {
		name = "tenant-credentials"
	}
	if pgp {
		return filepath.Join(i.Dir, name+".asc")
	}
	return filepath.Join(i.Dir, name+".txt")
}

// LockFile is the lock of the install dir. It lives beside the directory,
// not in it: so it can be taken before the directory exists or is known
// to be an installation's (nothing is written into a directory that may be
// someone else's), and it keeps protecting the installation while restore
// swaps the directory itself aside.
func (i *Installation) LockFile() (string, error) {
	abs, err := filepath.Abs(i.Dir)
	if err != nil {
		return "", fmt.Errorf("lock install dir: %w", err)
	}
	if abs == "/" {
		return "", errors.New("lock install dir: the filesystem root cannot be an install dir")
	}
	return filepath.Join(filepath.Dir(abs), "."+filepath.Base(abs)+".lock"), nil
}

// SecretsDir is where the services' secrets are materialised from Vault
// (a tmpfs under /run).
func (i *Installation) SecretsDir() string { return installdir.SecretsDir(i.Project) }

// Container is the name of a service's container, as the engine and
// docker compose name the first replica: PROJECT-SERVICE-1.
func (i *Installation) Container(service string) string {
	return compose.ContainerName(i.Project, service)
}

// Volume is the engine's name of one of the project's named volumes, as
// docker compose names it: PROJECT_NAME.
func (i *Installation) Volume(name string) string { return i.Project + "_" + name }

// NetworkRoles are the roles of the installation's networks, in the order
// they are declared: the answers name a network and a subnet for each.
func NetworkRoles() []string { return []string{"dmz", "app", "data", "monitoring"} }
