package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/tenants"
)

// What `status` says about the stack as a whole. Only a running stack
// exits 0.
const (
	stackRunning      = "running"       // every service of the installation runs, healthy where it has a healthcheck
	stackDegraded     = "degraded"      // some service is missing, stopped or unhealthy
	stackDown         = "down"          // installed, but no container is left
	stackUninstalled  = "uninstalled"   // `uninstall` took it down and kept its data
	stackNotInstalled = "not installed" // nothing recorded and no container
)

// statusDoc is `status -o json`.
type statusDoc struct {
	Project string `json:"project"`
	Dir     string `json:"dir"`
	// State is one of the stack states above.
	State       string                           `json:"state"`
	Uninstalled time.Time                        `json:"uninstalled,omitzero"`
	Steps       []steps.NamedStepState           `json:"steps"`
	Images      map[string]install.RecordedImage `json:"images"`
	Services    []compose.ServiceStatus          `json:"services"`
	// Missing lists the installation's services that have no container.
	Missing []string `json:"missing,omitempty"`
	// SignIn is the web app's address; each tenant's name is the tenant
	// identifier typed there.
	SignIn  string           `json:"sign_in,omitempty"`
	Tenants []tenants.Tenant `json:"tenants,omitempty"`
}

func newStatusCmd(a *app) *cobra.Command {
	var t targetFlags
	var src answersSource
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show whether the stack runs: each service's state, health, restarts and ports",
		Long: `Show where the last install got to, and each service's state, health,
restarts and published ports.

The stack is running when every service of the installation runs (and is
healthy, where it has a healthcheck); it is degraded when one is missing,
stopped or unhealthy, down when no container is left, uninstalled after
` + "`uninstall`" + ` (data kept), and not installed when nothing is recorded.
Exits 0 only when the stack is running, 1 otherwise, so scripts can use it.

With --target kubernetes it lists each Deployment and StatefulSet of the
installation's namespaces with its desired and ready replicas.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			onKube, err := t.kubernetes()
			if err != nil {
				return err
			}
			if onKube {
				return runStatusKube(cmd, a, src, t)
			}
			if err := refuseKubeOnly(cmd, "answers", "demo"); err != nil {
				return err
			}
			e, err := a.engine(cmd.Context())
			if err != nil {
				return err
			}
			defer e.Close()
			if err := a.adoptProject(); err != nil {
				return err
			}
			st, err := e.Status(cmd.Context(), a.project)
			if err != nil {
				return err
			}
			record, err := steps.LoadState(a.dir)
			if err != nil {
				return err
			}
			images, _, err := install.LoadImageRecord(a.dir)
			if err != nil {
				return err
			}
			expected, err := installedServices(a)
			if err != nil {
				return err
			}
			state, missing := stackState(record, expected, st)
			ans, ts, tenantsErr := statusTenants(cmd.Context(), a, e, st)
			p := a.printer()
			if p.json() {
				doc := statusDoc{Project: a.project, Dir: a.dir, State: state, Uninstalled: record.Uninstalled,
					Steps: record.Summary(), Images: images.Services, Services: st, Missing: missing, Tenants: ts}
				if len(ts) > 0 {
					doc.SignIn = signInURL(ans)
				}
				if err := p.record(typeStatus, doc); err != nil {
					return err
				}
			} else {
				printStackState(a, p, state, record, missing)
				printSteps(a, p, record)
				printImages(a, p, images, st)
				printStatus(a, p, st)
				if tenantsErr != nil {
					fmt.Fprintf(a.io.Out, "\n%s tenants: %v\n", p.warn.Render("!"), tenantsErr)
				} else if len(ts) > 0 {
					fmt.Fprintln(a.io.Out)
					printTenants(a, p, ans, ts)
				}
			}
			if state != stackRunning {
				return &silentError{code: ExitFailed}
			}
			return nil
		},
	}
	t.flags(cmd)
	src.flags(cmd)
	return cmd
}

// installedServices lists the services of the installation in the install
// dir, from its answers; none when there is no installation there.
func installedServices(a *app) ([]string, error) {
	switch ok, err := installdir.Exists(a.dir); {
	case errors.Is(err, installdir.ErrNotInstallDir):
		return nil, nil // --dir names some other directory: nothing to expect
	case err != nil || !ok:
		return nil, err
	}
	inst := installation.New(a.dir, a.project)
	ans, err := answers.Load(inst.AnswersFile())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil // an install that stopped before it kept its answers
	}
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	env, err := install.NewEnv(ans, inst.Project, inst.Dir, inst.SecretsDir(), nil)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	names := make([]string, 0, len(env.Bundle.Services))
	for _, s := range env.Bundle.Services {
		names = append(names, s.Name)
	}
	return names, nil
}

// stackState says what the stack as a whole is, from the install record,
// the services the installation has and the containers found.
func stackState(record *steps.State, expected []string, st []compose.ServiceStatus) (state string, missing []string) {
	if len(st) == 0 {
		switch {
		case !record.Uninstalled.IsZero():
			return stackUninstalled, nil
		case len(record.Steps) == 0:
			return stackNotInstalled, nil
		}
		return stackDown, expected
	}
	found := map[string]bool{}
	state = stackRunning
	for _, s := range st {
		found[s.Service] = true
		if s.State != "running" || s.Health != "" && s.Health != "healthy" {
			state = stackDegraded
		}
	}
	for _, name := range expected {
		if !found[name] {
			missing = append(missing, name)
			state = stackDegraded
		}
	}
	return state, missing
}

// printStackState says in one line whether the stack runs.
func printStackState(a *app, p *printer, state string, record *steps.State, missing []string) {
	mark := p.bad.Render("✗")
	if state == stackRunning {
		mark = p.ok.Render("✓")
	}
	line := fmt.Sprintf("%s Project %s is %s", mark, a.project, state)
	switch state {
	case stackUninstalled:
		line += fmt.Sprintf(" (%s): its containers and networks were removed, its data volumes and %s kept; `fineract-installer install --answers %s` starts it again",
			record.Uninstalled.Local().Format("2006-01-02 15:04:05"), a.dir, installation.New(a.dir, a.project).AnswersFile())
	case stackDown:
		line += ": no container is left; `fineract-installer install` with its answers starts it again"
	}
	if len(missing) > 0 && state != stackDown {
		line += "; no container for " + strings.Join(missing, ", ")
	}
	fmt.Fprintln(a.io.Out, line+".")
	fmt.Fprintln(a.io.Out)
}

// printSteps shows where the last install run got to.
func printSteps(a *app, p *printer, record *steps.State) {
	sum := record.Summary()
	if len(sum) == 0 {
		if record.Uninstalled.IsZero() {
			fmt.Fprintf(a.io.Out, "No installation recorded in %s.\n\n", a.dir)
		}
		return
	}
	fmt.Fprintf(a.io.Out, "Install steps (%s, updated %s):\n", a.dir, record.Updated.Local().Format("2006-01-02 15:04:05"))
	for _, s := range sum {
		mark := map[steps.Status]string{
			steps.StatusDone: p.ok.Render("✓"), steps.StatusFailed: p.bad.Render("✗"),
			steps.StatusInterrupted: p.warn.Render("!"), steps.StatusRunning: p.warn.Render("…"),
			steps.StatusPending: p.dim.Render("·"),
		}[s.Status]
		line := fmt.Sprintf("  %s %-16s %s", mark, s.ID, s.Status)
		if s.Error != "" {
			line += ": " + p.bad.Render(s.Error)
		}
		fmt.Fprintln(a.io.Out, line)
	}
	fmt.Fprintln(a.io.Out)
}

// printImages shows the image record, and which running container runs
// another image than the recorded one.
func printImages(a *app, p *printer, rec install.ImageRecord, st []compose.ServiceStatus) {
	if len(rec.Services) == 0 {
		return
	}
	running := map[string]string{}
	for _, s := range st {
		running[s.Service] = s.ImageID
	}
	fmt.Fprintf(a.io.Out, "Images recorded in %s:\n", installation.New(a.dir, a.project).ImageRecordFile())
	rows := [][]cell{{{text: "SERVICE"}, {text: "IMAGE"}, {text: "ID"}, {text: "RECORDED"}, {text: "CONTAINER"}}}
	for _, name := range sortedServices(rec.Services) {
		r := rec.Services[name]
		ctr := cell{text: "-"}
		switch id, ok := running[name]; {
		case ok && id == r.ID:
			ctr = cell{text: "recorded image", style: goodBad(p, true)}
		case ok:
			ctr = cell{text: "runs " + id, style: goodBad(p, false)}
		}
		rows = append(rows, []cell{{text: name}, {text: r.Image}, {text: r.ID}, {text: r.Recorded.Local().Format("2006-01-02 15:04")}, ctr})
	}
	printTable(a.io.Out, rows)
	fmt.Fprintln(a.io.Out)
}

func sortedServices[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func printStatus(a *app, p *printer, st []compose.ServiceStatus) {
	if len(st) == 0 {
		fmt.Fprintf(a.io.Out, "Project %s has no containers on this host.\n", a.project)
		return
	}
	rows := [][]cell{{{text: "SERVICE"}, {text: "STATE"}, {text: "HEALTH"}, {text: "RESTARTS"}, {text: "PORTS"}, {text: "CONTAINER"}}}
	for _, s := range st {
		state := s.State
		if s.State == "exited" {
			state = fmt.Sprintf("exited (%d)", s.ExitCode)
		}
		health := s.Health
		if health == "" {
			health = "-"
		}
		var ports []string
		for _, pt := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s:%d->%d/%s", pt.HostIP, pt.HostPort, pt.ContainerPort, pt.Protocol))
		}
		portText := strings.Join(ports, ", ")
		if portText == "" {
			portText = "-"
		}
		rows = append(rows, []cell{
			{text: s.Service},
			{text: state, style: goodBad(p, s.State == "running")},
			{text: health, style: goodBad(p, health == "healthy" || health == "-")},
			{text: fmt.Sprint(s.Restarts)},
			{text: portText},
			{text: s.Container},
		})
	}
	printTable(a.io.Out, rows)
}

func goodBad(p *printer, good bool) func(string) string {
	style := p.bad
	if good {
		style = p.ok
	}
	return func(s string) string { return style.Render(s) }
}

// statusTenants lists the installation's tenants when its PostgreSQL is
// running; none otherwise.
func statusTenants(ctx context.Context, a *app, e *compose.Engine, st []compose.ServiceStatus) (answers.Answers, []tenants.Tenant, error) {
	if !slices.ContainsFunc(st, func(s compose.ServiceStatus) bool { return s.Service == "postgres" && s.State == "running" }) {
		return answers.Answers{}, nil, nil
	}
	if ok, err := installdir.Exists(a.dir); err != nil || !ok {
		return answers.Answers{}, nil, nil
	}
	inst := installation.New(a.dir, a.project)
	ans, err := answers.Load(inst.AnswersFile())
	if err != nil {
		return ans, nil, nil
	}
	env, err := install.NewEnv(ans, inst.Project, inst.Dir, inst.SecretsDir(), e)
	if err != nil {
		return ans, nil, err
	}
	pg, err := tenants.PostgresOf(env)
	if err != nil {
		return ans, nil, nil
	}
	ts, err := pg.List(ctx)
	return ans, ts, err
}
