package textout

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// A failure reads cause, then the failing service's last lines, then the
// hint: what to do comes last, after what was seen.
func TestFailureShowsLogsThenHint(t *testing.T) {
	var b strings.Builder
	NewEvents(&b, Plain(), true).Event(steps.Event{Kind: steps.KindFailed, Step: "services", Title: "Start the services",
		Cause: "vault is unhealthy", Hint: "run `fineract-installer logs vault`", Subject: "vault", Logs: []string{"sealed"}})
	want := "✗ Start the services failed: vault is unhealthy\n  last log lines of vault:\n    sealed\n  hint: run `fineract-installer logs vault`\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// A download is one line when it completes, not one per chunk, and log
// lines are left out for a screen reader.
func TestEventsDrawEachDownloadOnceAndLogsOnRequest(t *testing.T) {
	for _, logs := range []bool{true, false} {
		var b strings.Builder
		p := NewEvents(&b, Plain(), logs)
		for _, n := range []int64{1, 5, 10, 10} {
			p.Event(steps.Event{Kind: steps.KindProgress, Step: "images", Subject: "vault:1", Current: n << 20, Total: 10 << 20, Unit: "bytes"})
		}
		p.Event(steps.Event{Kind: steps.KindLog, Step: "services", Subject: "vault", Stream: "stderr", Message: "sealed"})
		p.Event(steps.Event{Kind: steps.KindSkipped, Step: "install-dir", Title: "Prepare the install directory", Message: "already done"})
		p.Event(steps.Event{Kind: steps.KindDone, Step: "images", Title: "Make the images available", Elapsed: 83 * time.Second})
		want := "  vault:1: 10 MiB\n"
		if logs {
			want += "    vault ! sealed\n"
		}
		want += "↷ Prepare the install directory: already done\n✓ Make the images available (1m23s)\n"
		if b.String() != want {
			t.Errorf("logs %t: got\n%s\nwant\n%s", logs, b.String(), want)
		}
	}
}

// The checklist leads with its counts, groups checks by area in a fixed
// order, and puts the fix under a check that did not pass.
func TestChecklistGroupsByAreaWithFixes(t *testing.T) {
	rs := []validate.Result{
		{Area: validate.AreaHost, Title: "Swap is off", Status: validate.Fail, Evidence: "swappiness 60", Fix: "set vm.swappiness=1"},
		{Area: validate.AreaTLS, Title: "TLS 1.3 only", Status: validate.Pass, Evidence: "TLS 1.2 refused", Fix: "never shown"},
		{Area: validate.AreaBackups, Title: "A backup exists", Status: validate.Warn, Evidence: "none yet", Fix: "run backup"},
	}
	got := Checklist(Plain(), rs, 0)
	want := "Validation checklist: 1 pass, 1 warning, 1 failing\n" +
		"TLS\n  ✓ TLS 1.3 only     TLS 1.2 refused\n" +
		"Backups\n  ! A backup exists  none yet\n                     fix: run backup\n" +
		"Host\n  ✗ Swap is off      swappiness 60\n                     fix: set vm.swappiness=1\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// Long evidence is cut on a character boundary, never inside one.
func TestTruncateKeepsCharactersWhole(t *testing.T) {
	s := strings.Repeat("é", 500)
	got := Truncate(s, maxEvidence)
	if !utf8.ValidString(got) || utf8.RuneCountInString(got) != maxEvidence+1 || !strings.HasSuffix(got, "…") {
		t.Errorf("Truncate cut %q badly", got)
	}
	if Truncate("short", maxEvidence) != "short" {
		t.Error("short text was cut")
	}
}
