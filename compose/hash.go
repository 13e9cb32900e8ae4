package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
)

// fingerprint is what a service's container is compared with: Hash decides
// whether it must be recreated, Parts say why. Both come from one reading
// of the service definition and of every mounted file.
type fingerprint struct {
	// Hash identifies everything that, when changed, needs the service's
	// container recreated (label LabelConfigHash).
	Hash string
	// Parts hashes each piece of Hash on its own, keyed "setting:<field>"
	// (a top-level field of the service definition), "image-id",
	// "secret:<name>", "config:<name>" or "file:<target>" (label
	// LabelConfigParts). A container made before the label existed has
	// none, and then only Hash can be compared.
	Parts map[string]string
}

// Keys of fingerprint.Parts.
const (
	partSetting = "setting:"
	partImageID = "image-id"
	partSecret  = "secret:"
	partConfig  = "config:"
	partFile    = "file:"
)

// serviceFingerprint computes the fingerprint of s with the image ID its
// reference resolved to. Hash covers the service definition, the image and
// the content of the files mounted into it (configs, secrets, single-file
// binds). Mounted file content is included because a changed nginx.conf or
// a rotated secret must reach the container; docker compose itself misses
// that. Fields that never require a new container (depends_on, profiles,
// scale) are left out, as docker compose does.
//
// Hash is computed exactly as before Parts existed, so containers created
// by an older installer are not recreated just because it was upgraded.
// Parts hold content hashes of secret files: anyone who can read container
// labels can, through the same Docker API, read the files themselves, so
// they reveal nothing new; they exist so that a plan can name the secret.
func serviceFingerprint(p *types.Project, s types.ServiceConfig, imageID string) (fingerprint, error) {
	return fingerprintWith(p, s, imageID, nil)
}

// fingerprintWith is serviceFingerprint reading files that pending holds
// from there instead of the disk: a plan sees the files an apply would
// write before it creates containers.
func fingerprintWith(p *types.Project, s types.ServiceConfig, imageID string, pending map[string][]byte) (fingerprint, error) {
	c := s
	c.DependsOn = nil
	c.Profiles = nil
	c.Build = nil
	c.PullPolicy = ""
	c.Scale = nil
	if c.Deploy != nil {
		d := *c.Deploy
		d.Replicas = nil
		c.Deploy = &d
	}
	def, err := json.Marshal(c)
	if err != nil {
		return fingerprint{}, fmt.Errorf("hash service %s: %w", s.Name, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(def, &fields); err != nil {
		return fingerprint{}, fmt.Errorf("hash service %s: %w", s.Name, err)
	}
	parts := make(map[string]string, len(fields)+8)
	for k, v := range fields {
		parts[partSetting+k] = sum([]byte(v))
	}
	parts[partImageID] = sum([]byte(imageID))

	h := sha256.New()
	h.Write(def)
	h.Write([]byte{0})
	h.Write([]byte(imageID))
	for _, f := range mountedFiles(p, s, pending) {
		part := partHash()
		if err := hashFile(h, part, f.path, pending); err != nil {
			return fingerprint{}, fmt.Errorf("hash service %s: %w", s.Name, err)
		}
		parts[f.part] = hex.EncodeToString(part.Sum(nil))
	}
	return fingerprint{Hash: hex.EncodeToString(h.Sum(nil)), Parts: parts}, nil
}

// configHash is serviceFingerprint's Hash.
func configHash(p *types.Project, s types.ServiceConfig, imageID string) (string, error) {
	fp, err := serviceFingerprint(p, s, imageID)
	return fp.Hash, err
}

func sum(b []byte) string {
	h := partHash()
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// partDomain is hashed before every part's content. A part is a plain
// digest otherwise, and the plain SHA-256 of a secret is itself a form of
// that secret elsewhere (Redis ACL files hold `#<sha256 of the password>`):
// with it in a label, the label would carry the secret in that form, which
// the secrets check rightly finds.
const partDomain = "org.fineract-installer.config-part\x00"

// partHash is a SHA-256 over partDomain, then the part.
func partHash() hash.Hash {
	h := sha256.New()
	h.Write([]byte(partDomain))
	return h
}

// mountedFile is a host file whose content the container sees, with the
// Parts key that names it.
type mountedFile struct {
	path string
	part string
}

// mountedFiles lists host files whose content the container sees, sorted
// by path (the order Hash has always read them in).
func mountedFiles(p *types.Project, s types.ServiceConfig, pending map[string][]byte) []mountedFile {
	var files []mountedFile
	for _, ref := range s.Secrets {
		if def, ok := p.Secrets[ref.Source]; ok && def.File != "" {
			files = append(files, mountedFile{path: def.File, part: partSecret + ref.Source})
		}
	}
	for _, ref := range s.Configs {
		if def, ok := p.Configs[ref.Source]; ok && def.File != "" {
			files = append(files, mountedFile{path: def.File, part: partConfig + ref.Source})
		}
	}
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		// Directories are skipped: walking a data directory on every
		// apply would be slow and would churn on files the service writes.
		_, isPending := pending[v.Source]
		if fi, err := os.Stat(v.Source); isPending || err == nil && fi.Mode().IsRegular() {
			files = append(files, mountedFile{path: v.Source, part: partFile + v.Target})
		}
	}
	sort.SliceStable(files, func(i, j int) bool { return files[i].path < files[j].path })
	return files
}

// hashFile writes name and content of a file into h and its content alone
// into part.
func hashFile(h, part io.Writer, name string, pending map[string][]byte) error {
	if data, ok := pending[name]; ok {
		_, _ = io.WriteString(h, name+"\x00")
		_, _ = io.MultiWriter(h, part).Write(data)
		return nil
	}
	f, err := os.Open(name)
	if os.IsNotExist(err) {
		// A missing file is an apply-time error reported by the engine with
		// context; for the hash it simply contributes its name.
		_, _ = io.WriteString(h, "missing:"+name)
		_, _ = io.WriteString(part, "missing")
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	_, _ = io.WriteString(h, name+"\x00")
	if _, err := io.Copy(io.MultiWriter(h, part), f); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}
