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
	"syscall"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
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
//
// The argon2id parameters are only authenticated once the key is derived,
// so they are checked against passphrase.Limits before: the same limits,
// and the same DefaultKDF, as the backup archive.
const (
	custodyMagic   = "FIVKEYS"
	custodyVersion = 1
	kdfArgon2id    = 1
	custodySalt    = 16
	custodyNonce   = 12
	// maxCustodyFile bounds the read: 255 shares of 44 base64 characters
	// are about 12 KiB of JSON.
	maxCustodyFile = 256 << 10
)

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

// WriteCustodyFile encrypts keys with pass and writes them to path
// atomically (fsync, mode 0600). pass must pass passphrase.CheckNew and kdf
// must be within passphrase.Limits.
func WriteCustodyFile(path string, keys CustodyKeys, pass []byte, kdf passphrase.KDF) error {
	if err := passphrase.CheckNew(pass); err != nil {
		return fmt.Errorf("the custody passphrase: %w", err)
	}
	if err := passphrase.Limits.Check(kdf); err != nil {
		return err
	}
	plain, err := json.Marshal(keys)
	if err != nil {
		return fmt.Errorf("encoding custody keys: %w", err)
	}
	salt := make([]byte, custodySalt)
	nonce := make([]byte, custodyNonce)
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
	aead, err := custodyAEAD(pass, salt, kdf)
	if err != nil {
		return err
	}
	out := aead.Seal(hdr.Bytes(), nonce, plain, hdr.Bytes())
	if err := atomicfile.WriteFile(path, out, 0o600); err != nil {
		return fmt.Errorf("writing the Vault key custody file: %w", err)
	}
	return nil
}

// ReadCustodyFile decrypts the custody file at path with pass. It takes
// any passphrase, and refuses argon2id parameters outside passphrase.Limits
// before deriving the key (errors wrap passphrase.ErrKDFRefused).
func ReadCustodyFile(path string, pass []byte) (CustodyKeys, error) {
	data, err := readCustodyFile(path)
	if err != nil {
		return CustodyKeys{}, err
	}
	r := bytes.NewReader(data)
	magic := make([]byte, len(custodyMagic))
	if _, err := io.ReadFull(r, magic); err != nil || string(magic) != custodyMagic {
		return CustodyKeys{}, fmt.Errorf("%s is not a Vault key custody file", path)
	}
	var version, kdfID, threads, saltLen byte
	var kdf passphrase.KDF
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
	if err := passphrase.Limits.CheckAll([]passphrase.KDF{kdf}); err != nil {
		return CustodyKeys{}, fmt.Errorf("%s asks for key derivation this installer never writes, so it may have been tampered with; refusing it before deriving any key: %w", path, err)
	}
	if saltLen < custodySalt {
		return CustodyKeys{}, fmt.Errorf("%s has a %d-byte salt, shorter than the %d bytes this installer writes; it may have been tampered with", path, saltLen, custodySalt)
	}
	salt := make([]byte, saltLen)
	nonce := make([]byte, custodyNonce)
	if _, err := io.ReadFull(r, salt); err != nil {
		return CustodyKeys{}, fmt.Errorf("%s: truncated header", path)
	}
	if _, err := io.ReadFull(r, nonce); err != nil {
		return CustodyKeys{}, fmt.Errorf("%s: truncated header", path)
	}
	hdrLen := len(data) - r.Len()
	aead, err := custodyAEAD(pass, salt, kdf)
	if err != nil {
		return CustodyKeys{}, err
	}
	plain, err := aead.Open(nil, nonce, data[hdrLen:], data[:hdrLen])
	if err != nil {
		return CustodyKeys{}, ErrWrongPassphrase
	}
	defer clear(plain)
	var keys CustodyKeys
	if err := json.Unmarshal(plain, &keys); err != nil {
		return CustodyKeys{}, fmt.Errorf("%s decrypted but its content is not valid: %w", path, err)
	}
	return keys, nil
}

// readCustodyFile reads the custody file, which the installer writes as a
// regular file of a few KiB: nothing else is read, and never more.
func readCustodyFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("reading the Vault key custody file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("reading the Vault key custody file: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxCustodyFile {
		return nil, fmt.Errorf("%s is not a Vault key custody file (not a regular file of at most %d bytes)", path, maxCustodyFile)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCustodyFile+1))
	if err != nil {
		return nil, fmt.Errorf("reading the Vault key custody file: %w", err)
	}
	if len(data) > maxCustodyFile {
		return nil, fmt.Errorf("%s grew past %d bytes while it was read", path, maxCustodyFile)
	}
	return data, nil
}

func custodyAEAD(pass, salt []byte, kdf passphrase.KDF) (cipher.AEAD, error) {
	key := kdf.Key(pass, salt)
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating AES cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating AES-GCM: %w", err)
	}
	return aead, nil
}

// FileCustody is the demo custody action: write the shares to the
// passphrase-encrypted custody file, then read it back to prove it opens.
func FileCustody(path string, pass []byte) Custody {
	return func(ctx context.Context, r *InitResult) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		keys := CustodyKeys{Keys: r.Keys, Shares: r.Shares, Threshold: r.Threshold, Created: time.Now().UTC()}
		if err := WriteCustodyFile(path, keys, pass, passphrase.DefaultKDF); err != nil {
			return err
		}
		back, err := ReadCustodyFile(path, pass)
		if err != nil {
			return fmt.Errorf("the custody file was written but does not read back: %w", err)
		}
		if len(back.Keys) != len(r.Keys) {
			return errors.New("the custody file was written but reads back different shares")
		}
		return nil
	}
}
