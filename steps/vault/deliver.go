package vault

import (
	"context"
	"fmt"
	"regexp"

	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

// Delivery says which secrets one service receives as files. Files listed
// more than once under the same name are parts of one file (a
// configuration file holding several settings), joined in listed order.
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
	for _, f := range d.Files {
		if !fileNameRE.MatchString(f.Name) {
			return fmt.Errorf("service %s: file name %q is invalid", d.Service, f.Name)
		}
		if !secretPathRE.MatchString(f.Path) {
			return fmt.Errorf("service %s file %s: %q is not a secret path under banking/", d.Service, f.Name, f.Path)
		}
	}
	return nil
}

// Deliver writes each service's secrets as files under root (on the host a
// tmpfs under /run): root/SERVICE/NAME, each file owned by the service's
// uid and gid with mode 0400, every directory root's own with mode 0700
// (secretdir.go says why and how). A service whose files already hold the
// right values is left alone; otherwise its directory is rebuilt to hold
// exactly what the delivery lists. token needs read access under banking/
// (the installer policy).
func (c *Conn) Deliver(ctx context.Context, token, root string, deliveries []Delivery, emit event.Emitter) error {
	emit = event.Or(emit)
	for _, d := range deliveries {
		if err := d.validate(); err != nil {
			return err
		}
	}
	cl, err := c.withToken(token)
	if err != nil {
		return err
	}
	tree, err := openSecretTree(root)
	if err != nil {
		return err
	}
	defer tree.Close()
	kv := cl.KVv2(KVMount)
	cache := map[string]map[string]interface{}{}
	for _, d := range deliveries {
		want, err := d.contents(ctx, kv, cache)
		if err != nil {
			return err
		}
		changed, err := tree.diff(want)
		if err != nil {
			return err
		}
		if changed == 0 {
			continue
		}
		if err := tree.put(want); err != nil {
			return err
		}
		emit.Info(eventSubject, fmt.Sprintf("delivered %d secret file(s) to %s", changed, d.Service))
	}
	return nil
}

// contents reads the delivery's values from Vault and formats each file.
func (d Delivery) contents(ctx context.Context, kv *api.KVv2, cache map[string]map[string]interface{}) (serviceFiles, error) {
	want := serviceFiles{service: d.Service, uid: d.UID, gid: d.GID, files: map[string][]byte{}}
	for _, f := range d.Files {
		val, err := secretValue(ctx, kv, cache, f)
		if err != nil {
			return want, fmt.Errorf("service %s: %w", d.Service, err)
		}
		if f.Format != nil {
			if val, err = f.Format(string(val)); err != nil {
				return want, fmt.Errorf("service %s: %w", d.Service, err)
			}
		}
		want.files[f.Name] = append(want.files[f.Name], val...)
	}
	return want, nil
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
