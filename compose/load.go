package compose

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// LoadOptions says which compose files to load and how.
type LoadOptions struct {
	// Files are compose files; later ones override earlier ones.
	Files []string
	// WorkingDir resolves relative paths (bind mounts, secrets, configs).
	// Empty means the directory of the first file.
	WorkingDir string
	// ProjectName is the compose project name (labels, resource names).
	ProjectName string
	// Profiles activates services that declare a profile.
	Profiles []string
	// Env is the only source of ${VAR} interpolation. The process environment
	// is deliberately not used, so a stray variable in an operator's shell
	// cannot change what gets deployed.
	Env map[string]string
}

// Load reads and validates compose files with compose-go, the loader docker
// compose itself uses (profiles, interpolation, extends, depends_on checks).
func Load(ctx context.Context, o LoadOptions) (*types.Project, error) {
	if len(o.Files) == 0 {
		return nil, fmt.Errorf("load compose project: no compose file given")
	}
	env := make([]string, 0, len(o.Env))
	for k, v := range o.Env {
		env = append(env, k+"="+v)
	}
	fns := []cli.ProjectOptionsFn{
		cli.WithName(o.ProjectName),
		cli.WithEnv(env),
		cli.WithProfiles(o.Profiles),
		cli.WithDiscardEnvFile,
		cli.WithResolvedPaths(true),
	}
	if o.WorkingDir != "" {
		fns = append(fns, cli.WithWorkingDirectory(o.WorkingDir))
	}
	po, err := cli.NewProjectOptions(o.Files, fns...)
	if err != nil {
		return nil, fmt.Errorf("load compose project: %w", err)
	}
	p, err := po.LoadProject(ctx)
	if err != nil {
		return nil, fmt.Errorf("load compose project %s: %w", o.Files[0], err)
	}
	return p, nil
}

// Project is a loaded compose project (compose-go's type), re-exported so
// callers need not import compose-go for the common case.
type Project = types.Project

// LoadContent loads a compose file from memory as if it were at file: a
// plan loads the stack a rerun would write, without writing it.
// o.WorkingDir resolves relative paths, as for Load; o.Files is ignored.
func LoadContent(ctx context.Context, file string, content []byte, o LoadOptions) (*types.Project, error) {
	if o.WorkingDir == "" {
		o.WorkingDir = filepath.Dir(file)
	}
	if err := CheckProjectName(o.ProjectName); err != nil {
		return nil, fmt.Errorf("load compose project: %w", err)
	}
	p, err := loader.LoadWithContext(ctx, types.ConfigDetails{
		WorkingDir:  o.WorkingDir,
		ConfigFiles: []types.ConfigFile{{Filename: file, Content: content}},
		Environment: types.Mapping(maps.Clone(o.Env)),
	}, func(lo *loader.Options) {
		lo.SetProjectName(o.ProjectName, true)
		lo.ResolvePaths = true
		lo.Profiles = o.Profiles
	}, loader.WithDiscardEnvFiles)
	if err != nil {
		return nil, fmt.Errorf("load compose project %s: %w", file, err)
	}
	p.ComposeFiles = []string{file}
	return p, nil
}
