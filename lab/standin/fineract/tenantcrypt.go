package main

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// Tenant database passwords in the tenant store, as Fineract keeps them
// (apache/fineract, read at develop 4198b0b (2024-10)):
//
//   - fineract-core/.../infrastructure/security/utils/EncryptionUtil.java:
//     AES/CBC/PKCS5Padding under a key derived with
//     PBKDF2WithHmacSHA1(master password, 16-byte random salt, 65536
//     iterations, 256 bits); stored as base64(iv(16) || salt(16) ||
//     ciphertext).
//   - fineract-core/.../infrastructure/core/service/database/DatabasePasswordEncryptor.java:
//     the master password is fineract.tenant.master-password
//     (application.properties: ${FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD:fineract});
//     master_password_hash is BCrypt.hashpw(master password, gensalt()),
//     and DataSourcePerTenantServiceFactory.createNewDataSourceFor refuses
//     a connection whose hash does not match the master password
//     ("Invalid master password on tenant connection <id>.").
//   - The cipher is always AES/CBC/PKCS5Padding: application.properties
//     spells the setting fineract.tenant.encrytion, which binds to no
//     property of FineractProperties, so DEFAULT_ENCRYPTION applies.

const (
	tenantKeyIterations = 65536
	tenantKeyBytes      = 32
	tenantSaltBytes     = 16
)

func tenantKey(master string, salt []byte) ([]byte, error) {
	return pbkdf2.Key(sha1.New, master, salt, tenantKeyIterations, tenantKeyBytes)
}

// encryptTenantPassword is EncryptionUtil.encryptToBase64.
func encryptTenantPassword(master, plain string) (string, error) {
	head := make([]byte, aes.BlockSize+tenantSaltBytes)
	if _, err := rand.Read(head); err != nil {
		return "", fmt.Errorf("encrypt tenant password: %w", err)
	}
	iv, salt := head[:aes.BlockSize], head[aes.BlockSize:]
	key, err := tenantKey(master, salt)
	if err != nil {
		return "", fmt.Errorf("encrypt tenant password: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("encrypt tenant password: %w", err)
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	data := append([]byte(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	return base64.StdEncoding.EncodeToString(append(head, data...)), nil
}

// errTenantPassword is what Fineract says when a stored password does not
// decrypt (EncryptionUtil.decryptFromBase64).
var errTenantPassword = errors.New("unable to decrypt data; check that the master password and algorithm are correct")

// decryptTenantPassword is EncryptionUtil.decryptFromBase64.
func decryptTenantPassword(master, encoded string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", fmt.Errorf("%w: not base64", errTenantPassword)
	}
	head := aes.BlockSize + tenantSaltBytes
	if len(raw) < head+aes.BlockSize || (len(raw)-head)%aes.BlockSize != 0 {
		return "", fmt.Errorf("%w: %d bytes is not iv, salt and whole blocks", errTenantPassword, len(raw))
	}
	iv, salt, data := raw[:aes.BlockSize], raw[aes.BlockSize:head], raw[head:]
	key, err := tenantKey(master, salt)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errTenantPassword, err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errTenantPassword, err)
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize || !bytes.Equal(plain[len(plain)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return "", fmt.Errorf("%w: bad padding", errTenantPassword)
	}
	return string(plain[:len(plain)-pad]), nil
}

// masterPasswordHash is DatabasePasswordEncryptor.getPasswordHash.
func masterPasswordHash(master string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(master), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash the master password: %w", err)
	}
	return string(h), nil
}

// masterPasswordHashValid is DatabasePasswordEncryptor.isMasterPasswordHashValid.
func masterPasswordHashValid(master, hash string) bool {
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(master)) == nil
}
