package preflight

import (
	"context"

	"github.com/docker/docker/api/types/system"

	"github.com/fineract-installer/fineract-installer/steps/atrest"
)

// checkEncryption says whether the stack's data will sit on dm-crypt:
// Docker's data root, the install dir and its backup directory. Only a
// warning: encryption at rest is the host's to provide, and the install
// works without it.
func checkEncryption(ctx context.Context, in Input, info *system.Info) []Result {
	root := ""
	if info != nil {
		root = info.DockerRootDir
	}
	ok, evidence := atrest.Summary(atrest.HostAt(in.HostRoot).Directories(root, in.Answers.InstallDir))
	r := Result{ID: "encryption", Title: "Encryption at rest", Status: Pass, Observed: evidence}
	if !ok {
		r.Status, r.Fix = Warn, atrest.Fix
	}
	return []Result{r}
}
