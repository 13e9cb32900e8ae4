package audit

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/event"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// logWith appends n entries to a new log and returns its dir and the head.
func logWith(t *testing.T, n int) (string, Head) {
	t.Helper()
	dir := t.TempDir()
	var head Head
	for i := 0; i < n; i++ {
		var err error
		head, err = Append(dir, Entry{
			Time: time.Date(2031, 1, 2, 3, 4, i, 0, time.UTC), User: User{UID: 0, Name: "root"},
			Command: fmt.Sprintf("command-%d", i+1), Args: []string{"--yes=true"}, Result: ResultOK,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return dir, head
}

func logLines(t *testing.T, dir string) [][]byte {
	t.Helper()
	data, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	return lines(data)
}

func joinLines(ls [][]byte) []byte {
	return append(bytes.Join(ls, []byte{'\n'}), '\n')
}

func TestAppendChainsEntriesAndVerifies(t *testing.T) {
	dir, head := logWith(t, 4)
	data, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	rep := Verify(data, &head)
	if !rep.OK() || len(rep.Problems) != 0 {
		t.Fatalf("an untouched log: %+v", rep.Problems)
	}
	if len(rep.Entries) != 4 || rep.Head != head {
		t.Fatalf("read %d entries, head %+v; want 4 and %+v", len(rep.Entries), rep.Head, head)
	}
	prev := ""
	for i, r := range rep.Entries {
		if r.Entry.Seq != uint64(i+1) || r.Entry.Prev != prev {
			t.Errorf("entry %d: seq %d prev %q, want seq %d prev %q", i, r.Entry.Seq, r.Entry.Prev, i+1, prev)
		}
		prev = r.Hash
	}
	fi, err := os.Stat(installation.New(dir, "").AuditLogFile())
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the log's mode: %v %v, want 0600", fi.Mode(), err)
	}
}

// Each kind of tampering is found and named by line and entry.
func TestVerifyNamesEachKindOfTampering(t *testing.T) {
	dir, head := logWith(t, 5)
	orig := logLines(t, dir)
	clone := func() [][]byte {
		out := make([][]byte, len(orig))
		for i, l := range orig {
			out[i] = append([]byte{}, l...)
		}
		return out
	}
	forged := func(seq uint64, prev []byte) []byte {
		e := Entry{Seq: seq, Time: time.Date(2031, 1, 2, 3, 4, 30, 0, time.UTC), Command: "forged", Result: ResultOK, Prev: Hash(prev)}
		return []byte(fmt.Sprintf(`{"seq":%d,"time":"%s","user":{"uid":0},"command":%q,"args":[],"changed":false,"changes":[],"steps":[],"result":"ok","prev":%q}`,
			e.Seq, e.Time.Format(time.RFC3339), e.Command, e.Prev))
	}
	for _, c := range []struct {
		name   string
		data   func() []byte
		kept   *Head
		want   Problem
		others bool // other problems may follow from the first
	}{
		{"edited", func() []byte {
			ls := clone()
			ls[2] = bytes.Replace(ls[2], []byte("command-3"), []byte("command-X"), 1)
			return joinLines(ls)
		}, nil, Problem{Kind: ProblemEdited, Line: 3, Seq: 3}, false},
		{"deleted", func() []byte {
			ls := clone()
			return joinLines(append(ls[:2:2], ls[3:]...))
		}, nil, Problem{Kind: ProblemDeleted, Seq: 3}, false},
		{"inserted", func() []byte {
			ls := clone()
			// A forged entry 3 that chains to entry 2, before the real one.
			return joinLines(append(append(ls[:2:2], forged(3, ls[1])), ls[2:]...))
		}, nil, Problem{Kind: ProblemInserted, Line: 3, Seq: 3}, false},
		{"reordered", func() []byte {
			ls := clone()
			ls[2], ls[3] = ls[3], ls[2]
			return joinLines(ls)
		}, nil, Problem{Kind: ProblemReordered, Line: 4, Seq: 3}, false},
		{"truncated mid-line", func() []byte {
			data := joinLines(clone())
			return data[:len(data)-20]
		}, nil, Problem{Kind: ProblemTruncated, Line: 5}, true},
		{"entries cut off the end", func() []byte {
			return joinLines(clone()[:3])
		}, &head, Problem{Kind: ProblemTruncated, Seq: 4}, false},
		{"last entry rewritten", func() []byte {
			ls := clone()
			ls[4] = bytes.Replace(ls[4], []byte("command-5"), []byte("command-X"), 1)
			return joinLines(ls)
		}, &head, Problem{Kind: ProblemEdited, Line: 5, Seq: 5}, false},
		{"head kept elsewhere does not match", func() []byte {
			return joinLines(clone())
		}, &Head{Seq: 5, Hash: Hash([]byte("another line"))}, Problem{Kind: ProblemEdited, Line: 5, Seq: 5}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep := Verify(c.data(), c.kept)
			if rep.OK() || len(rep.Problems) == 0 {
				t.Fatalf("tampering not found: %+v", rep.Problems)
			}
			got := rep.Problems[0]
			if got.Kind != c.want.Kind || got.Line != c.want.Line || got.Seq != c.want.Seq {
				t.Errorf("first problem %+v, want kind %s line %d seq %d", got, c.want.Kind, c.want.Line, c.want.Seq)
			}
			if !c.others && len(rep.Problems) != 1 {
				t.Errorf("one change reported as %d problems: %+v", len(rep.Problems), rep.Problems)
			}
			if c.want.Line > 0 && !strings.Contains(got.Detail, fmt.Sprintf("line %d", c.want.Line)) {
				t.Errorf("the detail does not name line %d: %s", c.want.Line, got.Detail)
			}
		})
	}
}

// Entries appended while the kept head could not be updated are not
// tampering, but Verify says they are not confirmed yet.
func TestEntriesAfterTheKeptHeadAreUnconfirmed(t *testing.T) {
	dir, _ := logWith(t, 2)
	data, _ := Read(dir)
	kept := Verify(data, nil).Head
	if _, err := Append(dir, Entry{Command: "unseal", Result: ResultOK}); err != nil {
		t.Fatal(err)
	}
	data, _ = Read(dir)
	rep := Verify(data, &kept)
	if !rep.OK() || len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemUnconfirmed || rep.Problems[0].Seq != 3 {
		t.Errorf("an entry after the kept head: ok %v, %+v; want one unconfirmed problem at entry 3", rep.OK(), rep.Problems)
	}
}

// The log is never opened through a link: an attacker's link in its
// place cannot make the installer append to (or read) another file.
func TestAppendRefusesALinkInTheLogsPlace(t *testing.T) {
	for _, where := range []string{"outside the install dir", "inside the install dir"} {
		t.Run(where, func(t *testing.T) {
			dir := t.TempDir()
			target := filepath.Join(t.TempDir(), "shadow")
			link := target
			if where == "inside the install dir" {
				// A relative link that stays inside the install dir, which
				// an os.Root alone would follow.
				target, link = filepath.Join(dir, "state.json"), "state.json"
			}
			refusesLink(t, dir, target, link)
		})
	}
}

func refusesLink(t *testing.T, dir, target, link string) {
	if err := os.WriteFile(target, []byte("keep\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(link, installation.New(dir, "").AuditLogFile()); err != nil {
		t.Fatal(err)
	}
	if _, err := Append(dir, Entry{Command: "backup", Result: ResultOK}); err == nil {
		t.Fatal("appended through a link")
	}
	if err := Writable(dir); err == nil {
		t.Error("Writable accepts a link in the log's place")
	}
	if _, err := Read(dir); err == nil {
		t.Error("read through a link")
	}
	if got, _ := os.ReadFile(target); string(got) != "keep\n" {
		t.Errorf("the link's target was written: %q", got)
	}
}

// A log larger than the bound is refused, not read.
func TestReadRefusesAnOversizedLog(t *testing.T) {
	dir := t.TempDir()
	f, err := os.Create(installation.New(dir, "").AuditLogFile())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxLogSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := Read(dir); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read of an oversized log: %v, want ErrTooLarge", err)
	}
	if _, err := Append(dir, Entry{Command: "backup", Result: ResultOK}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Append to an oversized log: %v, want ErrTooLarge", err)
	}
}

// A damaged last line (a crash mid-write, or an edit) does not swallow
// the next entry: it goes on a line of its own, chained to the damage,
// and Verify names the damaged line.
func TestAppendAfterADamagedLastLine(t *testing.T) {
	dir, _ := logWith(t, 2)
	p := installation.New(dir, "").AuditLogFile()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"seq":3,"ti`)
	f.Close()
	head, err := Append(dir, Entry{Command: "unseal", Result: ResultOK})
	if err != nil {
		t.Fatal(err)
	}
	data, _ := Read(dir)
	rep := Verify(data, &head)
	if head.Seq != 3 || len(rep.Entries) != 3 {
		t.Fatalf("head %+v, %d entries; want the new entry as 3 of 3", head, len(rep.Entries))
	}
	if len(rep.Problems) != 1 || rep.Problems[0].Kind != ProblemMalformed || rep.Problems[0].Line != 3 {
		t.Errorf("problems %+v, want line 3 malformed", rep.Problems)
	}
}

// Reading back is strict: fields the entry does not have, data after the
// object, unknown results and malformed links are not entries.
func TestParseEntryIsStrict(t *testing.T) {
	ok := `{"seq":1,"time":"2031-01-02T03:04:05Z","user":{"uid":0},"command":"backup","args":[],"changed":false,"changes":[],"steps":[],"result":"ok","prev":""}`
	if _, err := ParseEntry([]byte(ok)); err != nil {
		t.Fatalf("a good entry: %v", err)
	}
	for _, bad := range []string{
		strings.Replace(ok, `"prev":""`, `"prev":"","secret":"x"`, 1),
		ok + ` {}`,
		strings.Replace(ok, `"result":"ok"`, `"result":"fine"`, 1),
		strings.Replace(ok, `"prev":""`, `"prev":"abc"`, 1),
		strings.Replace(ok, `"seq":1`, `"seq":0`, 1),
		strings.Replace(ok, `"seq":1`, `"seq":-1`, 1),
		`[]`,
	} {
		if _, err := ParseEntry([]byte(bad)); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
}

// What a run changed comes from its events: services created, recreated,
// started or removed, networks, volumes, images and certificates; a
// service found running unchanged is no change.
func TestRecorderDerivesChangesFromEvents(t *testing.T) {
	var r Recorder
	c := event.ResourceContainer
	for _, e := range []event.Event{
		{Kind: event.KindStarted, Step: "services"},
		{Kind: event.KindProgress, Resource: event.ResourceNetwork, Subject: "bank_app", Action: event.ActionCreate, Status: event.StatusWorking},
		{Kind: event.KindProgress, Resource: event.ResourceNetwork, Subject: "bank_app", Action: event.ActionCreate, Status: event.StatusDone},
		{Kind: event.KindProgress, Resource: c, Subject: "postgres", Action: event.ActionStart, Status: event.StatusDone, Message: "unchanged"},
		{Kind: event.KindProgress, Resource: c, Subject: "fineract", Action: event.ActionRecreate, Status: event.StatusWorking},
		{Kind: event.KindProgress, Resource: c, Subject: "fineract", Action: event.ActionCreate, Status: event.StatusWorking},
		{Kind: event.KindProgress, Resource: c, Subject: "fineract", Action: event.ActionStart, Status: event.StatusDone},
		{Kind: event.KindProgress, Resource: c, Subject: "web", Action: event.ActionCreate, Status: event.StatusWorking},
		{Kind: event.KindWarning, Resource: c, Subject: "web", Action: event.ActionStart, Status: event.StatusFailed},
		{Kind: event.KindProgress, Resource: event.ResourceCertificate, Subject: "gateway", Action: event.ActionIssue, Status: event.StatusDone},
		{Kind: event.KindFailed, Step: "services", Cause: "web did not start"},
	} {
		r.Observe(e)
	}
	e := r.Entry(Entry{Command: "install"}, errors.New("failed"), false)
	want := []Change{
		{Resource: "network", Action: "create", Subject: "bank_app"},
		{Resource: "container", Action: "recreate", Subject: "fineract"},
		{Resource: "container", Action: "create", Subject: "web", Failed: true},
		{Resource: "certificate", Action: "issue", Subject: "gateway"},
	}
	if fmt.Sprint(e.Changes) != fmt.Sprint(want) || !e.Changed {
		t.Errorf("changes %+v, want %+v", e.Changes, want)
	}
	if e.Result != ResultFailed || e.Cause != "web did not start" {
		t.Errorf("result %s %q, want failed with the step's cause", e.Result, e.Cause)
	}
}

// A rerun that finds everything in place (every step's Check says done,
// the checklist runs again) records that nothing changed.
func TestUnchangedRerunRecordsNothingChanged(t *testing.T) {
	var r Recorder
	r.StepsReportingChanges("validate")
	for _, e := range []event.Event{
		{Kind: event.KindSkipped, Step: "certificates"},
		{Kind: event.KindSkipped, Step: "services"},
		{Kind: event.KindStarted, Step: "validate"},
		{Kind: event.KindProgress, Step: "validate", Current: 1, Total: 30, Unit: "checks"},
		{Kind: event.KindDone, Step: "validate"},
	} {
		r.Observe(e)
	}
	dir := t.TempDir()
	if _, err := Append(dir, r.Entry(Entry{Command: "install"}, nil, false)); err != nil {
		t.Fatal(err)
	}
	data, _ := Read(dir)
	rep := Verify(data, nil)
	if len(rep.Entries) != 1 {
		t.Fatalf("%d entries", len(rep.Entries))
	}
	got := rep.Entries[0].Entry
	if got.Changed || len(got.Changes) != 0 || got.Result != ResultOK {
		t.Errorf("an unchanged rerun recorded %+v", got)
	}
	if !bytes.Contains(data, []byte(`"changed":false`)) {
		t.Errorf("the line does not say nothing changed: %s", data)
	}
}

// A failure's cause goes through the support bundle's pattern redaction:
// a token or a "passphrase: value" quoted by an error never reaches the
// log.
func TestCauseKeepsNoSecretOfAKnownShape(t *testing.T) {
	var r Recorder
	r.Observe(event.Event{Kind: event.KindFailed, Step: "unseal", Cause: "vault said token=hvs.CAESIabcdefghijklmnopqrstuvwxyz, passphrase: hunter2hunter2"})
	e := r.Entry(Entry{Command: "unseal"}, errors.New("failed"), false)
	for _, secret := range []string{"hvs.CAESIabcdefghijklmnopqrstuvwxyz", "hunter2hunter2"} {
		if strings.Contains(e.Cause, secret) {
			t.Errorf("the cause keeps %s: %s", secret, e.Cause)
		}
	}
	if !strings.Contains(e.Cause, "[REDACTED:") {
		t.Errorf("the cause says nothing was removed: %s", e.Cause)
	}
}

// A step that ran changed something even when no engine resource says
// what (Vault unsealed, a backup written): only steps that observe are no
// change, and a service found running unchanged is none either.
func TestAStepThatRanIsAChange(t *testing.T) {
	var r Recorder
	r.StepsReportingChanges("validate")
	for _, e := range []event.Event{
		{Kind: event.KindStarted, Step: "unseal"},
		{Kind: event.KindProgress, Step: "unseal", Resource: event.ResourceContainer, Subject: "postgres", Action: event.ActionStart, Status: event.StatusDone, Message: "unchanged"},
		{Kind: event.KindDone, Step: "unseal"},
		{Kind: event.KindDone, Step: "validate"},
	} {
		r.Observe(e)
	}
	e := r.Entry(Entry{Command: "unseal"}, nil, false)
	if !e.Changed || len(e.Changes) != 0 || fmt.Sprint(e.Steps) != "[unseal validate]" {
		t.Errorf("unseal recorded changed=%t changes %+v steps %v; want changed by its step alone", e.Changed, e.Changes, e.Steps)
	}
}
