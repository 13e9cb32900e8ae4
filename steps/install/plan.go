package install

import (
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/frontdoor"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// PreflightPlan checks the host. It writes nothing, so it runs before the
// install dir is locked or created.
func PreflightPlan(env *Env) *steps.Plan {
	return (&steps.Plan{}).Then(PreflightStep{Env: env})
}

// Plan is the full installation after preflight. Certificates and images
// do not depend on each other and run in parallel.
func Plan(env *Env, c Custody, handout frontdoor.Handout, checked func([]validate.Result)) *steps.Plan {
	return (&steps.Plan{}).
		Then(InstallDirStep{Env: env}).
		Then(RenderStep{Env: env}).
		Then(CertificatesStep{Env: env}, ImagesStep{Env: env}).
		Then(NetworksStep{Env: env}).
		Then(WALRepositoryStep{Env: env}).
		Then(VaultStartStep{Env: env}).
		Then(VaultSetupStep{Env: env, Custody: c}).
		Then(ServicesStep{Env: env}).
		Then(TenantTLSStep{Env: env}).
		Then(FrontDoorStep{Env: env, Handout: handout}).
		Then(LogRetentionStep{Env: env}).
		Then(ValidateStep{Env: env, Results: checked})
}
