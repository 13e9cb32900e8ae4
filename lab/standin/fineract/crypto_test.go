package main

import (
	"strings"
	"testing"
)

// The seeded rows of Fineract's 0002_initial_data.xml and Spring's
// MessageDigestPasswordEncoder rule (salt = the leading "{...}", digest =
// hex(SHA-256(raw + salt))). Vectors from coreutils:
//
//	printf 'password{1}' | sha256sum  → 5787039480429368bf94732aacc771cd0a3ea02bcf504ffe1185ab94213bc63a
//	printf 'password{2}' | sha256sum  → 298c2dc61a240591121da7f76edc96758b4bde459c0750bc431dede92226c9dc
func TestSeededPasswordHashes(t *testing.T) {
	seeded := map[string]string{}
	for _, id := range []string{"1", "2", "3"} {
		seeded[id] = "{SHA-256}{" + id + "}" + seedPassword
	}
	if !passwordMatches("password", seeded["1"]) {
		t.Error(`mifos (id 1): "password" does not verify`)
	}
	for _, wrong := range []string{"Password", "password ", "", "password{1}", "5787039480429368bf94732aacc771cd0a3ea02bcf504ffe1185ab94213bc63a"} {
		if passwordMatches(wrong, seeded["1"]) {
			t.Errorf("mifos (id 1): %q verifies", wrong)
		}
	}
	// The same digest behind another salt is not "password" for ids 2, 3.
	for _, id := range []string{"2", "3"} {
		if passwordMatches("password", seeded[id]) {
			t.Errorf(`id %s: "password" verifies, but sha256("password{%s}") is not the seeded digest`, id, id)
		}
	}
	if !passwordMatches("password", "{SHA-256}{2}298c2dc61a240591121da7f76edc96758b4bde459c0750bc431dede92226c9dc") {
		t.Error("the salt {2} is not applied as Spring applies it")
	}
	for _, stored := range []string{seedPassword, "{noop}password", "{SHA-256}" + seedPassword} {
		if passwordMatches("password", stored) {
			t.Errorf("%q verifies", stored)
		}
	}
}

func TestNewPasswordsAreBcrypt(t *testing.T) {
	a, err := encodePassword("New-pass-1")
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodePassword("New-pass-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a, "{bcrypt}$2a$10$") || a == b {
		t.Errorf("encodings %q and %q: want {bcrypt}$2a$10$ with a fresh salt each", a, b)
	}
	if !passwordMatches("New-pass-1", a) || passwordMatches("New-pass-2", a) {
		t.Error("a bcrypt encoding does not verify exactly its password")
	}
}

// A vector made without Go: the key with Python's hashlib, the cipher with
// openssl (iv 00..0f and salt 10..1f chosen, not random):
//
//	KEY=$(python3 -c "import hashlib;print(hashlib.pbkdf2_hmac('sha1',b'lab-master-1',
//	      bytes.fromhex('101112131415161718191a1b1c1d1e1f'),65536,32).hex())")
//	CT=$(printf 'trainer-db-pw-1' | openssl enc -aes-256-cbc -K $KEY -iv 000102030405060708090a0b0c0d0e0f | xxd -p)
//	echo -n 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f$CT | xxd -r -p | base64
const (
	vectorMaster    = "lab-master-1"
	vectorPlain     = "trainer-db-pw-1"
	vectorEncrypted = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh+4idmtmT5ZpXR+r3IFC57W"
)

func TestTenantPasswordKnownVector(t *testing.T) {
	got, err := decryptTenantPassword(vectorMaster, vectorEncrypted)
	if err != nil || got != vectorPlain {
		t.Fatalf("decrypt: %q, %v; want %q", got, err, vectorPlain)
	}
	if _, err := decryptTenantPassword("lab-master-2", vectorEncrypted); err == nil {
		t.Error("another master password decrypted the vector")
	}
	for _, bad := range []string{"", "not base64!", vectorEncrypted[:40], vectorPlain} {
		if _, err := decryptTenantPassword(vectorMaster, bad); err == nil {
			t.Errorf("%q decrypted", bad)
		}
	}
}

func TestTenantPasswordRoundTrip(t *testing.T) {
	enc, err := encryptTenantPassword(vectorMaster, "pässwörd with spaces")
	if err != nil {
		t.Fatal(err)
	}
	if enc == vectorEncrypted || strings.Contains(enc, "pässwörd") {
		t.Errorf("encryption %q", enc)
	}
	if got, err := decryptTenantPassword(vectorMaster, enc); err != nil || got != "pässwörd with spaces" {
		t.Errorf("round trip: %q, %v", got, err)
	}
	h, err := masterPasswordHash(vectorMaster)
	if err != nil {
		t.Fatal(err)
	}
	if !masterPasswordHashValid(vectorMaster, h) || masterPasswordHashValid("fineract", h) {
		t.Error("the master password hash does not check exactly its password")
	}
}
