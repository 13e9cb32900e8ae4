package validate

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// Target is the installation being checked and what it is expected to be.
type Target struct {
	Engine  *compose.Engine
	Project string
	// Expect is the rendered stack: which services, users, networks,
	// published ports and documented exceptions it should have.
	Expect assets.Bundle
	// Networks maps a network role (dmz, app, data, monitoring) to its
	// Docker network name.
	Networks map[string]string
	// Answers are the installation's answers (hostname, gateway ports).
	Answers answers.Answers
	// CA is the stack's CA certificate (PEM) that every internal endpoint
	// must chain to: its first certificate is the CA, the rest its issuers.
	CA []byte
	// GatewayChain is the chain the gateway must serve, exactly (PEM,
	// pki/gateway.crt): issued by the CA, or imported by the operator.
	GatewayChain []byte
	// Vault connects to Vault; VaultRecord reads the installer's record of it.
	Vault       func() (*vault.Conn, error)
	VaultRecord func(ctx context.Context) (vault.Record, error)
	// Dir is the install dir; SecretsDir holds the delivered secret files.
	Dir        string
	SecretsDir string
	// HostRoot is where the host's /etc/passwd, /etc/group, /proc and
	// /sys are read ("/" when empty).
	HostRoot string

	once       sync.Once
	containers map[string]container.InspectResponse // by service
	loadErr    error
}

// installation is the handle naming the target's files, containers and volumes.
func (t *Target) installation() *installation.Installation {
	return installation.New(t.Dir, t.Project)
}

// Check is one entry of the checklist.
type Check struct {
	ID       string
	Area     Area
	Title    string
	Controls []Control
	// Run observes the system and says what it found.
	Run func(ctx context.Context, t *Target) Finding
	// Alone runs the check after all others, by itself: it disturbs what
	// others observe (a burst that trips the rate limit).
	Alone bool
	// Group, when set, is the service group the check is about: it runs
	// only on installations that have that group.
	Group string
	// Unless, when set, is a group whose installations do not run the
	// check: another check proves the same there.
	Unless string
}

// Applies says whether a check belongs to the installation's checklist:
// group-specific checks only where that group's services were rendered.
func (t *Target) Applies(c Check) bool {
	if c.Unless != "" && t.has(c.Unless) {
		return false
	}
	return c.Group == "" || t.has(c.Group)
}

// has says whether a group's services were rendered.
func (t *Target) has(group string) bool {
	for _, s := range t.Expect.Services {
		if s.Group == group {
			return true
		}
	}
	return false
}

// Finding is what one check observed.
type Finding struct {
	Status   Status
	Evidence string
	Fix      string
	Subject  string
}

func pass(evidence string) Finding { return Finding{Status: Pass, Evidence: evidence} }

func fail(evidence, fix string) Finding { return Finding{Status: Fail, Evidence: evidence, Fix: fix} }

// Run runs the checks in parallel (those marked Alone afterwards, one at
// a time) and returns their results in the checklist's order.
//
// Checks that do not apply to the installation (Applies) are left out.
func Run(ctx context.Context, t *Target, checks []Check) []Result {
	checks = slices.DeleteFunc(slices.Clone(checks), func(c Check) bool { return !t.Applies(c) })
	out := make([]Result, len(checks))
	run := func(i int) {
		c := checks[i]
		f := c.Run(ctx, t)
		out[i] = Result{ID: c.ID, Area: c.Area, Title: c.Title, Controls: c.Controls,
			Status: f.Status, Evidence: f.Evidence, Fix: f.Fix, Subject: f.Subject, Group: c.Group, Observed: time.Now().UTC()}
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, c := range checks {
		if c.Alone {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			run(i)
		}()
	}
	wg.Wait()
	for i, c := range checks {
		if c.Alone {
			run(i)
		}
	}
	return out
}

// Summary counts results by status.
func Summary(rs []Result) (passed, warned, failed int) {
	for _, r := range rs {
		switch r.Status {
		case Pass:
			passed++
		case Warn:
			warned++
		case Fail:
			failed++
		}
	}
	return
}

// inspectAll reads every container of the project once per run.
func (t *Target) inspectAll(ctx context.Context) (map[string]container.InspectResponse, error) {
	t.once.Do(func() {
		t.containers = map[string]container.InspectResponse{}
		st, err := t.Engine.Status(ctx, t.Project)
		if err != nil {
			t.loadErr = err
			return
		}
		for _, s := range st {
			insp, err := t.Engine.API().ContainerInspect(ctx, s.ID)
			if err != nil {
				t.loadErr = fmt.Errorf("inspect %s: %w", s.Service, err)
				return
			}
			t.containers[s.Service] = insp
		}
	})
	return t.containers, t.loadErr
}

// perService runs a predicate over every expected service's container and
// turns the outcome into one finding: pass when all pass, fail naming those
// that do not. A missing container fails too.
func (t *Target) perService(ctx context.Context, fix string, check func(svc assets.Service, c container.InspectResponse) (ok bool, observed string)) Finding {
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return fail("cannot inspect the containers: "+err.Error(), "check that the Docker engine runs: `fineract-installer status`")
	}
	var good, bad, names []string
	for _, svc := range t.Expect.Services {
		c, ok := cs[svc.Name]
		if !ok {
			bad = append(bad, svc.Name+": no container")
			names = append(names, svc.Name)
			continue
		}
		ok, observed := check(svc, c)
		if ok {
			good = append(good, svc.Name+": "+observed)
		} else {
			bad = append(bad, svc.Name+": "+observed)
			names = append(names, svc.Name)
		}
	}
	sort.Strings(good)
	if len(bad) > 0 {
		sort.Strings(bad)
		return Finding{Status: Fail, Evidence: strings.Join(bad, "; "), Fix: fix, Subject: strings.Join(names, ", ")}
	}
	return pass(strings.Join(good, "; "))
}
