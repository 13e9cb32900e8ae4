package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// User passwords in m_appuser.password, as Fineract stores them
// (apache/fineract, read at develop 4198b0b (2024-10)): SecurityConfig
// .passwordEncoder() is PasswordEncoderFactories
// .createDelegatingPasswordEncoder(), so a value is "{id}encoded" and new
// passwords are written "{bcrypt}$2a$10$..." (BCryptPasswordEncoder,
// strength 10). The seeded users of 0002_initial_data.xml carry
// "{SHA-256}{<user id>}5787039480429368bf94732aacc771cd0a3ea02bcf504ffe1185ab94213bc63a",
// which Spring's MessageDigestPasswordEncoder("SHA-256") checks
// (spring-projects/spring-security, crypto/.../password/
// MessageDigestPasswordEncoder.java): the salt is the leading "{...}"
// including its braces, the digest is hex(SHA-256(raw + salt)).
//
// sha256("password{1}") is 5787...c63a, so the seeded mifos (id 1) has the
// password "password". system (id 2) and interopUser (id 3) carry the same
// digest behind the salts {2} and {3}: "password" does not verify for them
// (sha256("password{2}") is 298c...c9dc), nor does any password anyone
// knows. Fineract answers 401 to them too.

// bcryptMaxBytes is where bcrypt stops reading a password; Spring's BCrypt
// (jBCrypt) ignores the rest, x/crypto refuses it, so the stand-in cuts.
const bcryptMaxBytes = 72

func bcryptInput(raw string) []byte {
	b := []byte(raw)
	if len(b) > bcryptMaxBytes {
		b = b[:bcryptMaxBytes]
	}
	return b
}

// encodePassword is DelegatingPasswordEncoder.encode: {bcrypt} and a fresh
// salt, so encoding the same password twice gives different strings.
func encodePassword(raw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword(bcryptInput(raw), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("encode password: %w", err)
	}
	return "{bcrypt}" + string(h), nil
}

// passwordMatches is DelegatingPasswordEncoder.matches for the encoders
// Fineract's data uses. A value without a known {id} matches nothing
// (Spring throws "There is no PasswordEncoder mapped for the id").
func passwordMatches(raw, stored string) bool {
	switch {
	case strings.HasPrefix(stored, "{bcrypt}"):
		return bcrypt.CompareHashAndPassword([]byte(strings.TrimPrefix(stored, "{bcrypt}")), bcryptInput(raw)) == nil
	case strings.HasPrefix(stored, "{SHA-256}"):
		return sha256Matches(raw, strings.TrimPrefix(stored, "{SHA-256}"))
	}
	return false
}

// sha256Matches is MessageDigestPasswordEncoder("SHA-256").matches.
func sha256Matches(raw, encoded string) bool {
	salt := ""
	if strings.HasPrefix(encoded, "{") {
		if end := strings.IndexByte(encoded, '}'); end >= 0 {
			salt = encoded[:end+1]
		}
	}
	sum := sha256.Sum256([]byte(raw + salt))
	want := salt + hex.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(want), []byte(encoded)) == 1
}
