package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/ui/cli/schema"
)

// tree lists every path under root with its mode and a hash of its
// content, so two listings differ if anything was written, made or
// removed; a root that does not exist lists as nothing.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && path == root {
			return fs.SkipDir
		}
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		desc := fi.Mode().String() + " " + fi.ModTime().String()
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			desc += " " + hex.EncodeToString(sum[:])
		}
		out[path] = desc
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	for p, d := range after {
		if before[p] != d {
			t.Errorf("%s: plan wrote %s (%s, was %q)", what, p, d, before[p])
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			t.Errorf("%s: plan removed %s", what, p)
		}
	}
}

// projectObjects counts the engine's containers, networks and volumes of
// a project.
func projectObjects(t *testing.T, e *compose.Engine, project string) int {
	t.Helper()
	ctx := context.Background()
	f := filters.NewArgs(filters.Arg("label", compose.LabelProject+"="+project))
	cs, err := e.API().ContainerList(ctx, container.ListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := e.API().NetworkList(ctx, network.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := e.API().VolumeList(ctx, volume.ListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	return len(cs) + len(ns) + len(vs.Volumes)
}

// TestPlanWritesNothing plans a new installation and a rerun of an
// existing one with the real engine, and checks that nothing was written:
// no install dir, no lock beside it, no state, no certificate, no secrets
// directory, no container, network or volume; and that the exit code says
// changes are pending, with a JSON object the contract documents.
func TestPlanWritesNothing(t *testing.T) {
	e := labtest.Engine(t)
	project := labtest.Project(t, e)
	f := testFactory()
	f.Engine = func(context.Context) (*compose.Engine, error) { return e, nil }
	root := t.TempDir()
	secrets := installdir.ProjectRunDir(project)

	fresh := filepath.Join(root, "new")
	beforeRoot, beforeRun := tree(t, root), tree(t, secrets)
	r := runWith(t, f, false, "", "plan", "--demo", "--dir", fresh, "--project", project, "-o", "json")
	if r.code != ExitChangesPending {
		t.Fatalf("plan of a new installation: exit %d, want %d\n%s%s", r.code, ExitChangesPending, r.out, r.err)
	}
	if err := schema.Check([]byte(r.out)); err != nil {
		t.Errorf("plan -o json: %v\n%s", err, r.out)
	}
	var doc struct {
		Stack struct {
			Services []struct{ Service, Action string }
		}
		Steps []struct {
			ID  string
			Run bool
		}
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Stack.Services) == 0 || len(doc.Steps) == 0 {
		t.Errorf("plan of a new installation names no service or step:\n%s", r.out)
	}
	for _, s := range doc.Stack.Services {
		if s.Action != string(compose.ServiceCreate) {
			t.Errorf("new installation: service %s would be %s, want create", s.Service, s.Action)
		}
	}
	sameTree(t, "new installation", beforeRoot, tree(t, root))
	sameTree(t, "new installation, secrets", beforeRun, tree(t, secrets))

	// An existing install dir, planned with its own answers (a rerun).
	existing := filepath.Join(root, "existing")
	if err := installdir.Mark(existing); err != nil {
		t.Fatal(err)
	}
	ans := answers.Defaults(answers.Demo)
	ans.InstallDir = existing
	if err := answers.Save(installation.New(existing, project).AnswersFile(), ans); err != nil {
		t.Fatal(err)
	}
	if r := runWith(t, f, false, "", "render", "--demo", "--out", existing, "--project", project); r.code != 0 {
		t.Fatalf("render: exit %d\n%s", r.code, r.err)
	}
	// The gateway was installed with another image than the one here: the
	// install would stop at the images step, and the plan says so.
	env, err := install.NewEnv(ans, project, existing, installdir.SecretsDir(project), nil)
	if err != nil {
		t.Fatal(err)
	}
	gatewayImage := ""
	for _, s := range env.Bundle.Services {
		if s.Name == "gateway" {
			gatewayImage = s.Image
		}
	}
	recorded := "sha256:" + strings.Repeat("0", 64)
	rec := install.ImageRecord{Version: 1, Services: map[string]install.RecordedImage{"gateway": {Image: gatewayImage, ID: recorded, Recorded: testClock}}}
	if err := rec.Save(existing); err != nil {
		t.Fatal(err)
	}
	beforeRoot, beforeRun = tree(t, root), tree(t, secrets)
	r = runWith(t, f, false, "", "plan", "--dir", existing, "--project", project)
	if want := "the installation was made with " + gatewayImage + " " + recorded + "; install stops before any container changes unless run with --accept-image-change gateway"; !strings.Contains(strings.Join(strings.Fields(r.out), " "), want) {
		t.Errorf("plan with a changed gateway image does not say %q:\n%s", want, r.out)
	}
	if accepted := runWith(t, f, false, "", "plan", "--dir", existing, "--project", project, "--accept-image-change", "gateway"); strings.Contains(accepted.out, "Install stops") {
		t.Errorf("an accepted image change still stops the install:\n%s", accepted.out)
	}
	if r.code != ExitChangesPending || !strings.Contains(r.out, "Changes pending:") {
		t.Fatalf("plan of a rerun: exit %d, want %d\n%s%s", r.code, ExitChangesPending, r.out, r.err)
	}
	for _, want := range []string{"Services", "Volumes (an apply never removes a volume)", "Certificates", "Steps"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("plan text has no %q:\n%s", want, r.out)
		}
	}
	sameTree(t, "rerun", beforeRoot, tree(t, root))
	sameTree(t, "rerun, secrets", beforeRun, tree(t, secrets))
	if n := projectObjects(t, e, project); n != 0 {
		t.Errorf("plan left %d containers, networks or volumes of project %s", n, project)
	}
}

// While another command holds the installation's lock, plan refuses
// rather than describe a moment that is passing, and makes no lock file of
// its own.
func TestPlanRefusesWhileTheInstallationIsLocked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "stack")
	if err := installdir.Mark(dir); err != nil {
		t.Fatal(err)
	}
	unlock, err := steps.Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	r := runWith(t, testFactory(), false, "", "plan", "--demo", "--dir", dir)
	if r.code != ExitFailed || !strings.Contains(r.err, "install dir is in use") {
		t.Errorf("plan of a locked installation: exit %d, stderr %q; want exit %d saying the install dir is in use", r.code, r.err, ExitFailed)
	}
}
