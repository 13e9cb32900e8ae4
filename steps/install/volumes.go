package install

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/compose"
)

// A service's data volume belongs to it: the volume's root is owned by the
// service's uid and gid with mode 0700. Volumes are mounted with nocopy,
// so Docker never gives a new volume the image directory's owner instead.

// volumeMode is the mode of a data volume's root.
const volumeMode = 0o700

// dataVolume is one service's named data volume.
type dataVolume struct {
	service  string
	name     string // Docker's name of the volume
	uid, gid int
}

// dataVolumes lists every service's data volumes with their Docker names.
func (env *Env) dataVolumes(p *compose.Project) ([]dataVolume, error) {
	var out []dataVolume
	for _, svc := range env.Bundle.Services {
		for _, key := range svc.DataVolumes {
			v, ok := p.Volumes[key]
			if !ok {
				return nil, fmt.Errorf("volume %s of %s is not in the rendered compose file", key, svc.Name)
			}
			out = append(out, dataVolume{service: svc.Name, name: v.Name, uid: svc.UID, gid: svc.GID})
		}
	}
	return out, nil
}

// volumesOwned reports whether every data volume's root belongs to its
// service; reason names the first that does not.
func (env *Env) volumesOwned(ctx context.Context, p *compose.Project) (bool, string, error) {
	vols, err := env.dataVolumes(p)
	if err != nil {
		return false, "", err
	}
	for _, v := range vols {
		root, err := env.openVolume(ctx, v)
		if err != nil {
			return false, "", err
		}
		ok, reason, err := ownedBy(root, v)
		root.Close()
		if err != nil || !ok {
			return false, reason, err
		}
	}
	return true, "", nil
}

// handOverVolumes gives each data volume to its service. A new, empty
// volume only needs its root changed; a volume holding data made under
// other ids (an install by an earlier release, or another
// service_ids_from) is handed over whole, after the service's container is
// stopped so nothing writes in it meanwhile. The walk never follows a link
// and never leaves the volume.
func (env *Env) handOverVolumes(ctx context.Context, p *compose.Project, info func(string, string)) error {
	vols, err := env.dataVolumes(p)
	if err != nil {
		return err
	}
	for _, v := range vols {
		if err := env.handOver(ctx, v, info); err != nil {
			return fmt.Errorf("give volume %s to %s (uid %d): %w", v.name, v.service, v.uid, err)
		}
	}
	return nil
}

func (env *Env) handOver(ctx context.Context, v dataVolume, info func(string, string)) error {
	root, err := env.openVolume(ctx, v)
	if err != nil {
		return err
	}
	defer root.Close()
	if ok, _, err := ownedBy(root, v); err != nil || ok {
		return err
	}
	entries, err := fs.ReadDir(root.FS(), ".")
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		if err := env.stopService(ctx, v.service); err != nil {
			return err
		}
		n := 0
		err := fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			n++
			return root.Lchown(p, v.uid, v.gid)
		})
		if err != nil {
			return err
		}
		info(v.service, fmt.Sprintf("volume %s handed over to uid %d (%d files and directories)", v.name, v.uid, n))
	} else if err := root.Lchown(".", v.uid, v.gid); err != nil {
		return err
	}
	return root.Chmod(".", volumeMode)
}

// openVolume opens a volume's directory on this host (the local driver).
func (env *Env) openVolume(ctx context.Context, v dataVolume) (*os.Root, error) {
	vol, err := env.Engine.API().VolumeInspect(ctx, v.name)
	if err != nil {
		return nil, fmt.Errorf("inspect volume %s: %w", v.name, err)
	}
	root, err := os.OpenRoot(vol.Mountpoint)
	if err != nil {
		return nil, fmt.Errorf("open volume %s at %s (the installer must run on the Docker host, as root): %w", v.name, vol.Mountpoint, err)
	}
	return root, nil
}

// ownedBy reports whether the volume's root belongs to its service.
func ownedBy(root *os.Root, v dataVolume) (bool, string, error) {
	fi, err := root.Lstat(".")
	if err != nil {
		return false, "", err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false, "", errors.New("no owner information for the volume")
	}
	if int(st.Uid) != v.uid || int(st.Gid) != v.gid || fi.Mode().Perm() != volumeMode {
		return false, fmt.Sprintf("volume %s belongs to %d:%d (mode %04o), not to %s's %d:%d", v.name, st.Uid, st.Gid, fi.Mode().Perm(), v.service, v.uid, v.gid), nil
	}
	return true, "", nil
}

// stopService stops the service's containers, if any run.
func (env *Env) stopService(ctx context.Context, service string) error {
	st, err := env.Engine.Status(ctx, env.Project)
	if err != nil {
		return err
	}
	for _, c := range st {
		if c.Service != service {
			continue
		}
		if err := env.Engine.API().ContainerStop(ctx, c.ID, container.StopOptions{}); err != nil {
			return fmt.Errorf("stop %s before handing its volume over: %w", service, err)
		}
	}
	return nil
}
