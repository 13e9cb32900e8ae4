// Package delivered reads back the secret files the vault step delivered
// and recovers from them every value Vault holds for the installation,
// whatever format each service receives it in. The support bundle's
// redaction and the secrets-leakage check both search for exactly these
// values, so neither can miss one the other knows.
package delivered

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/fineract-installer/fineract-installer/assets"
)

// MinLength is the shortest value searched for: shorter strings occur in
// ordinary text by chance. The installer generates 32 characters or more.
const MinLength = 12

// maxFile bounds what is read of one secret file; the installer's are
// under 200 bytes.
const maxFile = 64 << 10

// Secrets returns, each once and in the order of the services' needs,
// every Vault value the delivered files hold, and every hash a hashing
// format stores in a value's place (see assets.Recovered). It returns what
// it could recover and, joined, an error for each file it could not read
// or recover, each value too short to search for, and each Vault key
// whose value no delivered file gives back.
//
// Each file is opened without following a symbolic link, must be a
// regular file, and is read only up to a small limit: the files belong to
// their services, which may have changed them.
func Secrets(ctx context.Context, services []assets.Service, secretsDir string) ([][]byte, error) {
	root, err := os.OpenRoot(secretsDir)
	if err != nil {
		return nil, fmt.Errorf("open the delivered secrets: %w", err)
	}
	defer root.Close()
	var (
		out    [][]byte
		errs   []error
		seen   = map[string]bool{}
		keys   []string            // Vault path#key, in order
		found  = map[string]bool{} // keys whose value was recovered
		failed = map[string]bool{} // keys with a file that could not be used
	)
	add := func(v string) {
		if !seen[v] {
			seen[v] = true
			out = append(out, []byte(v))
		}
	}
	record := func(got assets.Recovered, key, path string) {
		for _, v := range []string{got.Value, got.Hash} {
			switch {
			case v == "":
			case len(v) < MinLength:
				errs = append(errs, fmt.Errorf("%s (%s) holds a value of %d characters, too short to search for (at least %d); replace it with a generated one",
					path, key, len(v), MinLength))
				failed[key] = true
			default:
				add(v)
			}
		}
		if got.Value != "" {
			found[key] = true
		}
	}
	for _, svc := range services {
		for _, file := range svc.SecretFiles() {
			if err := ctx.Err(); err != nil {
				return out, fmt.Errorf("read the delivered secrets: %w", err)
			}
			var needs []assets.SecretNeed
			for _, need := range svc.Secrets {
				if need.File == file {
					needs = append(needs, need)
					if key := need.VaultPath + "#" + need.Key; !slices.Contains(keys, key) {
						keys = append(keys, key)
					}
				}
			}
			name := filepath.Join(svc.Name, file)
			parts, readErr := readParts(root, name, len(needs))
			if readErr != nil {
				errs = append(errs, fmt.Errorf("%s: %w", filepath.Join(secretsDir, name), readErr))
			}
			for i, need := range needs {
				key := need.VaultPath + "#" + need.Key
				if readErr != nil {
					failed[key] = true
					continue
				}
				got, err := need.Recover(parts[i])
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", filepath.Join(secretsDir, name), err))
					failed[key] = true
					continue
				}
				record(got, key, filepath.Join(secretsDir, name))
			}
		}
	}
	for _, key := range keys {
		if !found[key] && !failed[key] {
			errs = append(errs, fmt.Errorf("no delivered file gives back the value of %s (only a hash of it is delivered)", key))
		}
	}
	return out, errors.Join(errs...)
}

// readParts reads one delivered file and cuts it into the parts its n
// needs wrote: the whole file for one need; one line each when several
// needs share the file (their formats write one line).
func readParts(root *os.Root, name string, n int) ([][]byte, error) {
	data, err := readFile(root, name)
	if err != nil || n == 1 {
		return [][]byte{data}, err
	}
	parts := bytes.SplitAfter(data, []byte("\n"))
	if len(parts) > 0 && len(parts[len(parts)-1]) == 0 {
		parts = parts[:len(parts)-1]
	}
	if len(parts) != n {
		return nil, fmt.Errorf("holds %d lines; the installer writes %d (one per setting)", len(parts), n)
	}
	return parts, nil
}

// readFile reads one delivered file, bounded.
func readFile(root *os.Root, name string) ([]byte, error) {
	f, err := root.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("open: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", fi.Mode().Type())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(data) > maxFile {
		return nil, fmt.Errorf("larger than %d bytes, which no secret file the installer writes is", maxFile)
	}
	return data, nil
}

// Value returns one Vault value a service received, read back from the
// delivered file that holds it (with the same care as Secrets): the check
// that needs a credential uses what the installer delivered rather than
// keeping a copy of its own.
func Value(ctx context.Context, svc assets.Service, secretsDir, vaultPath, key string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	var file string
	for _, need := range svc.Secrets {
		if need.VaultPath == vaultPath && need.Key == key {
			file = need.File
			break
		}
	}
	if file == "" {
		return "", fmt.Errorf("%s receives no secret %s#%s", svc.Name, vaultPath, key)
	}
	var needs []assets.SecretNeed
	for _, need := range svc.Secrets {
		if need.File == file {
			needs = append(needs, need)
		}
	}
	root, err := os.OpenRoot(secretsDir)
	if err != nil {
		return "", fmt.Errorf("open the delivered secrets: %w", err)
	}
	defer root.Close()
	name := filepath.Join(svc.Name, file)
	parts, err := readParts(root, name, len(needs))
	if err != nil {
		return "", fmt.Errorf("%s: %w", filepath.Join(secretsDir, name), err)
	}
	for i, need := range needs {
		if need.VaultPath != vaultPath || need.Key != key {
			continue
		}
		got, err := need.Recover(parts[i])
		if err != nil {
			return "", fmt.Errorf("%s: %w", filepath.Join(secretsDir, name), err)
		}
		if got.Value == "" {
			return "", fmt.Errorf("%s holds only a hash of %s#%s", filepath.Join(secretsDir, name), vaultPath, key)
		}
		return got.Value, nil
	}
	return "", fmt.Errorf("%s receives no secret %s#%s", svc.Name, vaultPath, key)
}
