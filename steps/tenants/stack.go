package tenants

import (
	"context"
	"errors"
	"fmt"

	"github.com/fineract-installer/fineract-installer/steps/delivered"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/pgsql"
)

// PostgresOf is the installation's PostgreSQL, reached inside its
// container as PostgreSQL's own uid (peer authentication as postgres).
func PostgresOf(env *install.Env) (*Postgres, error) {
	svc, ok := env.Bundle.Service("postgres")
	if !ok {
		return nil, errors.New("this installation has no PostgreSQL service")
	}
	return NewPostgres(pgsql.EngineExec(env.Engine, env.Project, svc.User())), nil
}

// Vault path and key of Fineract's tenant master password (assets/needs.go).
const (
	masterVaultPath = "banking/services/fineract"
	masterVaultKey  = "tenant_master_password"
)

// MasterPassword reads Fineract's tenant master password back from the
// file delivered to Fineract (FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD):
// the key Fineract decrypts tenant passwords with.
func MasterPassword(ctx context.Context, env *install.Env) (string, error) {
	svc, ok := env.Bundle.Service("fineract")
	if !ok {
		return "", errors.New("this installation has no Fineract service")
	}
	v, err := delivered.Value(ctx, svc, env.SecretsDir, masterVaultPath, masterVaultKey)
	if err != nil {
		return "", fmt.Errorf("read Fineract's tenant master password (after a reboot run `fineract-installer unseal` first): %w", err)
	}
	return v, nil
}

// RestartFineract restarts Fineract and waits until it reports healthy
// again.
func RestartFineract(env *install.Env) func(ctx context.Context) error {
	return func(ctx context.Context) error { return env.RestartService(ctx, "fineract") }
}
