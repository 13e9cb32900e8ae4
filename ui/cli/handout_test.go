package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/frontdoor"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

var handedOut = []frontdoor.Credential{{What: "Fineract administrator", URL: "https://bank.example/", Tenant: "default",
	User: "mifos", Password: "Handed-out-0nce.x7Qp", Again: install.AgainHint}}

func handoutEnv(t *testing.T) *install.Env {
	return &install.Env{Installation: installation.New(t.TempDir(), ""), Answers: answers.Defaults(answers.Demo)}
}

// Without a terminal and without a key, the password goes to a file only
// root reads; the output and the JSON stream carry its path, never the
// password.
func TestHandoutWithoutATerminalWritesARootOnlyFile(t *testing.T) {
	for _, format := range []string{formatText, formatJSON} {
		env := handoutEnv(t)
		var out bytes.Buffer
		a := &app{f: testFactory(), io: &Streams{In: strings.NewReader(""), Out: &out}, output: format}
		if err := handoutFor(a, env)(context.Background(), handedOut); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(out.String(), handedOut[0].Password) {
			t.Errorf("%s output holds the password: %s", format, out.String())
		}
		path := credentialsFile(env)
		if !strings.Contains(out.String(), path) {
			t.Errorf("%s output does not name %s: %s", format, path, out.String())
		}
		fi, err := os.Stat(path)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("%s: %v, mode %v; want 0600", path, err, fi.Mode())
		}
		data, _ := os.ReadFile(path)
		if !strings.Contains(string(data), "password: "+handedOut[0].Password) || !strings.Contains(string(data), "tenant:   default") {
			t.Errorf("the file lacks the credentials:\n%s", data)
		}
		if format == formatJSON {
			var rec map[string]any
			if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec["type"] != "credentials" || rec["file"] != path {
				t.Errorf("JSON record %s (%v)", out.String(), err)
			}
		}
	}
}

// With credentials.pgp_key the operator gets a message only their key
// opens (decrypted here with another OpenPGP implementation than the one
// that encrypted it), and no file holds the password in the clear.
func TestHandoutEncryptsToTheOperatorsKey(t *testing.T) {
	holder := labtest.NewKeyHolder(t)
	env := handoutEnv(t)
	env.Answers.Credentials.PGPKey = holder.PublicKey
	var out bytes.Buffer
	a := &app{f: testFactory(), io: &Streams{In: strings.NewReader(""), Out: &out}, output: formatJSON}
	if err := handoutFor(a, env)(context.Background(), handedOut); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), handedOut[0].Password) {
		t.Fatal("the JSON stream holds the password in the clear")
	}
	var rec struct {
		Type, File, Encrypted string
	}
	if err := json.Unmarshal(out.Bytes(), &rec); err != nil || rec.Type != "credentials" || rec.Encrypted == "" {
		t.Fatalf("JSON record %s (%v)", out.String(), err)
	}
	if plain := holder.DecryptArmored(rec.Encrypted); !strings.Contains(plain, "password: "+handedOut[0].Password) {
		t.Errorf("decrypted message lacks the password:\n%s", plain)
	}
	if _, err := os.Stat(credentialsFile(env)); !os.IsNotExist(err) {
		t.Errorf("a clear-text credentials file was written (%v)", err)
	}
	saved, err := os.ReadFile(rec.File)
	if err != nil || string(saved) != rec.Encrypted {
		t.Errorf("saved copy %s: %v", rec.File, err)
	}
}

// In a terminal the passwords are on the alternate screen, which is left
// (its content gone) after one Enter.
func TestHandoutInATerminalUsesTheAlternateScreen(t *testing.T) {
	var out bytes.Buffer
	a := &app{f: testFactory(), io: &Streams{In: strings.NewReader("\n"), Out: &out, InTTY: true, OutTTY: true}, output: formatText}
	if err := handoutFor(a, handoutEnv(t))(context.Background(), handedOut); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	enter, leave, pw := strings.Index(s, "\x1b[?1049h"), strings.LastIndex(s, "\x1b[?1049l"), strings.Index(s, handedOut[0].Password)
	if enter < 0 || leave < 0 || pw < enter || pw > leave {
		t.Errorf("the password is not shown between entering and leaving the alternate screen: %q", s)
	}
}

func TestCredentialsPGPKeyIsChecked(t *testing.T) {
	a := answers.Defaults(answers.Demo)
	a.Credentials.PGPKey = "bm90IGEga2V5"
	err := a.Validate()
	if err == nil || !strings.Contains(err.Error(), "credentials.pgp_key") {
		t.Errorf("a key that is not a key: %v", err)
	}
	a.Credentials.PGPKey = labtest.NewKeyHolder(t).PublicKey
	if err := a.Validate(); err != nil {
		t.Errorf("a real key: %v", err)
	}
}
