package cli

import (
	"sort"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/compose"
)

func newLogsCmd(a *app) *cobra.Command {
	var ko kubeLogsOptions
	o := &ko.LogOptions
	var t targetFlags
	var src answersSource
	cmd := &cobra.Command{
		Use:   "logs [SERVICE...]",
		Short: "Show the logs of the stack's services",
		Long: `Show the logs of the stack's services, stdout and stderr kept apart:
in text output a "|" precedes stdout lines and a "!" stderr lines.

With --target kubernetes it reads the logs of the services' pods through
the API server, each line headed SERVICE/POD. The API gives a
container's stdout and stderr as one stream: every line is marked stdout.
The stack's services come from the installation's answers, or --answers.`,
		Example: `  fineract-installer logs --tail 100
  fineract-installer logs -f fineract postgres
  fineract-installer logs --since 10m -o json
  fineract-installer logs --target kubernetes --tail 50 fineract`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Services = args
			if onKube, err := t.kubernetes(); err != nil {
				return err
			} else if onKube {
				return runLogsKube(cmd, a, src, t, ko)
			}
			if err := refuseKubeOnly(cmd, "answers", "demo", "init-containers"); err != nil {
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
			p := a.printer()
			width := 0
			if !p.json() {
				st, err := e.Status(cmd.Context(), a.project)
				if err != nil {
					return err
				}
				for _, s := range st {
					width = max(width, len(s.Service))
				}
			}
			if o.Follow {
				return e.Logs(cmd.Context(), a.project, *o, func(l compose.LogLine) { p.logLine(l, width, ko.timestamps) })
			}
			// Without follow, interleave the services' lines by time.
			var lines []compose.LogLine
			if err := e.Logs(cmd.Context(), a.project, *o, func(l compose.LogLine) { lines = append(lines, l) }); err != nil {
				return err
			}
			sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
			for _, l := range lines {
				p.logLine(l, width, ko.timestamps)
			}
			return nil
		},
	}
	t.flags(cmd)
	src.flags(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines until interrupted")
	f.IntVarP(&o.Tail, "tail", "n", 0, "only the last `N` lines of each service (0 = all)")
	f.StringVar(&o.Since, "since", "", "only lines newer than `TIME` (a time like 2026-01-02T15:04:05Z, or a duration like 10m)")
	f.BoolVarP(&ko.timestamps, "timestamps", "t", false, "show each line's time")
	f.BoolVar(&ko.initContainers, "init-containers", false, "with --target kubernetes, also the pods' init containers (the Vault agent that writes each service's files)")
	return cmd
}
