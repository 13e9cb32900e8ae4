package assets

import (
	"errors"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// A build with other pins is made only at link time; each malformed
// specification names what is wrong rather than installing something
// unintended.
func TestReleasePinsRefuseWhatABuildMustNotCarry(t *testing.T) {
	stack, pins, err := parseReleasePins("stack=lab-2;fineract=fineract-standin:2.0.0", imagePins)
	if err != nil {
		t.Fatal(err)
	}
	if stack != "lab-2" || pins[pinIndex(pins, "fineract")].Image != "fineract-standin:2.0.0" {
		t.Fatalf("got stack %q and fineract %q", stack, pins[pinIndex(pins, "fineract")].Image)
	}
	if imagePins[pinIndex(imagePins, "fineract")].Image == "fineract-standin:2.0.0" {
		t.Fatal("parsing changed the release's own pins")
	}
	_, pins, err = parseReleasePins("stack=lab-2;fineract=lab/fineract:v2", imagePins)
	if err != nil || pins[pinIndex(pins, "fineract")].Release != "" {
		t.Fatalf("another build kept the release of the pin it replaced: %+v %v", pins[pinIndex(pins, "fineract")], err)
	}
	_, pins, err = parseReleasePins("release.fineract=1.15.0;stack=lab-2;fineract=lab/fineract:v2", imagePins)
	if err != nil || pins[pinIndex(pins, "fineract")].Release != "1.15.0" {
		t.Fatalf("declared release not taken: %+v %v", pins[pinIndex(pins, "fineract")], err)
	}
	for spec, want := range map[string]string{
		"fineract=fineract-standin:2.0.0":                      "no stack=NAME",
		"stack=" + defaultStack + ";fineract=x/fineract:2.0.0": "this release's own name",
		"stack=lab-2;nosuch=x:1":                               "not in the stack",
		"stack=lab-2;fineract=fineract-standin":                "not an image reference with a tag",
		"stack=lab-2;fineract=Fineract:1 --privileged":         "not an image reference",
		"stack=lab-2;fineract=a:1;fineract=b:2":                "given twice",
		"stack=lab 2":                                          "stack name",
		"stack=lab-2;fineract":                                 "not key=value",
	} {
		_, _, err := parseReleasePins(spec, imagePins)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want an error saying %q", spec, err, want)
		}
	}
}

func TestFineractPathRefusesDowngradeAndSkippingAWaypoint(t *testing.T) {
	v := func(ref string) FineractVersion {
		t.Helper()
		x, err := ParseFineractVersion(ref)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	if err := CheckFineractPath(v("openmf/fineract:1.14.0"), v("openmf/fineract:1.15.1")); err != nil {
		t.Errorf("1.14.0 -> 1.15.1: %v", err)
	}
	if err := CheckFineractPath(v("openmf/fineract:1.14.0"), v("lab/fineract:1.14.0-rebuilt")); err != nil {
		t.Errorf("same release, another build: %v", err)
	}
	var down *DowngradeError
	if err := CheckFineractPath(v("openmf/fineract:2.0.0"), v("openmf/fineract:1.14.0")); !errors.As(err, &down) {
		t.Errorf("2.0.0 -> 1.14.0: got %v, want a downgrade refusal", err)
	}
	var skip *SkipError
	if err := CheckFineractPath(v("openmf/fineract:1.5.0"), v("openmf/fineract:1.14.0")); !errors.As(err, &skip) || skip.Stop.Version != (FineractVersion{1, 6, 0}) {
		t.Errorf("1.5.0 -> 1.14.0: got %v, want a stop at 1.6.0", err)
	}
	if err := CheckFineractPath(v("openmf/fineract:1.5.0"), v("openmf/fineract:1.6.0")); err != nil {
		t.Errorf("1.5.0 -> 1.6.0 is the required stop: %v", err)
	}
	for _, ref := range []string{"openmf/fineract", "openmf/fineract:latest", "openmf/fineract:1.14", "openmf/fineract:01.14.0", "localhost:5000/fineract"} {
		if _, err := ParseFineractVersion(ref); err == nil {
			t.Errorf("%s: read as a release", ref)
		}
	}
}

// The way back renders the installation with its recorded references;
// the services not named keep this release's pins.
func TestRenderWithRecordedImages(t *testing.T) {
	a := answersFor(combo{profile: answers.Demo})
	o := testOptions()
	o.Images = map[string]string{"fineract": "openmf/fineract:1.13.0"}
	b, err := Render(a, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, svc := range b.Services {
		want := imageOf(svc.Name)
		if svc.Name == "fineract" {
			want = "openmf/fineract:1.13.0"
		}
		if svc.Image != want {
			t.Errorf("%s rendered with %s, want %s", svc.Name, svc.Image, want)
		}
	}
	if !strings.Contains(fileText(t, b, b.ComposeFile), "image: openmf/fineract:1.13.0") {
		t.Error("the compose file does not name the recorded reference")
	}
}
