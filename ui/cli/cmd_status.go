package cli

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/install"
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
			images, _, err := install.LoadImageRecord(a.dir)
			if err != nil {
				return err
			}
			p := a.printer()
			if p.json() {
				if err := p.document(struct {
					Project  string                           `json:"project"`
					Dir      string                           `json:"dir"`
					Steps    []steps.NamedStepState           `json:"steps"`
					Images   map[string]install.RecordedImage `json:"images"`
					Services []compose.ServiceStatus          `json:"services"`
				}{a.project, a.dir, record.Summary(), images.Services, st}); err != nil {
					return err
				}
			} else {
				printSteps(a, p, record)
				printImages(a, p, images, st)
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
	fmt.Fprintf(a.io.Out, "Images recorded in %s:\n", filepath.Join(a.dir, install.ImageRecordFile))
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
