package assets

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// PostgreSQL archives WAL, and gets the repository, the binary and the key
// for it, exactly when the answers switch archiving on: production by
// default, demo not, and either profile as the answers say.
func TestWALArchivingSettingsFollowTheAnswers(t *testing.T) {
	demoOn := answers.Defaults(answers.Demo)
	demoOn.Backup.WALArchiving, demoOn.Backup.ArchiveTimeout = true, "90s"
	demoOn.Backup.Repository = "/srv/bank-repo"
	prodOff := answers.Defaults(answers.Production)
	prodOff.Backup.WALArchiving = false
	for _, c := range []struct {
		name    string
		a       answers.Answers
		on      bool
		timeout string
		repo    string
	}{
		{"production default", answers.Defaults(answers.Production), true, "archive_timeout = 300\n", "backups/repository/wal"},
		{"demo default", answers.Defaults(answers.Demo), false, "", ""},
		{"demo with archiving", demoOn, true, "archive_timeout = 90\n", "/srv/bank-repo/wal"},
		{"production without archiving", prodOff, false, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := mustRender(t, c.a)
			conf := fileText(t, b, "config/postgres/postgresql.conf")
			hba := fileText(t, b, "config/postgres/pg_hba.conf")
			settings := []string{"wal_level = replica\n", "archive_mode = on\n",
				"archive_command = '/usr/local/libexec/fineract-installer/fineract-installer wal-push --repo /var/lib/fineract-wal --key-file /run/secrets/wal_archive_key %p %f'\n"}
			if c.on {
				settings = append(settings, c.timeout)
			} else {
				settings = append(settings, "archive_timeout")
			}
			for _, s := range settings {
				if strings.Contains(conf, s) != c.on {
					t.Errorf("postgresql.conf has %q: %v, want %v", s, !c.on, c.on)
				}
			}
			if strings.Contains(hba, "local    replication                        postgres                             peer") != c.on {
				t.Errorf("pg_hba.conf replication line present: %v, want %v", !c.on, c.on)
			}
			var keyDelivered bool
			for _, s := range b.Services {
				for _, n := range s.Secrets {
					if n.File == WALKeyFile {
						keyDelivered = s.Name == "postgres" && n.VaultPath == "banking/installer/wal-archive" && n.Key == "key"
					}
				}
			}
			if keyDelivered != c.on {
				t.Errorf("WAL key delivered to postgres: %v, want %v", keyDelivered, c.on)
			}
			p, dir := loadBundle(t, b)
			pg := p.Services["postgres"]
			mounts := map[string]types.ServiceVolumeConfig{}
			for _, v := range pg.Volumes {
				mounts[v.Target] = v
			}
			repo, hasRepo := mounts[WALRepoMount]
			bin, hasBin := mounts[LibexecMount]
			if hasRepo != c.on || hasBin != c.on {
				t.Fatalf("postgres mounts the repository: %v, the installer: %v; want %v", hasRepo, hasBin, c.on)
			}
			if !c.on {
				return
			}
			want := c.repo
			if !filepath.IsAbs(want) {
				want = filepath.Join(dir, want)
			}
			if repo.Source != want || repo.ReadOnly {
				t.Errorf("repository mount %s (read-only %v), want %s read-write", repo.Source, repo.ReadOnly, want)
			}
			if bin.Source != filepath.Join(dir, LibexecDir) || !bin.ReadOnly {
				t.Errorf("installer mount %s (read-only %v), want the libexec directory read-only", bin.Source, bin.ReadOnly)
			}
		})
	}
}
