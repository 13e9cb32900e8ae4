package validate

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/backup/offsite"
)

// backup-offsite-age against a real S3 server: no copy yet warns, a fresh
// copy passes, one older than the RPO warns, and a store that cannot be
// reached fails with the cause.
func TestOffsiteAge(t *testing.T) {
	s := labtest.S3(t)
	st, err := offsite.Open(offsite.Config{
		Target:      answers.S3Target{Endpoint: s.Endpoint, Bucket: s.Bucket},
		Prefix:      "bank",
		Roots:       s.Roots,
		Credentials: offsite.Credentials{AccessKey: s.AccessKey, SecretKey: s.SecretKey},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rpo := 5 * time.Minute
	if f := offsiteAge(ctx, st, rpo, time.Now()); f.Status != Warn || !strings.Contains(f.Evidence, "no complete copy") || f.Fix == "" {
		t.Fatalf("before any copy: %+v", f)
	}

	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, "wal"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "wal", "000000010000000000000001.fiwal"), []byte("segment"), 0o600); err != nil {
		t.Fatal(err)
	}
	res, err := offsite.CopyRepository(ctx, repo, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if f := offsiteAge(ctx, st, rpo, res.Time.Add(time.Minute)); f.Status != Pass || !strings.Contains(f.Evidence, "1 objects") {
		t.Fatalf("a copy a minute old: %+v", f)
	}
	if f := offsiteAge(ctx, st, rpo, res.Time.Add(rpo+time.Minute)); f.Status != Warn || !strings.Contains(f.Evidence, "older than the RPO of 5m0s") {
		t.Fatalf("a copy 6 minutes old: %+v", f)
	}

	s.Stop()
	f := offsiteAge(ctx, st, rpo, time.Now())
	if f.Status != Fail || !strings.Contains(f.Evidence, "could not be reached") || !strings.Contains(f.Evidence, "connection refused") || f.Fix == "" {
		t.Fatalf("store down: %+v", f)
	}
}

// Without a store in the answers, production warns and demo passes.
func TestOffsiteAgeNotConfigured(t *testing.T) {
	for p, want := range map[answers.Profile]Status{answers.Production: Warn, answers.Demo: Pass} {
		f := checkOffsiteAge(context.Background(), &Target{Answers: answers.Defaults(p)})
		if f.Status != want || !strings.Contains(f.Evidence, "no off-host copy is configured") {
			t.Errorf("%s without a store: %+v, want %s", p, f, want)
		}
	}
}

// Right after install an installation with a store has no credentials for
// it yet (they go into the Vault install sets up): that warns, so install's
// own checklist passes, and says how to set them; a broken target fails.
func TestOffsiteWithoutCredentialsWarns(t *testing.T) {
	a := answers.Defaults(answers.Demo)
	a.Backup.Offsite.S3 = &answers.S3Target{Endpoint: "https://127.0.0.1:9000", Bucket: "backups"}
	in := offsite.Installation{Answers: a, Project: "bank", TokenFile: filepath.Join(t.TempDir(), "offsite-token")}
	_, err := offsite.Connect(context.Background(), in)
	if f := connectFinding(err); f.Status != Warn || !strings.Contains(f.Evidence, "credentials are not set") || !strings.Contains(f.Fix, "set-credentials") {
		t.Fatalf("no credentials yet: %v -> %+v", err, f)
	}

	a.Backup.Offsite.S3 = &answers.S3Target{Endpoint: "ftp://127.0.0.1:9000", Bucket: "backups"}
	in.Answers = a
	_, err = offsite.Connect(context.Background(), in)
	if f := connectFinding(err); f.Status != Fail {
		t.Fatalf("a target that cannot work: %v -> %+v", err, f)
	}
}
