package answers

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestMarshalLoadsBack(t *testing.T) {
	for _, p := range []Profile{Production, Demo} {
		a := Defaults(p)
		a.InstallDir = "/opt/fineract-stack"
		a.Host.IPs = []string{"192.0.2.10", "2001:db8::10"}
		a.Groups = []string{GroupCore, GroupIdentity, GroupLogging}
		data, err := Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse("answers.yaml", data)
		if err != nil {
			t.Fatalf("%s: %v\n%s", p, err, data)
		}
		if !strings.HasPrefix(string(data), "# fineract-installer answers file") {
			t.Fatalf("the file does not say what it is:\n%s", data)
		}
		if !reflect.DeepEqual(back, a) {
			t.Fatalf("%s: loads back as %+v, want %+v", p, back, a)
		}
	}
}

// Save writes nothing for answers that would not load again, and leaves
// the file it would have replaced as it was.
func TestSaveRefusesInvalidAnswers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "answers.yaml")
	good := Defaults(Demo)
	if err := Save(path, good); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Vault.KeyThreshold = bad.Vault.KeyShares + 1
	var es Errors
	if err := Save(path, bad); !errors.As(err, &es) {
		t.Fatalf("invalid answers saved: %v", err)
	}
	after, _ := os.ReadFile(path)
	if string(after) != string(before) {
		t.Fatalf("a refused save changed the file:\n%s", after)
	}
	if back, err := Load(path); err != nil || !reflect.DeepEqual(back, good) {
		t.Fatalf("the saved file loads as %+v, %v", back, err)
	}
}
