package tenants

import (
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

// Fineract's tenant password encryption, from apache/fineract
// 4198b0bcf9a94e1c7aa0f386317ba71f40ceb1d9
// fineract-core/src/main/java/org/apache/fineract/infrastructure/security/utils/EncryptionUtil.java:
// generateKeySpec derives the AES-256 key with PBKDF2WithHmacSHA1 over the
// master password, a random 16-byte salt, 65536 iterations, 256 bits;
// encryptToBase64 encrypts with DatabasePasswordEncryptor.DEFAULT_ENCRYPTION,
// "AES/CBC/PKCS5Padding", under a random 16-byte IV and stores
// base64(iv || salt || ciphertext).
const (
	kdfIterations = 65536
	kdfKeyBytes   = 32
	saltBytes     = 16
)

// EncryptPassword encrypts a tenant database password the way Fineract
// decrypts tenant_server_connections.schema_password.
func EncryptPassword(masterPassword, password string) (string, error) {
	var ivSalt [aes.BlockSize + saltBytes]byte
	if _, err := rand.Read(ivSalt[:]); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	iv, salt := ivSalt[:aes.BlockSize], ivSalt[aes.BlockSize:]
	block, err := tenantCipher(masterPassword, salt)
	if err != nil {
		return "", err
	}
	// PKCS#5 padding: always 1..16 bytes, each the pad length.
	pad := aes.BlockSize - len(password)%aes.BlockSize
	data := make([]byte, len(password)+pad)
	copy(data, password)
	for i := len(password); i < len(data); i++ {
		data[i] = byte(pad)
	}
	out := make([]byte, len(ivSalt)+len(data))
	copy(out, ivSalt[:])
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(out[len(ivSalt):], data)
	return base64.StdEncoding.EncodeToString(out), nil
}

func tenantCipher(masterPassword string, salt []byte) (cipher.Block, error) {
	if masterPassword == "" {
		return nil, errors.New("the tenant master password is empty")
	}
	// Java's PBEKeySpec hands the password to the PRF as UTF-8 bytes for
	// PBKDF2WithHmacSHA1 (com.sun.crypto.provider.PBKDF2KeyImpl).
	key, err := pbkdf2.Key(sha1.New, masterPassword, salt, kdfIterations, kdfKeyBytes)
	if err != nil {
		return nil, fmt.Errorf("derive the tenant password key: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("tenant password cipher: %w", err)
	}
	return block, nil
}

// bcryptCost is Spring Security's BCrypt.gensalt() default (10), which
// DatabasePasswordEncryptor.getPasswordHash uses.
const bcryptCost = 10

// MasterPasswordHash is what Fineract expects in
// tenant_server_connections.master_password_hash: BCrypt of the master
// password (DatabasePasswordEncryptor.getPasswordHash). Fineract refuses to
// open a tenant's pool unless BCrypt.checkpw accepts it.
func MasterPasswordHash(masterPassword string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(masterPassword), bcryptCost)
	if err != nil {
		return "", fmt.Errorf("hash the tenant master password: %w", err)
	}
	return string(h), nil
}
