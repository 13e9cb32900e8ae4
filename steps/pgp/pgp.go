// Package pgp encrypts what the installer hands to a person who is not at
// a terminal to a public key of theirs. Keys are given as vault.pgp_keys
// takes them: a base64-encoded binary OpenPGP public key (`gpg --export
// KEYID | base64 -w0`). Encryption uses ProtonMail's maintained OpenPGP
// implementation.
package pgp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
)

// maxKey bounds a key read from the answers before it is parsed.
const maxKey = 64 << 10

// ParsePublicKey reads a base64 public key and checks that it can be
// encrypted to.
func ParsePublicKey(b64 string) (openpgp.EntityList, error) {
	b64 = strings.TrimSpace(b64)
	if len(b64) > maxKey {
		return nil, fmt.Errorf("the key is %d bytes; a public key is far smaller", len(b64))
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, errors.New("not base64: give the binary key as `gpg --export KEYID | base64 -w0` prints it")
	}
	keys, err := openpgp.ReadKeyRing(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("not an OpenPGP public key: %w", err)
	}
	if len(keys) != 1 {
		return nil, fmt.Errorf("%d keys; give exactly one", len(keys))
	}
	if _, ok := keys[0].EncryptionKey(timeNow()); !ok {
		return nil, errors.New("the key has no valid encryption subkey (expired or revoked?)")
	}
	return keys, nil
}

// Encrypt encrypts plaintext to the key and returns it ASCII-armoured,
// for `gpg -d` on the key holder's machine.
func Encrypt(b64Key string, plaintext []byte) (string, error) {
	keys, err := ParsePublicKey(b64Key)
	if err != nil {
		return "", err
	}
	var out bytes.Buffer
	aw, err := armor.Encode(&out, "PGP MESSAGE", nil)
	if err != nil {
		return "", err
	}
	w, err := openpgp.Encrypt(aw, keys, nil, &openpgp.FileHints{IsBinary: false}, nil)
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	if _, err := io.Copy(w, bytes.NewReader(plaintext)); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	out.WriteByte('\n')
	return out.String(), nil
}

// timeNow is when keys must be valid.
var timeNow = time.Now
