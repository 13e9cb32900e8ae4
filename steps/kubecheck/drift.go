package kubecheck

import (
	"context"
	"fmt"

	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// drift proves the live objects are the rendered ones: a server-side dry
// run of applying every object (kubeapply's plan) changes nothing. An
// object missing, or changed since by hand (kubectl edit, another field
// manager), is named: a hardening field set back to its weaker default is
// caught here even where no other check reads it.
func drift(ctx context.Context, c *kubeapply.Cluster, m kube.Manifests) validate.Finding {
	pl, err := c.Plan(ctx, m.Objects)
	if err != nil {
		return apiFail("dry-run apply of the manifests", err)
	}
	if !pl.Pending() {
		return pass("%d objects as rendered (server-side dry-run apply changes none)", len(pl.Unchanged))
	}
	var evidence string
	if len(pl.Create) > 0 {
		evidence = fmt.Sprintf("%d missing: %s", len(pl.Create), refsString(pl.Create))
	}
	if len(pl.Change) > 0 {
		if evidence != "" {
			evidence += "; "
		}
		evidence += fmt.Sprintf("%d changed since applied: %s", len(pl.Change), refsString(pl.Change))
	}
	return fail(evidence+fmt.Sprintf("; %d unchanged", len(pl.Unchanged)), reinstall)
}
