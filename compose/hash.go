package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/compose-spec/compose-go/v2/types"
)

// configHash identifies everything that, when changed, needs the service's
// container recreated: the service definition, the image it resolved to, and
// the content of the files mounted into it (configs, secrets, single-file
// binds). Mounted file content is included because a changed nginx.conf or a
// rotated secret must reach the container; docker compose itself misses that.
// Fields that never require a new container (depends_on, profiles, scale)
// are left out, as docker compose does.
func configHash(p *types.Project, s types.ServiceConfig, imageID string) (string, error) {
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
		return "", fmt.Errorf("hash service %s: %w", s.Name, err)
	}
	h := sha256.New()
	h.Write(def)
	h.Write([]byte{0})
	h.Write([]byte(imageID))
	for _, f := range mountedFiles(p, s) {
		if err := hashFile(h, f); err != nil {
			return "", fmt.Errorf("hash service %s: %w", s.Name, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// mountedFiles lists host files whose content the container sees.
func mountedFiles(p *types.Project, s types.ServiceConfig) []string {
	var files []string
	for _, ref := range s.Secrets {
		if def, ok := p.Secrets[ref.Source]; ok && def.File != "" {
			files = append(files, def.File)
		}
	}
	for _, ref := range s.Configs {
		if def, ok := p.Configs[ref.Source]; ok && def.File != "" {
			files = append(files, def.File)
		}
	}
	for _, v := range s.Volumes {
		if v.Type != types.VolumeTypeBind {
			continue
		}
		// Directories are skipped: walking a data directory on every
		// apply would be slow and would churn on files the service writes.
		if fi, err := os.Stat(v.Source); err == nil && fi.Mode().IsRegular() {
			files = append(files, v.Source)
		}
	}
	sort.Strings(files)
	return files
}

func hashFile(h io.Writer, name string) error {
	f, err := os.Open(name)
	if os.IsNotExist(err) {
		// A missing file is an apply-time error reported by the engine with
		// context; for the hash it simply contributes its name.
		_, _ = io.WriteString(h, "missing:"+name)
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	_, _ = io.WriteString(h, name+"\x00")
	if _, err := io.Copy(h, f); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}
