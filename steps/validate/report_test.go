package validate

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestEvidenceReports(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	rs := []Result{
		{ID: "a", Title: "Vault refuses plain HTTP", Status: Pass, Evidence: "400 | Client sent an HTTP request", Controls: []Control{ControlSecrets, ControlTransit}, Observed: at},
		{ID: "b", Title: "Read-only root filesystem", Status: Fail, Evidence: "app: writable <root>", Fix: "set read_only", Controls: []Control{ControlHardening}, Observed: at},
	}
	info := ReportInfo{Project: "fineract", Hostname: "bank.example", Installer: "fineract-installer test", Generated: at}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, info, rs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"## Secrets management: PASS", "## Container hardening: FAIL", "## Session management: WARN",
		"No check in this installation supports this control", `400 \| Client sent`, "- **Read-only root filesystem** (fail): set read_only",
		"not a statement of compliance", "2 checks: 1 pass, 0 warn, 1 fail",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, md.String())
		}
	}
	var html bytes.Buffer
	if err := WriteHTML(&html, info, rs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(html.String(), "app: writable &lt;root&gt;") || !strings.Contains(html.String(), `class="fail"`) {
		t.Errorf("html report does not escape or mark failures:\n%s", html.String())
	}
}

// The evidence report files each check under the controls its evidence
// supports: the gateway's rate limit is a property of the gateway's
// request handling, not of how a container is hardened.
func TestEvidenceReportFilesTheRateLimitUnderItsControl(t *testing.T) {
	var rs []Result
	for _, c := range All() {
		if c.ID == "http-rate-limit" {
			rs = append(rs, Result{ID: c.ID, Area: c.Area, Title: c.Title, Status: Pass, Evidence: "40 requests at once: status counts map[200:12 429:28]", Controls: c.Controls})
		}
	}
	if len(rs) != 1 {
		t.Fatalf("the checklist has %d rate-limit checks", len(rs))
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, ReportInfo{Project: "fineract"}, rs); err != nil {
		t.Fatal(err)
	}
	section := ""
	var filed []string
	for _, l := range strings.Split(md.String(), "\n") {
		if rest, ok := strings.CutPrefix(l, "## "); ok {
			section, _, _ = strings.Cut(rest, ":")
		}
		if strings.HasPrefix(l, "| "+rs[0].Title+" |") {
			filed = append(filed, section)
		}
	}
	if len(filed) != 1 || filed[0] != "Rate limiting" {
		t.Errorf("the rate-limit check is filed under %q; want only %q:\n%s", filed, "Rate limiting", md.String())
	}
}

// The evidence report carries the audit log's head, which an auditor
// keeps to check the log later, and says when its chain does not verify.
func TestEvidenceReportShowsTheAuditHead(t *testing.T) {
	head := "7:" + strings.Repeat("ab", 32)
	for _, c := range []struct {
		info ReportInfo
		want string
	}{
		{ReportInfo{AuditHead: head, AuditIntact: true}, "Audit log head: " + head + " (entry:SHA-256"},
		{ReportInfo{AuditHead: head}, "Audit log head: " + head + "; the chain does NOT verify"},
		{ReportInfo{AuditIntact: true}, "The audit log has no entries."},
		{ReportInfo{}, "The audit log could not be read"},
	} {
		var md, html bytes.Buffer
		if err := WriteMarkdown(&md, c.info, nil); err != nil {
			t.Fatal(err)
		}
		if err := WriteHTML(&html, c.info, nil); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(md.String(), c.want) || !strings.Contains(html.String(), c.want) {
			t.Errorf("%+v: the reports lack %q:\n%s\n%s", c.info, c.want, md.String(), html.String())
		}
	}
}
