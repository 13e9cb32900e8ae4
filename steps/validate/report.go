package validate

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"
)

// ReportInfo identifies the installation in the evidence report.
type ReportInfo struct {
	Project   string
	Hostname  string
	Installer string
	Generated time.Time
	// AuditHead is the audit log's head as SEQ:HASH (empty: no entries),
	// which an auditor keeps to check the log later with audit verify
	// --expect-head; AuditIntact says whether its chain verified.
	AuditHead   string
	AuditIntact bool
}

// auditHeadLine is the report's sentence on the audit log's head.
func (i ReportInfo) auditHeadLine() string {
	switch {
	case i.AuditHead == "" && i.AuditIntact:
		return "The audit log has no entries."
	case i.AuditHead == "":
		return "The audit log could not be read (see the audit-log check)."
	case !i.AuditIntact:
		return fmt.Sprintf("Audit log head: %s; the chain does NOT verify (see the audit-log check).", i.AuditHead)
	}
	return fmt.Sprintf("Audit log head: %s (entry:SHA-256 of its line). Keep it apart from this host to check later that no entry was removed or changed: `fineract-installer audit verify --expect-head %s`.", i.AuditHead, i.AuditHead)
}

// controlOrder is the order of the controls in the report, as the
// documents the stack's claims come from list them.
var controlOrder = []Control{ControlSecrets, ControlSegmentation, ControlTransit, ControlAtRest, ControlHardening, ControlLogging, ControlBackup, ControlSession, ControlRateLimit, ControlCredentials}

type controlSection struct {
	Control Control
	Results []Result
	Status  Status
}

func sections(rs []Result) []controlSection {
	var out []controlSection
	for _, c := range controlOrder {
		sec := controlSection{Control: c, Status: Pass}
		for _, r := range rs {
			for _, rc := range r.Controls {
				if rc == c {
					sec.Results = append(sec.Results, r)
					sec.Status = worse(sec.Status, r.Status)
				}
			}
		}
		if len(sec.Results) == 0 {
			sec.Status = Warn // a control with no evidence is not supported
		}
		out = append(out, sec)
	}
	return out
}

func worse(a, b Status) Status {
	rank := map[Status]int{Pass: 0, Warn: 1, Fail: 2}
	if rank[b] > rank[a] {
		return b
	}
	return a
}

// WriteMarkdown writes the evidence report for auditors: each control with
// the checks that support it, what was observed and when. It says what the
// evidence supports; it does not claim compliance.
func WriteMarkdown(w io.Writer, info ReportInfo, rs []Result) error {
	var b bytes.Buffer
	p, wn, f := Summary(rs)
	fmt.Fprintf(&b, "# Evidence report: %s\n\n", info.Project)
	fmt.Fprintf(&b, "Host `%s`, generated %s by %s. %d checks: %d pass, %d warn, %d fail.\n\n", info.Hostname, info.Generated.UTC().Format(time.RFC3339), info.Installer, len(rs), p, wn, f)
	b.WriteString(info.auditHeadLine() + "\n\n")
	b.WriteString("Every check below observed the running system (handshakes, container inspection, database queries, log entries); none read configuration text alone. The report shows the evidence that supports each control; it is not a statement of compliance.\n\n")
	for _, sec := range sections(rs) {
		fmt.Fprintf(&b, "## %s: %s\n\n", sec.Control, strings.ToUpper(string(sec.Status)))
		if len(sec.Results) == 0 {
			b.WriteString("No check in this installation supports this control.\n\n")
			continue
		}
		b.WriteString("| check | result | observed | at |\n|---|---|---|---|\n")
		for _, r := range sec.Results {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Title, r.Status, mdCell(r.Evidence), r.Observed.UTC().Format("15:04:05Z"))
		}
		b.WriteString("\n")
	}
	var todo []Result
	for _, r := range rs {
		if r.Status != Pass {
			todo = append(todo, r)
		}
	}
	if len(todo) > 0 {
		sort.SliceStable(todo, func(i, j int) bool { return todo[i].Status == Fail && todo[j].Status != Fail })
		b.WriteString("## What to fix\n\n")
		for _, r := range todo {
			fmt.Fprintf(&b, "- **%s** (%s): %s\n", r.Title, r.Status, r.Fix)
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

func mdCell(s string) string {
	return strings.NewReplacer("|", "\\|", "\n", " ").Replace(s)
}

//go:embed report.html.tmpl
var reportHTML string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"upper": func(s Status) string { return strings.ToUpper(string(s)) },
	"time":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"audit": func(i ReportInfo) string { return i.auditHeadLine() },
}).Parse(reportHTML))

// WriteHTML writes the same report as a self-contained HTML page.
func WriteHTML(w io.Writer, info ReportInfo, rs []Result) error {
	p, wn, f := Summary(rs)
	return htmlTemplate.Execute(w, map[string]any{
		"Info": info, "Sections": sections(rs), "Pass": p, "Warn": wn, "Fail": f, "Total": len(rs), "Results": rs,
	})
}
