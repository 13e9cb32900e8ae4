package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
)

func newStatusCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show each service's state, health, restarts and ports",
		Long: `Show each service's state, health, restarts and published ports.

Exits 1 when a service is not running or not healthy, so scripts can use it.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			e, err := a.engine(cmd.Context())
			if err != nil {
				return err
			}
			defer e.Close()
			st, err := e.Status(cmd.Context(), a.project)
			if err != nil {
				return err
			}
			record, err := steps.LoadState(a.dir)
			if err != nil {
				return err
			}
			p := a.printer()
			if p.json() {
				if err := p.document(struct {
					Project  string                  `json:"project"`
					Dir      string                  `json:"dir"`
					Steps    []steps.NamedStepState  `json:"steps"`
					Services []compose.ServiceStatus `json:"services"`
				}{a.project, a.dir, record.Summary(), st}); err != nil {
					return err
				}
			} else {
				printSteps(a, p, record)
				printStatus(a, p, st)
			}
			for _, s := range st {
				if s.State != "running" || s.Health != "" && s.Health != "healthy" {
					return &silentError{code: ExitFailed}
				}
			}
			return nil
		},
	}
}

// printSteps shows where the last install run got to.
func printSteps(a *app, p *printer, record *steps.State) {
	sum := record.Summary()
	if len(sum) == 0 {
		fmt.Fprintf(a.io.Out, "No installation recorded in %s.\n\n", a.dir)
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

func printStatus(a *app, p *printer, st []compose.ServiceStatus) {
	if len(st) == 0 {
		fmt.Fprintf(a.io.Out, "Project %s has no containers on this host (not installed yet, or uninstalled).\n", a.project)
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
