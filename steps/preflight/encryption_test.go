package preflight

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/atrest/sysfstest"
)

func TestEncryptionAtRestIsAWarningOnly(t *testing.T) {
	e := labtest.Engine(t)
	info, err := e.API().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a := testAnswers(t)
	// The install dir does not exist yet: it is judged where it will be made.
	a.InstallDir = filepath.Join(a.InstallDir, "fineract")
	parent := filepath.Dir(a.InstallDir)
	for _, encrypted := range []bool{true, false} {
		in := Input{Answers: a, Project: "fit-preflight", Engine: e, MemoryBudgetMiB: 64,
			HostRoot: sysfstest.HostRoot(t, encrypted, info.DockerRootDir, parent)}
		r, ok := find(Run(context.Background(), in), "encryption", "")
		t.Logf("%+v", r)
		switch {
		case !ok:
			t.Fatal("no encryption result")
		case encrypted && (r.Status != Pass || !strings.Contains(r.Observed, "encrypted: "+info.DockerRootDir) || !strings.Contains(r.Observed, "encrypted: "+a.InstallDir+" (not created yet; "+parent+")")):
			t.Errorf("on LUKS: %+v", r)
		case !encrypted && (r.Status != Warn || !strings.Contains(r.Observed, "NOT on an encrypted device: "+a.InstallDir) || !strings.Contains(r.Fix, "luksFormat")):
			t.Errorf("on plain disks: %+v", r)
		}
	}
}
