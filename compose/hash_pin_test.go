package compose

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// pinnedProject is a service with a setting, a config, a secret and a
// single-file bind, its files under dir.
func pinnedProject(t *testing.T, dir string) (*types.Project, types.ServiceConfig) {
	t.Helper()
	for name, content := range map[string]string{"nginx.conf": "worker_processes 1;", "pw": "s3cret", "bind.txt": "bound"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := &types.Project{Name: "p",
		Configs: types.Configs{"conf": {Name: "conf", File: filepath.Join(dir, "nginx.conf")}},
		Secrets: types.Secrets{"pw": {Name: "pw", File: filepath.Join(dir, "pw")}},
	}
	mode := "X=1"
	s := types.ServiceConfig{Name: "gw", ContainerSpec: types.ContainerSpec{
		Image:       "nginx",
		Environment: types.MappingWithEquals{"MODE": &mode},
		Configs:     []types.ServiceConfigObjConfig{{Source: "conf"}},
		Secrets:     []types.ServiceSecretConfig{{Source: "pw"}},
		Volumes:     []types.ServiceVolumeConfig{{Type: types.VolumeTypeBind, Source: filepath.Join(dir, "bind.txt"), Target: "/etc/bind.txt"}},
	}}
	return p, s
}

// The config hash must stay what earlier releases computed: a change of it
// would recreate every container of every installation at the first apply
// after an upgrade of the installer, for no reason.
func TestConfigHashIsStableAcrossReleases(t *testing.T) {
	dir := "/tmp/fineract-installer-hash-pin"
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	p, s := pinnedProject(t, dir)
	got, err := configHash(p, s, "sha256:1")
	if err != nil {
		t.Fatal(err)
	}
	const want = "c6456ecccab4513b6adcfd6d962714380d41a5b203be814d30e89bad663e981c"
	if got != want {
		t.Errorf("config hash changed: got %s, earlier releases computed %s", got, want)
	}
}
