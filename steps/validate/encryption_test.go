package validate

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/atrest/sysfstest"
)

func TestHostEncryptionCheck(t *testing.T) {
	e := labtest.Engine(t)
	info, err := e.API().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	check := HostChecks()

	r := results(t, &Target{Engine: e, Dir: dir, HostRoot: sysfstest.HostRoot(t, true, info.DockerRootDir, dir)}, check)["host-encryption"]
	t.Logf("%s: %s", r.Status, r.Evidence)
	for _, want := range []string{"encrypted: " + info.DockerRootDir + ":", "encrypted: " + dir + ":", "encrypted: " + filepath.Join(dir, "backups") + " (not created yet; " + dir + ")", "dm-crypt LUKS2"} {
		if r.Status != Pass || !strings.Contains(r.Evidence, want) {
			t.Errorf("on LUKS: %s, evidence lacks %q: %s", r.Status, want, r.Evidence)
		}
	}
	if strings.Contains(r.Evidence, "NOT") || !slices.Equal(r.Controls, []Control{ControlAtRest}) {
		t.Errorf("on LUKS: %+v", r)
	}

	r = results(t, &Target{Engine: e, Dir: dir, HostRoot: sysfstest.HostRoot(t, false, info.DockerRootDir, dir)}, check)["host-encryption"]
	t.Logf("%s: %s", r.Status, r.Evidence)
	if r.Status != Warn || !strings.Contains(r.Evidence, "NOT on an encrypted device: "+info.DockerRootDir) || !strings.Contains(r.Fix, "cryptsetup luksFormat") {
		t.Errorf("on plain disks: %+v", r)
	}
}
