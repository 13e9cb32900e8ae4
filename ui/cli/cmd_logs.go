package cli

import (
	"sort"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/compose"
)

func newLogsCmd(a *app) *cobra.Command {
	var o compose.LogOptions
	var timestamps bool
	var t targetFlags
	cmd := &cobra.Command{
		Use:   "logs [SERVICE...]",
		Short: "Show the logs of the stack's services",
		Long: `Show the logs of the stack's services, stdout and stderr kept apart:
in text output a "|" precedes stdout lines and a "!" stderr lines.`,
		Example: `  fineract-installer logs --tail 100
  fineract-installer logs -f fineract postgres
  fineract-installer logs --since 10m -o json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if onKube, err := t.kubernetes(); err != nil {
				return err
			} else if onKube {
				return notOnKubernetes("logs", "no test of this release runs pods (its tests use an API server without nodes), so reading pod logs is not proven; use `kubectl logs -n NAMESPACE deploy/SERVICE` meanwhile")
			}
			o.Services = args
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
				return e.Logs(cmd.Context(), a.project, o, func(l compose.LogLine) { p.logLine(l, width, timestamps) })
			}
			// Without follow, interleave the services' lines by time.
			var lines []compose.LogLine
			if err := e.Logs(cmd.Context(), a.project, o, func(l compose.LogLine) { lines = append(lines, l) }); err != nil {
				return err
			}
			sort.SliceStable(lines, func(i, j int) bool { return lines[i].Time.Before(lines[j].Time) })
			for _, l := range lines {
				p.logLine(l, width, timestamps)
			}
			return nil
		},
	}
	t.flags(cmd)
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "keep printing new lines until interrupted")
	f.IntVarP(&o.Tail, "tail", "n", 0, "only the last `N` lines of each service (0 = all)")
	f.StringVar(&o.Since, "since", "", "only lines newer than `TIME` (a time like 2026-01-02T15:04:05Z, or a duration like 10m)")
	f.BoolVarP(&timestamps, "timestamps", "t", false, "show each line's time")
	return cmd
}
