package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// Image flags are checked before anything is written: an unknown service to
// accept a change for, and a bundle without its manifest, are usage errors.
func TestInstallRefusesBadImageFlagsBeforeAnythingChanges(t *testing.T) {
	// No engine: whatever happens, nothing can be installed on this host.
	t.Setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
	root := t.TempDir()
	dir := filepath.Join(root, "stack")
	bundle := filepath.Join(root, "images.tar")
	if err := os.WriteFile(bundle, []byte("not checked yet"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--accept-image-change", "vualt"}, `--accept-image-change "vualt": not a service of this stack`},
		{[]string{"--images-bundle", bundle}, "images.tar" + compose.BundleManifestSuffix},
	}
	for _, c := range cases {
		args := append([]string{"install", "--demo", "--dir", dir, "--yes", "--no-color"}, c.args...)
		r := run(t, "", args...)
		if r.code != ExitUsage || !strings.Contains(r.err, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", c.args, r.code, r.err, ExitUsage, c.want)
		}
		if _, err := os.Stat(dir); !os.IsNotExist(err) {
			t.Errorf("%v: the install dir was created: %v", c.args, err)
		}
	}
	if r := run(t, "", "images", "bundle"); r.code != ExitUsage || !strings.Contains(r.err, "--out FILE is required") {
		t.Errorf("images bundle without --out: exit %d %q", r.code, r.err)
	}
}

func TestImageRefusalsExitFour(t *testing.T) {
	err := fmt.Errorf("step services: %w", install.ImageFailure(&install.ImageChangedError{Changes: []install.ImageChange{{Service: "vault", RecordedImage: "v:1", RecordedID: "sha256:a", Image: "v:1", ID: "sha256:b"}}}))
	if got := exitCode(err); got != ExitImageRejected {
		t.Errorf("image refusal: exit %d, want %d", got, ExitImageRejected)
	}
	if got := exitCode(stepsFailed(err)); got != ExitImageRejected {
		t.Errorf("reported image refusal: exit %d, want %d", got, ExitImageRejected)
	}
	if got := exitCode(stepsFailed(&steps.Failure{Cause: "port taken"})); got != ExitFailed {
		t.Errorf("other step failure: exit %d, want %d", got, ExitFailed)
	}
}

// status shows the image record, and which container runs another image
// than the recorded one.
func TestStatusShowsRecordedImages(t *testing.T) {
	project, e := installDemo(t)
	ref := labtest.Busybox(t, e)
	img, err := e.API().ImageInspect(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	other := "sha256:" + strings.Repeat("0", 64)
	rec := install.ImageRecord{Services: map[string]install.RecordedImage{
		"api": {Image: ref, ID: img.ID},
		"web": {Image: ref, ID: other},
	}}
	if err := rec.Save(dir); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "status", "--project", project, "--dir", dir, "--no-color")
	for _, want := range []string{"Images recorded in " + installation.New(dir, project).ImageRecordFile(), img.ID, "recorded image", "runs " + img.ID} {
		if !strings.Contains(r.out, want) {
			t.Errorf("status text lacks %q:\n%s", want, r.out)
		}
	}
	r = run(t, "", "status", "--project", project, "--dir", dir, "-o", "json")
	var doc struct {
		Images   map[string]install.RecordedImage `json:"images"`
		Services []compose.ServiceStatus          `json:"services"`
	}
	if err := json.Unmarshal([]byte(r.out), &doc); err != nil || doc.Images["web"].ID != other || doc.Images["api"].ID != img.ID {
		t.Fatalf("status json images: %v %+v\n%s", err, doc.Images, r.out)
	}
	for _, s := range doc.Services {
		if s.Image != ref || s.ImageID != img.ID {
			t.Errorf("service %s: image %q id %q; want %s %s", s.Service, s.Image, s.ImageID, ref, img.ID)
		}
	}
}

// The plan printed before the confirmation shows the image changes: the
// one accepted, and the one that will stop the install.
func TestInstallPlanShowsImageChanges(t *testing.T) {
	e := labtest.Engine(t)
	ans := answers.Defaults(answers.Demo)
	ans.Groups = []string{answers.GroupCore}
	root := t.TempDir()
	ans.InstallDir = filepath.Join(root, "stack")
	env, err := install.NewEnv(ans, "plan", ans.InstallDir, "/run/unused", nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, svc := range env.Bundle.Services {
		img, err := e.API().ImageInspect(context.Background(), svc.Image)
		if err != nil {
			if labtest.Required() {
				t.Fatalf("lab image %s is missing: run lab/test.sh (it builds the lab images)", svc.Image)
			}
			t.Skipf("lab image %s is missing: run lab/test.sh", svc.Image)
		}
		ids[svc.Name] = img.ID
	}
	old := "sha256:" + strings.Repeat("1", 64)
	rec := install.ImageRecord{Services: map[string]install.RecordedImage{}}
	for _, svc := range env.Bundle.Services {
		rec.Services[svc.Name] = install.RecordedImage{Image: svc.Image, ID: ids[svc.Name]}
	}
	web, gateway := rec.Services["web-app"], rec.Services["gateway"]
	web.ID, gateway.ID = old, old
	rec.Services["web-app"], rec.Services["gateway"] = web, gateway
	if err := installdir.Mark(ans.InstallDir); err != nil {
		t.Fatal(err)
	}
	if err := rec.Save(ans.InstallDir); err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(ans)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(root, "answers.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	// No --yes and no terminal: the plan is printed, then the install stops
	// at the confirmation (or at preflight) without changing anything.
	r := run(t, "", "install", "--answers", file, "--project", labtest.Project(t, e), "--accept-image-change", "web-app", "--no-color")
	for _, want := range []string{
		"image change of web-app accepted: " + web.Image + " " + old + " -> " + web.Image + " " + ids["web-app"],
		"✗ gateway: " + gateway.Image + " is " + ids["gateway"] + " here, the installation was made with " + gateway.Image + " " + old,
		"accept it with --accept-image-change gateway",
		"images: 3 as recorded",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.out)
		}
	}
	if r.code != ExitUsage && r.code != ExitHostNotOK {
		t.Errorf("exit %d without --yes; want %d (or %d when preflight fails here)\n%s", r.code, ExitUsage, ExitHostNotOK, r.err)
	}
	if got, _, _ := install.LoadImageRecord(ans.InstallDir); got.Services["web-app"].ID != old {
		t.Errorf("the record changed before the confirmation: %+v", got.Services["web-app"])
	}
}
