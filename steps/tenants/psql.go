package tenants

import (
	"context"

	"github.com/fineract-installer/fineract-installer/steps/pgsql"
)

// Postgres is the installation's PostgreSQL, for tenant work.
type Postgres struct{ sql *pgsql.Server }

// NewPostgres runs SQL through exec (pgsql.EngineExec).
func NewPostgres(exec pgsql.Exec) *Postgres { return &Postgres{sql: pgsql.New(exec)} }

// vars are psql variables (pgsql.Vars).
type vars = pgsql.Vars

func (p *Postgres) run(ctx context.Context, db string, v vars, sql string) ([][]string, error) {
	return p.sql.Run(ctx, db, v, sql)
}
