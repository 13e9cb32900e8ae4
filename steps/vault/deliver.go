package vault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"syscall"

	"github.com/hashicorp/vault/api"
)

// Delivery says which secrets one service receives as files.
type Delivery struct {
	// Service names the directory under the delivery root.
	Service string
	// UID and GID own the directory and files: the service's user inside
	// its container.
	UID, GID int
	Files    []SecretFile
}

// SecretFile is one file: the value of Key in the secret at Path.
type SecretFile struct {
	Name string // file name inside the service directory
	Path string // e.g. banking/databases/fineract
	Key  string
	// Format turns the stored value into the file's content (an ACL line,
	// a YAML setting); nil writes the value itself.
	Format func(value string) ([]byte, error)
}

var fileNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

func (d Delivery) validate() error {
	if !fileNameRE.MatchString(d.Service) {
		return fmt.Errorf("service name %q is not a valid directory name", d.Service)
	}
	if d.UID < 0 || d.GID < 0 {
		return fmt.Errorf("service %s: uid/gid must not be negative", d.Service)
	}
	seen := map[string]bool{}
	for _, f := range d.Files {
		if !fileNameRE.MatchString(f.Name) || seen[f.Name] {
			return fmt.Errorf("service %s: file name %q is invalid or listed twice", d.Service, f.Name)
		}
		seen[f.Name] = true
		if !secretPathRE.MatchString(f.Path) {
			return fmt.Errorf("service %s file %s: %q is not a secret path under banking/", d.Service, f.Name, f.Path)
		}
	}
	return nil
}

// Deliver writes each service's secrets as files under root (on the host a
// tmpfs under /run): root/SERVICE/NAME, the directory mode 0500 and the
// files 0400, all owned by the service's uid and gid. Files already holding
// the right value, mode and owner are left alone; files in a service
// directory that the delivery no longer lists are removed, so the
// directory always holds exactly what the service should see. token needs
// read access under banking/ (the installer policy).
func (c *Conn) Deliver(ctx context.Context, token, root string, deliveries []Delivery, emit Emit) error {
	for _, d := range deliveries {
		if err := d.validate(); err != nil {
			return err
		}
	}
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(root, 0o711); err != nil {
		return fmt.Errorf("creating the secrets directory %s: %w", root, err)
	}
	kv := cl.KVv2(KVMount)
	cache := map[string]map[string]interface{}{}
	for _, d := range deliveries {
		changed, err := deliverService(ctx, kv, cache, root, d)
		if err != nil {
			return err
		}
		if changed > 0 {
			emit.info(fmt.Sprintf("delivered %d secret file(s) to %s", changed, d.Service))
		}
	}
	return nil
}

func deliverService(ctx context.Context, kv *api.KVv2, cache map[string]map[string]interface{}, root string, d Delivery) (int, error) {
	dir := filepath.Join(root, d.Service)
	if err := os.Mkdir(dir, 0o500); err != nil && !errors.Is(err, fs.ErrExist) {
		return 0, fmt.Errorf("creating %s: %w", dir, err)
	}
	// Writable while we work (matters when not running as root), read-only
	// for its owner afterwards.
	if err := os.Chmod(dir, 0o700); err != nil {
		return 0, fmt.Errorf("opening %s for writing: %w", dir, err)
	}
	changed, err := writeServiceFiles(ctx, kv, cache, dir, d)
	if ferr := ensureOwnerMode(dir, d.UID, d.GID, 0o500); ferr != nil && err == nil {
		err = ferr
	}
	return changed, err
}

func writeServiceFiles(ctx context.Context, kv *api.KVv2, cache map[string]map[string]interface{}, dir string, d Delivery) (int, error) {
	changed := 0
	want := map[string]bool{}
	for _, f := range d.Files {
		want[f.Name] = true
		val, err := secretValue(ctx, kv, cache, f)
		if err != nil {
			return changed, fmt.Errorf("service %s: %w", d.Service, err)
		}
		if f.Format != nil {
			if val, err = f.Format(string(val)); err != nil {
				return changed, fmt.Errorf("service %s: %w", d.Service, err)
			}
		}
		p := filepath.Join(dir, f.Name)
		if upToDate(p, val, d.UID, d.GID) {
			continue
		}
		if err := writeFileAtomic(p, val, 0o400); err != nil {
			return changed, fmt.Errorf("service %s: %w", d.Service, err)
		}
		if err := os.Chown(p, d.UID, d.GID); err != nil {
			return changed, fmt.Errorf("giving %s to uid %d: %w (delivery must run as root to hand files to service users)", p, d.UID, err)
		}
		changed++
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return changed, fmt.Errorf("listing %s: %w", dir, err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return changed, fmt.Errorf("removing stale secret file %s: %w", e.Name(), err)
			}
			changed++
		}
	}
	return changed, nil
}

func secretValue(ctx context.Context, kv *api.KVv2, cache map[string]map[string]interface{}, f SecretFile) ([]byte, error) {
	data, ok := cache[f.Path]
	if !ok {
		s, err := kv.Get(ctx, kvPath(f.Path))
		if err != nil {
			return nil, fmt.Errorf("reading secret %s: %w", f.Path, err)
		}
		data = s.Data
		cache[f.Path] = data
	}
	v, ok := data[f.Key].(string)
	if !ok || v == "" {
		return nil, fmt.Errorf("secret %s has no key %q: generate it first", f.Path, f.Key)
	}
	return []byte(v), nil
}

func ensureOwnerMode(p string, uid, gid int, mode os.FileMode) error {
	if err := os.Chown(p, uid, gid); err != nil {
		return fmt.Errorf("giving %s to uid %d: %w (delivery must run as root to hand files to service users)", p, uid, err)
	}
	if err := os.Chmod(p, mode); err != nil {
		return fmt.Errorf("setting mode of %s: %w", p, err)
	}
	return nil
}

// upToDate reports whether p already holds val with mode 0400 and the
// right owner.
func upToDate(p string, val []byte, uid, gid int) bool {
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o400 {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) != uid || int(st.Gid) != gid {
		return false
	}
	cur, err := os.ReadFile(p)
	return err == nil && bytes.Equal(cur, val)
}
