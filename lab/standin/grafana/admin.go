package main

import (
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// adminFile keeps the admin account in the data directory (Grafana keeps
// it in grafana.db there).
const adminFile = "grafana-standin-admin.json"

type admin struct {
	User string `json:"user"`
	Salt string `json:"salt"`
	Hash string `json:"hash"`
}

func hashPassword(password, salt string) (string, error) {
	k, err := pbkdf2.Key(sha256.New, password, []byte(salt), 10000, 32)
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(k), nil
}

// loadAdmin returns the stored admin account, creating it from the
// configuration on the first start. Like Grafana, it also makes the
// plugins directory: the data directory must be writable.
func loadAdmin(c *config) (*admin, error) {
	if err := os.MkdirAll(filepath.Join(c.DataDir, "plugins"), 0o755); err != nil {
		return nil, fmt.Errorf("GF_PATHS_DATA=%s is not writable: %w", c.DataDir, err)
	}
	path := filepath.Join(c.DataDir, adminFile)
	data, err := os.ReadFile(path)
	if err == nil {
		var a admin
		if err := json.Unmarshal(data, &a); err != nil || a.User == "" {
			return nil, fmt.Errorf("%s is damaged", path)
		}
		return &a, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return nil, err
	}
	a := &admin{User: c.AdminUser, Salt: hex.EncodeToString(salt[:])}
	if a.Hash, err = hashPassword(c.AdminPassword, a.Salt); err != nil {
		return nil, err
	}
	data, _ = json.Marshal(a)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		return nil, fmt.Errorf("GF_PATHS_DATA=%s is not writable: %w", c.DataDir, err)
	}
	return a, nil
}

func (a *admin) check(user, password string) bool {
	h, err := hashPassword(password, a.Salt)
	if err != nil {
		return false
	}
	return user == a.User && subtle.ConstantTimeCompare([]byte(h), []byte(a.Hash)) == 1
}
