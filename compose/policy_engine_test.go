package compose_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// assertNothingCreated fails when the project has any container, network
// or volume on the engine, by label or by the name compose would give it.
func assertNothingCreated(t *testing.T, e *compose.Engine, project string, networks, volumes []string) {
	t.Helper()
	ctx := ctxT(t)
	byProject := filters.NewArgs(filters.Arg("label", compose.LabelProject+"="+project))
	cs, err := e.API().ContainerList(ctx, container.ListOptions{All: true, Filters: byProject})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		t.Errorf("container %v was created", c.Names)
	}
	ns, err := e.API().NetworkList(ctx, network.ListOptions{Filters: byProject})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns {
		t.Errorf("network %s was created", n.Name)
	}
	vs, err := e.API().VolumeList(ctx, volume.ListOptions{Filters: byProject})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs.Volumes {
		t.Errorf("volume %s was created", v.Name)
	}
	for _, n := range networks {
		if _, err := e.API().NetworkInspect(ctx, project+"_"+n, network.InspectOptions{}); err == nil {
			t.Errorf("network %s_%s exists", project, n)
		}
	}
	for _, v := range volumes {
		if _, err := e.API().VolumeInspect(ctx, project+"_"+v); err == nil {
			t.Errorf("volume %s_%s exists", project, v)
		}
	}
}

// A compose file that would own the host (privileged, root, the host's
// root directory mounted) is refused before anything exists, even when the
// apply selects only a harmless service of the same file.
func TestUpRefusesAHostileComposeFileAndCreatesNothing(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	dir, load := labtest.WriteProject(t, project, fmt.Sprintf(`
services:
  vault:
    image: %[1]s
    init: true
    command: [sleep, "3600"]
    privileged: true
    user: "0:0"
    volumes: ["/:/host"]
    networks: [data]
  web:
    image: %[1]s
    init: true
    command: [sleep, "3600"]
    user: "65534:65534"
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    volumes: [state:/state]
    networks: [data]
networks:
  data: {}
volumes:
  state: {}
`, img), nil)
	pol := compose.Policy{BindRoots: []string{dir}}
	for _, services := range [][]string{nil, {"web"}} {
		err := e.Up(ctxT(t), load(), compose.UpOptions{Services: services, Policy: pol}, nil)
		var refused *compose.PolicyError
		if !errors.As(err, &refused) {
			t.Errorf("up %v: want the file refused, got %v", services, err)
		}
		for _, want := range []string{"service vault: privileged: true", `service vault: user "0:0" (root)`, "service vault: volume /", "the compose file was not applied"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("up %v: the error does not say %q:\n%v", services, want, err)
			}
		}
		assertNothingCreated(t, e, project, []string{"data"}, []string{"state"})
	}
}

// A volume made earlier with bind options (say, by a file applied before
// this check existed) would mount a host path under an innocent name; the
// engine looks at what it holds, not only at the file.
func TestUpRefusesAVolumeTheEngineHoldsWithBindOptions(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	ctx := ctxT(t)
	name := project + "_state"
	if _, err := e.API().VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: "local",
		DriverOpts: map[string]string{"type": "none", "o": "bind", "device": t.TempDir()},
		Labels:     map[string]string{compose.LabelProject: project, compose.LabelVolume: "state"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.API().VolumeRemove(ctx, name, true) })
	dir, load := labtest.WriteProject(t, project, fmt.Sprintf(`
services:
  web:
    image: %s
    init: true
    command: [sleep, "3600"]
    user: "65534:65534"
    cap_drop: [ALL]
    security_opt: ["no-new-privileges:true"]
    volumes: [state:/state]
volumes:
  state: {}
`, img), nil)
	err := e.Up(ctx, load(), compose.UpOptions{Policy: compose.Policy{BindRoots: []string{dir}}}, nil)
	var refused *compose.PolicyError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "volume state: the existing volume "+name) {
		t.Fatalf("want the volume refused, got %v", err)
	}
	cs, err := e.API().ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", compose.LabelProject+"="+project))})
	if err != nil || len(cs) != 0 {
		t.Errorf("containers were created: %v %v", cs, err)
	}
}

// Creating a project's volumes alone (the installer's networks step) refuses
// a volume whose driver options would mount a host path, and creates none.
func TestEnsureNetworksRefusesAVolumeWithDriverOptions(t *testing.T) {
	e := labtest.Engine(t)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, `
services: {}
networks:
  data: {}
volumes:
  data: {driver_opts: {type: none, o: bind, device: /}}
`, nil)
	err := e.EnsureNetworks(ctxT(t), load(), nil)
	var refused *compose.PolicyError
	if !errors.As(err, &refused) || !strings.Contains(err.Error(), "volume data: driver_opts") {
		t.Fatalf("want the volume refused, got %v", err)
	}
	assertNothingCreated(t, e, project, []string{"data"}, []string{"data"})
}
