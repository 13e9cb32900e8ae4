package compose

import (
	"context"
	"fmt"

	"github.com/compose-spec/compose-go/v2/cli"
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
