package vault

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/argon2"
)

// The demo custody file keeps the unseal shares encrypted with a
// passphrase, so a classroom Vault can be unsealed unattended.
//
// Layout (all integers big-endian); the whole header is the AES-GCM
// additional data, so changing any parameter breaks authentication:
//
//	magic    "FIVKEYS" (7 bytes)
//	version  1 byte  = 1
//	kdf      1 byte  = 1 (argon2id)
//	time     4 bytes   argon2 passes
//	memory   4 bytes   argon2 memory in KiB
//	threads  1 byte
//	saltLen  1 byte, then salt
//	nonce    12 bytes
//	then     AES-256-GCM ciphertext of JSON custodyPayload
const (
	custodyMagic   = "FIVKEYS"
	custodyVersion = 1
	kdfArgon2id    = 1
	minPassphrase  = 12
)

// KDFParams are the argon2id parameters stored in the file header.
type KDFParams struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultKDF follows RFC 9106's second recommended option (64 MiB, 3 passes).
var DefaultKDF = KDFParams{Time: 3, Memory: 64 * 1024, Threads: 4}

// ErrWrongPassphrase means the custody file did not decrypt: wrong
// passphrase, or the file was altered.
var ErrWrongPassphrase = errors.New("the passphrase does not open the Vault key custody file (wrong passphrase, or the file was altered)")

// CustodyKeys is what the custody file holds: the shares, never a token.
type CustodyKeys struct {
	Keys      []string  `json:"keys"`
	Shares    int       `json:"shares"`
	Threshold int       `json:"threshold"`
	Created   time.Time `json:"created"`
}

// WriteCustodyFile encrypts keys with passphrase and writes them to path
// atomically (fsync, mode 0600).
func WriteCustodyFile(path string, keys CustodyKeys, passphrase []byte, kdf KDFParams) error {
	if len(passphrase) < minPassphrase {
		return fmt.Errorf("the custody passphrase must have at least %d characters", minPassphrase)
	}
	if kdf.Time == 0 || kdf.Memory < 8*1024 || kdf.Threads == 0 {
		return fmt.Errorf("argon2id parameters too weak: %+v", kdf)
	}
	plain, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("encoding custody keys: %w", err)
	}
	salt := make([]byte, 16)
	nonce := make([]byte, 12)
	if _, err := io.ReadFull(rand.Reader, salt); err != nil {
		return fmt.Errorf("reading random salt: %w", err)
	}
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return fmt.Errorf("reading random nonce: %w", err)
	}
	var hdr bytes.Buffer
	hdr.WriteString(custodyMagic)
	hdr.WriteByte(custodyVersion)
	hdr.WriteByte(kdfArgon2id)
	_ = binary.Write(&hdr, binary.BigEndian, kdf.Time)
	_ = binary.Write(&hdr, binary.BigEndian, kdf.Memory)
	hdr.WriteByte(kdf.Threads)
	hdr.WriteByte(byte(len(salt)))
	hdr.Write(salt)
	hdr.Write(nonce)
	aead, err := custodyAEAD(passphrase, salt, kdf)
	if err != nil {
		return err
	}
	out := aead.Seal(hdr.Bytes(), nonce, plain, hdr.Bytes())
	if err := writeFileAtomic(path, out, 0o600); err != nil {
		return fmt.Errorf("writing the Vault key custody file: %w", err)
	}
	return nil
}

// ReadCustodyFile decrypts the custody file at path.
func ReadCustodyFile(path string, passphrase []byte) (CustodyKeys, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return CustodyKeys{}, fmt.Errorf("reading the Vault key custody file: %w", err)
	}
	r := bytes.NewReader(data)
	magic := make([]byte, len(custodyMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != custodyMagic {
		return CustodyKeys{}, fmt.Errorf("%s is not a Vault key custody file", path)
	}
	var version, kdfID, threads, saltLen byte
	var kdf KDFParams
	fields := []any{&version, &kdfID, &kdf.Time, &kdf.Memory, &threads, &saltLen}
	for _, f := range fields {
		if err := binary.Read(r, binary.BigEndian, f); err != nil {
			return CustodyKeys{}, fmt.Errorf("%s: truncated header", path)
		}
	}
	kdf.Threads = threads
	if version != custodyVersion {
		return CustodyKeys{}, fmt.Errorf("%s has format version %d; this installer reads version %d", path, version, custodyVersion)
	}
	if kdfID != kdfArgon2id {
		return CustodyKeys{}, fmt.Errorf("%s uses unknown key derivation %d", path, kdfID)
	}
	if kdf.Memory > 4*1024*1024 || kdf.Time > 100 || saltLen < 16 {
		return CustodyKeys{}, fmt.Errorf("%s has implausible key derivation parameters; refusing to use it", path)
	}
	salt := make([]byte, saltLen)
	nonce := make([]byte, 12)
	if _, err := io.ReadFull(r, salt); err != nil {
		return CustodyKeys{}, fmt.Errorf("%s: truncated header", path)
	}
	if _, err := io.ReadFull(r, nonce); err != nil {
		return CustodyKeys{}, fmt.Errorf("%s: truncated header", path)
	}
	hdrLen := len(data) - r.Len()
	aead, err := custodyAEAD(passphrase, salt, kdf)
	if err != nil {
		return CustodyKeys{}, err
	}
	plain, err := aead.Open(nil, nonce, data[hdrLen:], data[:hdrLen])
	if err != nil {
		return CustodyKeys{}, ErrWrongPassphrase
	}
	var keys CustodyKeys
	if err := json.Unmarshal(plain, &keys); err != nil {
		return CustodyKeys{}, fmt.Errorf("%s decrypted but its content is not valid: %w", path, err)
	}
	return keys, nil
}

func custodyAEAD(passphrase, salt []byte, kdf KDFParams) (cipher.AEAD, error) {
	key := argon2.IDKey(passphrase, salt, kdf.Time, kdf.Memory, kdf.Threads, 32)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating AES cipher: %w", err)
	}
	return cipher.NewGCM(block)
}

// FileCustody is the demo custody action: write the shares to the
// passphrase-encrypted custody file, then read it back to prove it opens.
func FileCustody(path string, passphrase []byte) Custody {
	return func(ctx context.Context, r *InitResult) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		keys := CustodyKeys{Keys: r.Keys, Shares: r.Shares, Threshold: r.Threshold, Created: time.Now().UTC()}
		if err := WriteCustodyFile(path, keys, passphrase, DefaultKDF); err != nil {
			return err
		}
		back, err := ReadCustodyFile(path, passphrase)
		if err != nil {
			return fmt.Errorf("the custody file was written but does not read back: %w", err)
		}
		if len(back.Keys) != len(r.Keys) {
			return errors.New("the custody file was written but reads back different shares")
		}
		return nil
	}
}

// PassphraseFromEnv reads the custody passphrase from an environment
// variable (for unattended classroom unseal).
func PassphraseFromEnv(name string) ([]byte, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		return nil, fmt.Errorf("environment variable %s with the custody passphrase is not set", name)
	}
	return []byte(v), nil
}

// PassphraseFromFile reads the custody passphrase from a file (one line;
// the trailing newline is dropped). The file must not be readable by group
// or others.
func PassphraseFromFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading the custody passphrase file: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the custody passphrase file %s is readable by others (mode %v): chmod 600 it", path, fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the custody passphrase file: %w", err)
	}
	p := strings.TrimRight(string(data), "\r\n")
	if p == "" {
		return nil, fmt.Errorf("the custody passphrase file %s is empty", path)
	}
	return []byte(p), nil
}
