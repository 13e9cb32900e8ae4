// Package pgsql runs SQL as PostgreSQL's superuser inside the stack's
// postgres container (peer authentication over the unix socket), the way
// the installer's day-2 work reaches the database: no password, no
// published port. Values reach SQL only as psql variables, and a
// session's statements are kept out of the server log.
package pgsql

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/fineract-installer/fineract-installer/compose"
)

// Exec runs a command in the postgres container with stdin; the compose
// engine's Exec bound to a project and PostgreSQL's uid satisfies it (see
// EngineExec).
type Exec func(ctx context.Context, cmd []string, stdin io.Reader) (compose.ExecResult, error)

// EngineExec runs commands in the project's postgres service as user, the
// uid peer authentication maps to the postgres superuser.
func EngineExec(e *compose.Engine, project, user string) Exec {
	return func(ctx context.Context, cmd []string, stdin io.Reader) (compose.ExecResult, error) {
		return e.Exec(ctx, project, "postgres", user, cmd, stdin, nil)
	}
}

// Server runs SQL as the superuser over the server's unix socket, inside
// its container.
type Server struct{ exec Exec }

// New wraps exec.
func New(exec Exec) *Server { return &Server{exec: exec} }

// fieldSep separates columns in psql's unaligned output; it occurs in no
// name or value this package reads back.
const fieldSep = "\x1f"

// quiet keeps the statements of a session, which may carry a password, out
// of the server log, as 10-roles.sh does.
const quiet = `SET log_statement = 'none';
SET log_min_error_statement = 'panic';
SET log_min_duration_statement = -1;
`

// Vars are psql variables a script reads as :'name' (a literal) or
// :"name" (an identifier); psql quotes them, so no value is spliced into
// SQL text.
type Vars map[string]string

// psqlSet renders `\set name 'value'`. Inside a quoted meta-command
// argument psql treats a backslash as an escape and a doubled quote as a
// quote; a line break would end the command, so it is refused.
func psqlSet(name, value string) (string, error) {
	for i, r := range name {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && r >= '0' && r <= '9') {
			return "", fmt.Errorf("psql variable name %q", name)
		}
	}
	if strings.ContainsAny(value, "\x00\r\n") {
		return "", fmt.Errorf("value of psql variable %s holds a line break or NUL", name)
	}
	v := strings.ReplaceAll(value, `\`, `\\`)
	v = strings.ReplaceAll(v, `'`, `''`)
	return `\set ` + name + ` '` + v + "'\n", nil
}

// script prepends the variables and the logging settings to sql.
func script(v Vars, sql string) (string, error) {
	var b strings.Builder
	b.WriteString(quiet)
	for _, k := range slices.Sorted(maps.Keys(v)) {
		line, err := psqlSet(k, v[k])
		if err != nil {
			return "", err
		}
		b.WriteString(line)
	}
	b.WriteString(sql)
	return b.String(), nil
}

// Run executes sql in database db and returns its rows. db must be a name
// the caller built from validated parts, or a fixed one.
func (p *Server) Run(ctx context.Context, db string, v Vars, sql string) ([][]string, error) {
	s, err := script(v, sql)
	if err != nil {
		return nil, err
	}
	cmd := []string{"psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-F", fieldSep,
		"-h", "/var/run/postgresql", "-U", "postgres", "-d", db, "-f", "-"}
	res, err := p.exec(ctx, cmd, strings.NewReader(s))
	if err != nil {
		return nil, fmt.Errorf("run psql in the postgres container: %w", err)
	}
	if res.ExitCode != 0 {
		return nil, fmt.Errorf("psql on %s exited %d: %s", db, res.ExitCode, strings.TrimSpace(res.Stderr))
	}
	var rows [][]string
	for _, l := range strings.Split(string(res.Stdout), "\n") {
		if l != "" {
			rows = append(rows, strings.Split(l, fieldSep))
		}
	}
	return rows, nil
}
