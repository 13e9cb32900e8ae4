package compose_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// TestRestartRestartsOneServiceInPlace: the service's container is the
// same one, started again (a new process), and the other service is left
// running as it was.
func TestRestartRestartsOneServiceInPlace(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	yaml := fmt.Sprintf(`
services:
  a:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
  b:
    image: %[1]s
    <<: *hardened
    init: true
    command: ["sleep", "3600"]
`, img)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+yaml, nil)
	up(t, e, load(), compose.UpOptions{})
	ctx := context.Background()
	started := func() map[string]string {
		out := map[string]string{}
		for svc, id := range containerIDs(t, e, project) {
			insp, err := e.API().ContainerInspect(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			out[svc] = id + "@" + insp.State.StartedAt
		}
		return out
	}
	before := started()
	if err := e.Restart(ctx, project, "a"); err != nil {
		t.Fatal(err)
	}
	after := started()
	idA := strings.Split(before["a"], "@")[0]
	if !strings.HasPrefix(after["a"], idA+"@") || after["a"] == before["a"] {
		t.Errorf("service a: before %s, after %s; want the same container started again", before["a"], after["a"])
	}
	if after["b"] != before["b"] {
		t.Errorf("service b was touched: before %s, after %s", before["b"], after["b"])
	}
	if err := e.Restart(ctx, project, "nosuch"); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("restart of a service without a container: %v", err)
	}
}
