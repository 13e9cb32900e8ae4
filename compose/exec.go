package compose

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// ExecResult is what a command run inside a service's container printed.
type ExecResult struct {
	Stdout   []byte
	Stderr   string
	ExitCode int
}

// Exec runs a command inside a running service container as user (empty:
// the container's user), feeding stdin when given. Stdout is written to
// out when out is non-nil (for large outputs like a database dump) and
// returned otherwise.
func (e *Engine) Exec(ctx context.Context, project, service, user string, cmd []string, stdin io.Reader, out io.Writer) (ExecResult, error) {
	cs, err := e.projectContainers(ctx, project, false)
	if err != nil {
		return ExecResult{}, err
	}
	id := ""
	for _, c := range cs {
		if c.Labels[LabelService] == service {
			id = c.ID
		}
	}
	if id == "" {
		return ExecResult{}, fmt.Errorf("service %s of project %s is not running", service, project)
	}
	return e.execIn(ctx, id, service, user, cmd, stdin, out)
}

// execIn is Exec on a container given by ID; name is for error messages.
func (e *Engine) execIn(ctx context.Context, id, service, user string, cmd []string, stdin io.Reader, out io.Writer) (ExecResult, error) {
	created, err := e.api.ContainerExecCreate(ctx, id, container.ExecOptions{
		User: user, Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: stdin != nil,
	})
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: %w", service, err)
	}
	att, err := e.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: %w", service, err)
	}
	defer att.Close()
	if stdin != nil {
		go func() {
			_, _ = io.Copy(att.Conn, stdin)
			_ = att.CloseWrite()
		}()
	}
	var stdout, stderr bytes.Buffer
	w := out
	if w == nil {
		w = &stdout
	}
	if _, err := stdcopy.StdCopy(w, &limited{&stderr, 64 << 10}, att.Reader); err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: read output: %w", service, err)
	}
	insp, err := e.api.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return ExecResult{}, fmt.Errorf("exec in %s: %w", service, err)
	}
	return ExecResult{Stdout: stdout.Bytes(), Stderr: stderr.String(), ExitCode: insp.ExitCode}, nil
}

// limited keeps the first n bytes written and discards the rest.
type limited struct {
	buf *bytes.Buffer
	n   int
}

func (l *limited) Write(p []byte) (int, error) {
	if room := l.n - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
