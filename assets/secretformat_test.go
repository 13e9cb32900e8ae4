package assets

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

// TestRecoverInvertsContent: every format gives back what Content was
// given (or, for a hashing format, the hash), and refuses content Content
// cannot have made.
func TestRecoverInvertsContent(t *testing.T) {
	const v = "Abc123Def456Ghi789Jkl012Mno345Pq"
	sum := sha256.Sum256([]byte(v))
	hash := hex.EncodeToString(sum[:])
	cases := []struct {
		format SecretFormat
		want   Recovered
		bad    []string // contents that must be refused
	}{
		{FormatRaw, Recovered{Value: v}, []string{"", v + "\n", " " + v, "has space", `quote"d`}},
		{"", Recovered{Value: v}, []string{v + "\r\n"}},
		{FormatRedisACL, Recovered{Hash: hash}, []string{
			"", "user default on #" + hash + "\n",
			"user default on #" + strings.ToUpper(hash) + " ~* &* +@all -@dangerous\n",
			"user default on #" + hash[:62] + " ~* &* +@all -@dangerous\n",
			"user default on #" + hash + " ~* &* +@all\n",
			"user default on >" + v + " ~* &* +@all -@dangerous\n",
		}},
		{YAMLSetting("xpack.security.encryptionKey"), Recovered{Value: v}, []string{
			"", v, "xpack.security.encryptionKey: " + v + "\n",
			"xpack.security.encryptionKey: \"" + v + "\"",
			"xpack.reporting.encryptionKey: \"" + v + "\"\n",
			"xpack.security.encryptionKey: \"" + v + "\"\nextra: 1\n",
			"xpack.security.encryptionKey: \"a b\"\n",
			"xpack.security.encryptionKey: \"\"\n",
		}},
	}
	for _, c := range cases {
		need := SecretNeed{File: "f", VaultPath: "banking/services/x", Key: "k", Generate: genKey, Format: c.format}
		content, err := need.Content(v)
		if err != nil {
			t.Fatalf("%q: Content: %v", c.format, err)
		}
		got, err := need.Recover(content)
		if err != nil || got != c.want {
			t.Errorf("%q: Recover(Content(v)) = %+v, %v; want %+v", c.format, got, err, c.want)
		}
		for _, bad := range c.bad {
			if got, err := need.Recover([]byte(bad)); err == nil {
				t.Errorf("%q: Recover accepted %q as %+v", c.format, bad, got)
			}
		}
	}
	for _, f := range []SecretFormat{"base64", YAMLSetting("")} {
		if _, err := (SecretNeed{File: "f", Format: f}).Recover([]byte(v)); err == nil {
			t.Errorf("format %q: Recover accepted content", f)
		}
	}
}

// TestEveryDeliveredValueIsRecoverable: in every rendered stack, each
// Vault value can be read back from a delivered file, so redaction and the
// leak check know every value Vault holds. A new format without an
// inverse, or a hashing format whose value no other file carries, fails
// here.
func TestEveryDeliveredValueIsRecoverable(t *testing.T) {
	for _, c := range allCombos() {
		b := mustRender(t, answersFor(c))
		values := map[string]string{} // Vault path#key -> value
		recovered := map[string]bool{}
		for _, svc := range b.Services {
			for _, need := range svc.Secrets {
				key := need.VaultPath + "#" + need.Key
				if values[key] == "" {
					values[key] = strings.Repeat("x", len(values)%7) + strings.Repeat("aB3", need.Generate.Length)[:need.Generate.Length-len(values)%7]
				}
				v := values[key]
				content, err := need.Content(v)
				if err != nil {
					t.Fatalf("%s: %s %s: %v", c, svc.Name, need.File, err)
				}
				got, err := need.Recover(content)
				switch {
				case err != nil:
					t.Errorf("%s: %s %s (format %q) cannot be read back: %v", c, svc.Name, need.File, need.Format, err)
				case got.Value == v:
					recovered[key] = true
				case got.Value != "":
					t.Errorf("%s: %s %s gives back %q, not the value %q", c, svc.Name, need.File, got.Value, v)
				default:
					sum := sha256.Sum256([]byte(v))
					if got.Hash != hex.EncodeToString(sum[:]) {
						t.Errorf("%s: %s %s keeps neither the value nor its hash: %+v", c, svc.Name, need.File, got)
					}
				}
			}
		}
		for key := range values {
			if !recovered[key] {
				t.Errorf("%s: no delivered file gives back the value of %s", c, key)
			}
		}
	}
}
