// Package composetest gives tests a Docker API whose answers they choose,
// for logic around the engine (what a command prints, what a step's Check
// decides) where a real engine adds nothing. It plays only the calls it
// implements; every other call fails as against an engine that stopped
// answering. Whether the engine really works is proven against a real
// daemon (lab/labtest), never here.
package composetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/fineract-installer/fineract-installer/compose"
)

// Container is one container of a compose project as the fake reports it.
type Container struct {
	ID string
	// Name is the container's name; its ID when empty.
	Name     string
	Project  string
	Service  string
	Image    string
	State    container.ContainerState // "running", "exited", ...
	ExitCode int
	Health   string // "" when the container has no healthcheck
	Restarts int
	Env      []string
	Ports    []container.Port
	Logs     []LogLine
	// LogsErr, when set, is what reading the logs fails with.
	LogsErr error
}

func (c Container) name() string {
	if c.Name != "" {
		return c.Name
	}
	return c.ID
}

// LogLine is one line a container wrote.
type LogLine struct {
	Time   time.Time
	Stderr bool
	Text   string
}

// API is a Docker API client with canned answers. The zero value is an
// engine with nothing on it; set the fields before handing it out.
type API struct {
	// client.APIClient answers every call the fake does not play: an
	// engine that does not answer.
	client.APIClient

	Containers []Container
	Networks   []network.Inspect
	Volumes    []*volume.Volume
	// Images maps a reference to the ID of the image present under it.
	Images  map[string]string
	Version types.Version
	System  system.Info

	mu      sync.Mutex
	removed []string
}

// New returns an API whose unplayed calls fail with a connection error.
func New() *API {
	unreachable, err := client.NewClientWithOpts(client.WithHost("unix:///nonexistent/composetest.sock"))
	if err != nil {
		panic(err) // a fixed, valid host: cannot fail
	}
	return &API{APIClient: unreachable, Images: map[string]string{}}
}

// Engine wraps api in a compose.Engine.
func Engine(api *API) *compose.Engine { return compose.New(api) }

// Removed lists what was removed through the API, in order: "container ID",
// "network ID", "volume NAME".
func (f *API) Removed() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.removed...)
}

func (f *API) record(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, what)
}

// labelled reports whether labels carry every "key=value" of the label
// filter, as the engine's filter does.
func labelled(args filters.Args, labels map[string]string) bool {
	for _, kv := range args.Get("label") {
		k, v, hasValue := strings.Cut(kv, "=")
		got, ok := labels[k]
		if !ok || hasValue && got != v {
			return false
		}
	}
	return true
}

func (c Container) labels() map[string]string {
	return map[string]string{compose.LabelProject: c.Project, compose.LabelService: c.Service}
}

func (f *API) container(id string) (Container, error) {
	for _, c := range f.Containers {
		if c.ID == id || c.name() == id {
			return c, nil
		}
	}
	return Container{}, errdefs.ErrNotFound.WithMessage("no such container: " + id)
}

// ContainerList implements client.APIClient.
func (f *API) ContainerList(_ context.Context, o container.ListOptions) ([]container.Summary, error) {
	var out []container.Summary
	for _, c := range f.Containers {
		if !labelled(o.Filters, c.labels()) || !o.All && c.State != container.StateRunning {
			continue
		}
		out = append(out, container.Summary{ID: c.ID, Names: []string{"/" + c.name()}, Image: c.Image,
			Labels: c.labels(), State: c.State, Ports: c.Ports})
	}
	return out, nil
}

// ContainerInspect implements client.APIClient.
func (f *API) ContainerInspect(_ context.Context, id string) (container.InspectResponse, error) {
	c, err := f.container(id)
	if err != nil {
		return container.InspectResponse{}, err
	}
	st := &container.State{Status: c.State, Running: c.State == container.StateRunning, ExitCode: c.ExitCode}
	if c.Health != "" {
		st.Health = &container.Health{Status: container.HealthStatus(c.Health)}
	}
	return container.InspectResponse{
		ContainerJSONBase: &container.ContainerJSONBase{ID: c.ID, Name: "/" + c.name(), Image: c.Image, State: st, RestartCount: c.Restarts},
		Config:            &container.Config{Env: append([]string(nil), c.Env...), Labels: c.labels()},
	}, nil
}

// ContainerLogs implements client.APIClient: the container's lines,
// multiplexed as the engine sends them (stdcopy framing, timestamps in
// front), the last Tail of them when asked.
func (f *API) ContainerLogs(_ context.Context, id string, o container.LogsOptions) (io.ReadCloser, error) {
	c, err := f.container(id)
	if err != nil {
		return nil, err
	}
	if c.LogsErr != nil {
		return nil, c.LogsErr
	}
	lines := c.Logs
	var tail int
	if _, err := fmt.Sscan(o.Tail, &tail); err == nil && tail < len(lines) {
		lines = lines[len(lines)-tail:]
	}
	var b bytes.Buffer
	stdout, stderr := stdcopy.NewStdWriter(&b, stdcopy.Stdout), stdcopy.NewStdWriter(&b, stdcopy.Stderr)
	for _, l := range lines {
		w := stdout
		if l.Stderr {
			w = stderr
		}
		text := l.Text + "\n"
		if o.Timestamps {
			text = l.Time.UTC().Format(time.RFC3339Nano) + " " + text
		}
		if _, err := w.Write([]byte(text)); err != nil {
			return nil, err
		}
	}
	return io.NopCloser(&b), nil
}

// ContainerStop implements client.APIClient.
func (f *API) ContainerStop(_ context.Context, id string, _ container.StopOptions) error {
	_, err := f.container(id)
	return err
}

// ContainerRemove implements client.APIClient.
func (f *API) ContainerRemove(_ context.Context, id string, _ container.RemoveOptions) error {
	if _, err := f.container(id); err != nil {
		return err
	}
	f.record("container " + id)
	return nil
}

// NetworkList implements client.APIClient.
func (f *API) NetworkList(_ context.Context, o network.ListOptions) ([]network.Summary, error) {
	var out []network.Summary
	for _, n := range f.Networks {
		if labelled(o.Filters, n.Labels) {
			out = append(out, n)
		}
	}
	return out, nil
}

// NetworkInspect implements client.APIClient.
func (f *API) NetworkInspect(_ context.Context, name string, _ network.InspectOptions) (network.Inspect, error) {
	for _, n := range f.Networks {
		if n.Name == name || n.ID == name {
			return n, nil
		}
	}
	return network.Inspect{}, errdefs.ErrNotFound.WithMessage("network " + name + " not found")
}

// NetworkRemove implements client.APIClient.
func (f *API) NetworkRemove(_ context.Context, id string) error {
	f.record("network " + id)
	return nil
}

// VolumeList implements client.APIClient.
func (f *API) VolumeList(_ context.Context, o volume.ListOptions) (volume.ListResponse, error) {
	var out volume.ListResponse
	for _, v := range f.Volumes {
		if labelled(o.Filters, v.Labels) {
			out.Volumes = append(out.Volumes, v)
		}
	}
	return out, nil
}

// VolumeRemove implements client.APIClient.
func (f *API) VolumeRemove(_ context.Context, name string, _ bool) error {
	f.record("volume " + name)
	return nil
}

// ImageInspect implements client.APIClient.
func (f *API) ImageInspect(_ context.Context, ref string, _ ...client.ImageInspectOption) (image.InspectResponse, error) {
	id, ok := f.Images[ref]
	if !ok {
		return image.InspectResponse{}, errdefs.ErrNotFound.WithMessage("no such image: " + ref)
	}
	return image.InspectResponse{ID: id, RepoTags: []string{ref}}, nil
}

// ServerVersion implements client.APIClient.
func (f *API) ServerVersion(context.Context) (types.Version, error) { return f.Version, nil }

// Info implements client.APIClient with System.
func (f *API) Info(context.Context) (system.Info, error) { return f.System, nil }

// Events implements client.APIClient: no event, then the end of the stream.
func (f *API) Events(context.Context, events.ListOptions) (<-chan events.Message, <-chan error) {
	errs := make(chan error, 1)
	errs <- io.EOF
	return make(chan events.Message), errs
}

// Close implements client.APIClient.
func (f *API) Close() error { return nil }
