package labtest

import (
	"bytes"
	"encoding/base64"
	"io"
	"strings"
	"testing"

	// Deprecated upstream, but enough to play a key holder's gpg in tests:
	// make a key, then decrypt the share Vault encrypted to it.
	//lint:ignore SA1019 stands in for a key holder's gpg in tests only
	"golang.org/x/crypto/openpgp"
	//lint:ignore SA1019 as above
	"golang.org/x/crypto/openpgp/armor"
)

// KeyHolder is a Vault key holder with a PGP key, as vault.pgp_keys names
// them: Vault encrypts their share to PublicKey and only they can read it.
type KeyHolder struct {
	t      testing.TB
	entity *openpgp.Entity
	// PublicKey is the base64 public key, as vault.pgp_keys takes it.
	PublicKey string
}

// NewKeyHolder makes a key holder with a fresh key.
func NewKeyHolder(t testing.TB) *KeyHolder {
	t.Helper()
	e, err := openpgp.NewEntity("key holder", "", "holder@example.invalid", nil)
	if err != nil {
		t.Fatal(err)
	}
	var pub bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	return &KeyHolder{t: t, entity: e, PublicKey: base64.StdEncoding.EncodeToString(pub.Bytes())}
}

// DecryptArmored reads an ASCII-armoured message encrypted to the holder,
// as `gpg -d` does.
func (k *KeyHolder) DecryptArmored(msg string) string {
	k.t.Helper()
	block, err := armor.Decode(strings.NewReader(msg))
	if err != nil {
		k.t.Fatalf("not an armoured PGP message: %v", err)
	}
	md, err := openpgp.ReadMessage(block.Body, openpgp.EntityList{k.entity}, nil, nil)
	if err != nil {
		k.t.Fatalf("decrypt: %v", err)
	}
	plain, err := io.ReadAll(md.UnverifiedBody)
	if err != nil {
		k.t.Fatal(err)
	}
	return string(plain)
}

// Decrypt reads the holder's encrypted share, as
// `echo SHARE | base64 -d | gpg -d` does on their machine.
func (k *KeyHolder) Decrypt(encrypted string) string {
	k.t.Helper()
	raw, err := base64.StdEncoding.DecodeString(encrypted)
	if err != nil {
		k.t.Fatalf("the encrypted share is not base64: %v", err)
	}
	md, err := openpgp.ReadMessage(bytes.NewReader(raw), openpgp.EntityList{k.entity}, nil, nil)
	if err != nil {
		k.t.Fatalf("decrypt a share: %v", err)
	}
	plain, err := io.ReadAll(md.UnverifiedBody)
	if err != nil {
		k.t.Fatal(err)
	}
	return string(plain)
}
