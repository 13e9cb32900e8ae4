package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/compose"
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
			p := a.printer()
			if p.json() {
				if err := p.document(struct {
					Project  string                  `json:"project"`
					Services []compose.ServiceStatus `json:"services"`
				}{a.project, st}); err != nil {
					return err
				}
			} else {
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
