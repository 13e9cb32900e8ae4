package tenants

import (
	"encoding/base64"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// javaDecrypt decrypts with Java's own PBKDF2WithHmacSHA1 and
// AES/CBC/PKCS5Padding, in the code Fineract runs (testdata/Decrypt.java).
// It returns what Java printed and whether it succeeded.
func javaDecrypt(t *testing.T, master, encrypted string) (string, error) {
	t.Helper()
	java, err := exec.LookPath("java")
	if err != nil {
		if labtest.Required() {
			t.Fatalf("this test needs a JDK (java): %v", err)
		}
		t.Skip("no java on PATH")
	}
	out, err := exec.Command(java, "testdata/Decrypt.java", master, encrypted).CombinedOutput()
	return string(out), err
}

// TestJavaDecryptsWhatEncryptPasswordWrites: Fineract's own algorithm,
// run by the JVM, gets the password back, for lengths around the AES
// block size (PKCS#5 padding of 1..16 bytes) and a master password with
// non-ASCII characters (PBEKeySpec feeds PBKDF2 UTF-8).
func TestJavaDecryptsWhatEncryptPasswordWrites(t *testing.T) {
	cases := []struct{ master, password string }{
		{"Zq8mN3vR5tY7uI9oP1aS2dF4gH6jK8lX", "e4T7yU1iO3pA5sD7fG9hJ2kL4zX6cV8b"},
		{"master", "fifteen-chars.."},
		{"master", "sixteen-chars..."},
		{"mäster-ü", "p"},
	}
	for _, c := range cases {
		enc, err := EncryptPassword(c.master, c.password)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Fatalf("not standard base64: %v", err)
		}
		if want := 32 + (len(c.password)/16+1)*16; len(raw) != want {
			t.Errorf("%q: %d bytes, want iv+salt+padded ciphertext = %d", c.password, len(raw), want)
		}
		if got, err := javaDecrypt(t, c.master, enc); err != nil || got != c.password {
			t.Errorf("Java decrypted %q (%v), want %q", got, err, c.password)
		}
	}
}

// TestEncryptPasswordIsSaltedAndKeyed: the same password encrypts
// differently each time (random IV and salt), and a wrong master password
// does not decrypt it.
func TestEncryptPasswordIsSaltedAndKeyed(t *testing.T) {
	a, _ := EncryptPassword("master", "secret")
	b, _ := EncryptPassword("master", "secret")
	if a == b {
		t.Error("two encryptions of one password are equal: IV and salt must be random")
	}
	if got, err := javaDecrypt(t, "other", a); err == nil || strings.Contains(got, "secret") {
		t.Errorf("a wrong master password decrypted the password: %q", got)
	}
	if _, err := EncryptPassword("", "secret"); err == nil {
		t.Error("an empty master password was accepted")
	}
}

// TestMasterPasswordHashIsBCryptAsSpringWritesIt: $2a$, cost 10 (Spring's
// BCrypt.gensalt()), and it verifies the master password only.
func TestMasterPasswordHashIsBCryptAsSpringWritesIt(t *testing.T) {
	h, err := MasterPasswordHash("Zq8mN3vR5tY7uI9oP1aS2dF4gH6jK8lX")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$2a$10$") || len(h) != 60 {
		t.Errorf("hash %q: want a 60-character $2a$10$ BCrypt hash", h)
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("Zq8mN3vR5tY7uI9oP1aS2dF4gH6jK8lX")) != nil {
		t.Error("the hash does not verify the master password")
	}
	if bcrypt.CompareHashAndPassword([]byte(h), []byte("wrong")) == nil {
		t.Error("the hash verifies a wrong password")
	}
}
