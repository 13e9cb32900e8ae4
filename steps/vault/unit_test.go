package vault

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// fastKDF is the cheapest derivation accepted; the format stores the
// parameters.
var fastKDF = passphrase.KDF{Time: passphrase.Limits.MinTime, Memory: passphrase.Limits.MinMemory, Threads: 1}

func TestCustodyFileRoundTripAndWrongPassphrase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.enc")
	in := CustodyKeys{Keys: []string{"a2V5LW9uZQ==", "a2V5LXR3bw=="}, Shares: 2, Threshold: 2, Created: time.Now().UTC().Truncate(time.Second)}
	pass := []byte("correct horse battery")
	if err := WriteCustodyFile(path, in, pass, fastKDF); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("custody file mode: %v %v", fi, err)
	}
	raw, _ := os.ReadFile(path)
	if strings.Contains(string(raw), "a2V5") {
		t.Fatal("custody file holds a share in clear")
	}
	out, err := ReadCustodyFile(path, pass)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Keys) != 2 || out.Keys[1] != in.Keys[1] || out.Threshold != 2 || !out.Created.Equal(in.Created) {
		t.Fatalf("round trip: %+v", out)
	}
	if _, err := ReadCustodyFile(path, []byte("correct horse battery!")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if err := WriteCustodyFile(path, in, []byte("short"), fastKDF); err == nil {
		t.Fatal("a 5-character passphrase was accepted")
	}
}

func TestCustodyFileHeaderIsAuthenticated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.enc")
	pass := []byte("correct horse battery")
	if err := WriteCustodyFile(path, CustodyKeys{Keys: []string{"x"}}, pass, fastKDF); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	// Bump the argon2 time parameter (bytes 9..12): decryption must fail.
	tampered := append([]byte(nil), raw...)
	tampered[12]++
	if err := os.WriteFile(path, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCustodyFile(path, pass); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("tampered header: err %v, want ErrWrongPassphrase", err)
	}
	tampered[7] = 9 // format version
	_ = os.WriteFile(path, tampered, 0o600)
	if _, err := ReadCustodyFile(path, pass); err == nil || !strings.Contains(err.Error(), "format version 9") {
		t.Fatalf("unknown version: %v", err)
	}
	_ = os.WriteFile(path, []byte("hello"), 0o600)
	if _, err := ReadCustodyFile(path, pass); err == nil || !strings.Contains(err.Error(), "not a Vault key custody file") {
		t.Fatalf("foreign file: %v", err)
	}
}

// hostileCustodyFile writes a custody file as someone without the
// passphrase can: a valid layout asking for kdf, and a useless ciphertext.
func hostileCustodyFile(t *testing.T, kdf passphrase.KDF) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(custodyMagic)
	b.WriteByte(custodyVersion)
	b.WriteByte(kdfArgon2id)
	_ = binary.Write(&b, binary.BigEndian, kdf.Time)
	_ = binary.Write(&b, binary.BigEndian, kdf.Memory)
	b.WriteByte(kdf.Threads)
	b.WriteByte(16)
	b.Write(make([]byte, 16+12+64)) // salt, nonce, ciphertext
	path := filepath.Join(t.TempDir(), "unseal-keys.enc")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestCustodyFileRefusesHostileKDF: the header's argon2id parameters are
// only authenticated after the key is derived, so a custody file asking
// for more than the installer ever writes is refused before that; a
// wrong-passphrase error would mean the derivation ran.
func TestCustodyFileRefusesHostileKDF(t *testing.T) {
	pass := []byte("correct horse battery")
	for _, kdf := range []passphrase.KDF{
		{Time: 100, Memory: 4 << 20, Threads: 255}, // the most the reader took before: 100 passes over 4 GiB
		{Time: 4, Memory: 128 << 10, Threads: 4},
		{Time: passphrase.DefaultKDF.Time + 1, Memory: passphrase.DefaultKDF.Memory, Threads: passphrase.DefaultKDF.Threads},
		{Time: 1, Memory: 8 << 10, Threads: 1}, // a downgrade
	} {
		_, err := ReadCustodyFile(hostileCustodyFile(t, kdf), pass)
		if !errors.Is(err, passphrase.ErrKDFRefused) || !strings.Contains(err.Error(), "tampered") {
			t.Errorf("%+v: got %v, want passphrase.ErrKDFRefused saying it may have been tampered with", kdf, err)
		}
	}
	// What the installer writes passes the check and reaches the cipher.
	if _, err := ReadCustodyFile(hostileCustodyFile(t, passphrase.DefaultKDF), pass); !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("the default parameters: %v", err)
	}
}

func TestCustodyFileReadIsBounded(t *testing.T) {
	pass := []byte("correct horse battery")
	big := filepath.Join(t.TempDir(), "unseal-keys.enc")
	data := append([]byte(custodyMagic), make([]byte, maxCustodyFile)...)
	if err := os.WriteFile(big, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCustodyFile(big, pass); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("an oversized custody file: %v", err)
	}
	link := filepath.Join(t.TempDir(), "unseal-keys.enc")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadCustodyFile(link, pass); err == nil {
		t.Error("a link to /dev/zero was read as a custody file")
	}
}

func TestWriteCustodyFileRefusesWhatItWouldNotRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.enc")
	keys := CustodyKeys{Keys: []string{"x"}}
	if err := WriteCustodyFile(path, keys, []byte("123456789012345"), fastKDF); !errors.Is(err, passphrase.ErrWeak) {
		t.Errorf("an all-digit passphrase: %v", err)
	}
	above := passphrase.DefaultKDF
	above.Memory *= 2
	if err := WriteCustodyFile(path, keys, []byte("correct horse battery"), above); !errors.Is(err, passphrase.ErrKDFRefused) {
		t.Errorf("parameters above the ceiling: %v", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a refused custody file was written: %v", err)
	}
}

func TestDecodeShare(t *testing.T) {
	share := make([]byte, 33)
	for i := range share {
		share[i] = byte(i * 7)
	}
	for _, enc := range []string{base64.StdEncoding.EncodeToString(share), hex.EncodeToString(share), " " + hex.EncodeToString(share) + "\n"} {
		got, err := decodeShare(enc)
		if err != nil || string(got) != string(share) {
			t.Errorf("decodeShare(%q) = %x, %v", enc, got, err)
		}
	}
	for _, bad := range []string{"", "zz", "!!!!", base64.StdEncoding.EncodeToString(make([]byte, 40)), hex.EncodeToString(make([]byte, 8))} {
		var mal *MalformedShareError
		if _, err := decodeShare(bad); !errors.As(err, &mal) {
			t.Errorf("decodeShare(%q): err %v, want MalformedShareError", bad, err)
		}
	}
	if !sharesEqual(base64.StdEncoding.EncodeToString(share), hex.EncodeToString(share)) {
		t.Error("the same share in base64 and hex did not compare equal")
	}
	if sharesEqual(base64.StdEncoding.EncodeToString(share), base64.StdEncoding.EncodeToString(make([]byte, 33))) {
		t.Error("different shares compared equal")
	}
}

func TestCombinations(t *testing.T) {
	got := combinations(4, 3)
	want := [][]int{{0, 1, 2}, {0, 1, 3}, {0, 2, 3}, {1, 2, 3}}
	if len(got) != len(want) {
		t.Fatalf("combinations(4,3) = %v", got)
	}
	for i := range want {
		if comboKeyOf(got[i]) != comboKeyOf(want[i]) {
			t.Fatalf("combinations(4,3) = %v, want %v", got, want)
		}
	}
	if comboKeyOf([]int{2, 0, 1}) != comboKeyOf([]int{0, 1, 2}) {
		t.Error("comboKeyOf depends on order")
	}
}

func TestGenerate(t *testing.T) {
	for cs, alphabet := range alphabets {
		seen := map[string]bool{}
		for range 50 {
			s, err := generate(40, cs)
			if err != nil {
				t.Fatal(err)
			}
			if len(s) != 40 {
				t.Fatalf("%s: length %d", cs, len(s))
			}
			if strings.Trim(s, alphabet) != "" {
				t.Fatalf("%s: %q has characters outside the alphabet", cs, s)
			}
			if seen[s] {
				t.Fatalf("%s: repeated value", cs)
			}
			seen[s] = true
		}
	}
}

// At 16 characters about half the draws from the password alphabet lack
// one of "-_." or another class; 2000 draws would show such a value many
// times over if the charset did not draw again.
func TestGeneratedPasswordsHaveEveryClass(t *testing.T) {
	for range 2000 {
		s, err := generate(MinSecretLength, Password)
		if err != nil {
			t.Fatal(err)
		}
		if !hasEveryClass(s) {
			t.Fatalf("%q lacks an upper-case letter, a lower-case letter or a digit", s)
		}
	}
	for _, s := range []string{"abcdefgh1234567.", "ABCDEFGH1234567-", "abcdefghABCDEFG_", "abcdefghABCD1234"} {
		if hasEveryClass(s) {
			t.Errorf("hasEveryClass(%q) = true", s)
		}
	}
}

func TestSpecValidation(t *testing.T) {
	ok := SecretSpec{Path: "banking/services/mifos", Keys: []KeySpec{{Name: "api-key", Length: 32, Charset: Hex}}}
	if err := ok.validate(); err != nil {
		t.Fatal(err)
	}
	bad := []SecretSpec{
		{Path: "secret/services/x", Keys: ok.Keys},
		{Path: "banking/other/x", Keys: ok.Keys},
		{Path: "banking/services/../x", Keys: ok.Keys},
		{Path: "banking/services/x"},
		{Path: "banking/services/x", Keys: []KeySpec{{Name: "k", Length: 8, Charset: Hex}}},
		{Path: "banking/services/x", Keys: []KeySpec{{Name: "k", Length: 32, Charset: "emoji"}}},
		{Path: "banking/services/x", Keys: []KeySpec{{Name: "k", Length: 32, Charset: Hex}, {Name: "k", Length: 32, Charset: Hex}}},
	}
	for _, s := range bad {
		if err := s.validate(); err == nil {
			t.Errorf("spec %+v accepted", s)
		}
	}
	if err := (Delivery{Service: "../etc", Files: nil}).validate(); err == nil {
		t.Error("a service name with a path was accepted")
	}
}

func TestInitOptionsValidation(t *testing.T) {
	for _, o := range []InitOptions{ProductionInit(), DemoInit()} {
		if err := o.validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	for _, o := range []InitOptions{{Shares: 0, Threshold: 0}, {Shares: 3, Threshold: 4}, {Shares: 5, Threshold: 1}, {Shares: 2, Threshold: 2, PGPKeys: []string{"k"}}} {
		if err := o.validate(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
}

func TestFileRecordStore(t *testing.T) {
	ctx := context.Background()
	s := FileRecordStore{Path: filepath.Join(t.TempDir(), "rec.json")}
	r, err := s.Load(ctx)
	if err != nil || r.SharesRecorded() || !r.InitStartedAt.IsZero() {
		t.Fatalf("missing file: %+v %v", r, err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	if err := s.Save(ctx, Record{InitStartedAt: now, SharesRecordedAt: now, Shares: 5, Threshold: 3, Custody: "show"}); err != nil {
		t.Fatal(err)
	}
	r, err = s.Load(ctx)
	if err != nil || !r.SharesRecorded() || r.Threshold != 3 || !r.InitStartedAt.Equal(now) {
		t.Fatalf("round trip: %+v %v", r, err)
	}
	_ = os.WriteFile(s.Path, []byte("{"), 0o600)
	if _, err := s.Load(ctx); err == nil {
		t.Error("a damaged record was accepted")
	}
}

func TestDecodeOTPToken(t *testing.T) {
	otp := "abcdefghijklmnopqrstuvwxyz12"
	token := "hvs.0123456789abcdefghijklmn"
	x := make([]byte, len(token))
	for i := range x {
		x[i] = token[i] ^ otp[i]
	}
	got, err := decodeOTPToken(base64.RawStdEncoding.EncodeToString(x), otp)
	if err != nil || got != token {
		t.Fatalf("decodeOTPToken = %q, %v", got, err)
	}
	if _, err := decodeOTPToken(base64.RawStdEncoding.EncodeToString(x[:5]), otp); err == nil {
		t.Error("a length mismatch was accepted")
	}
}

func TestConnectRefusesPlainHTTPAndBadCA(t *testing.T) {
	if _, err := Connect(Config{Address: "http://127.0.0.1:8200", CACertPEM: newTestPKI(t).caPEM}); err == nil {
		t.Error("http:// accepted")
	}
	if _, err := Connect(Config{Address: "https://127.0.0.1:8200", CACertPEM: []byte("nope")}); err == nil {
		t.Error("a non-PEM CA accepted")
	}
	t.Setenv("VAULT_TOKEN", "from-the-environment")
	c, err := Connect(Config{Address: "https://127.0.0.1:8200", CACertPEM: newTestPKI(t).caPEM})
	if err != nil {
		t.Fatal(err)
	}
	if c.client.Token() != "" {
		t.Error("Connect picked up VAULT_TOKEN from the environment")
	}
}

// The WAL archive key is 32 random bytes the installer uses as an
// AES-256 key: it is generated as bytes and stored in base64.
func TestGenerateRandomBytes(t *testing.T) {
	spec := SecretSpec{Path: "banking/installer/wal-archive", Keys: []KeySpec{{Name: "key", Length: 32, Charset: RandomBytes}}}
	if err := spec.validate(); err != nil {
		t.Fatal(err)
	}
	s, err := generate(32, RandomBytes)
	if err != nil {
		t.Fatal(err)
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) != 32 {
		t.Fatalf("%q decodes to %d bytes (%v), want 32", s, len(b), err)
	}
	if t2, _ := generate(32, RandomBytes); t2 == s {
		t.Fatal("repeated value")
	}
}
