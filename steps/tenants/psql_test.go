package tenants

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
)

// recorder captures the scripts sent to psql.
type recorder struct{ scripts []string }

func (r *recorder) exec(_ context.Context, cmd []string, stdin io.Reader) (compose.ExecResult, error) {
	b, _ := io.ReadAll(stdin)
	r.scripts = append(r.scripts, string(b))
	return compose.ExecResult{}, nil
}

// TestValuesReachSQLOnlyAsPsqlVariables: the tenant's name, password and
// the encrypted values appear in the script only in \set lines, never in
// the SQL text, and logging is off before the first of them.
func TestValuesReachSQLOnlyAsPsqlVariables(t *testing.T) {
	r := &recorder{}
	pg := NewPostgres(r.exec)
	ctx := context.Background()
	const name, pw, enc, hash = "zork", "Pw0rdPw0rdPw0rdPw0rd", "RU5DUllQVEVE", "$2a$10$abcdefghijklmnopqrstuv"
	if err := pg.CreateDatabase(ctx, name, pw); err != nil {
		t.Fatal(err)
	}
	if err := pg.Register(ctx, name, StackConnection, enc, hash); err != nil {
		t.Fatal(err)
	}
	_ = pg.TakeSnapshot(ctx, name)
	_ = pg.Reset(ctx, name)
	_ = pg.Remove(ctx, name)
	if len(r.scripts) < 5 {
		t.Fatalf("%d scripts run", len(r.scripts))
	}
	for _, s := range r.scripts {
		quiet := strings.Index(s, "SET log_statement = 'none';")
		first := strings.Index(s, `\set`)
		if quiet != 0 || first >= 0 && first < quiet {
			t.Errorf("script does not start by turning statement logging off:\n%s", s)
		}
		for _, line := range strings.Split(s, "\n") {
			if strings.HasPrefix(line, `\set `) {
				continue
			}
			for _, v := range []string{name, pw, enc, hash} {
				if strings.Contains(line, v) {
					t.Errorf("value %q spliced into SQL line %q", v, line)
				}
			}
		}
	}
}

// TestOperationsRefuseInvalidNames: a name that bypassed the CLI's checks
// is refused before any SQL runs.
func TestOperationsRefuseInvalidNames(t *testing.T) {
	r := &recorder{}
	pg := NewPostgres(r.exec)
	ctx := context.Background()
	bad := "x; DROP DATABASE fineract_default"
	errs := []error{
		pg.CreateDatabase(ctx, bad, "pw"), pg.Register(ctx, bad, StackConnection, "e", "h"),
		pg.TakeSnapshot(ctx, bad), pg.Reset(ctx, bad), pg.Remove(ctx, bad), pg.Remove(ctx, Default),
		pg.CreateDatabase(ctx, Default, "pw"),
	}
	for i, err := range errs {
		if err == nil {
			t.Errorf("operation %d accepted an invalid name", i)
		}
	}
	if len(r.scripts) != 0 {
		t.Errorf("%d scripts ran for invalid names", len(r.scripts))
	}
}
