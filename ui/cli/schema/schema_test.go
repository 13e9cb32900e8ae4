package schema

import (
	"strings"
	"testing"
)

// The contract refuses what a consumer could not rely on; each line here
// broke it in a different way, and Check must name the line.
func TestCheckRefusesWhatTheContractDoesNotDocument(t *testing.T) {
	good := `{"schema":1,"type":"version","version":"1.0.0","go":"go1.26.8"}`
	if err := Check([]byte(good + "\n" + good)); err != nil {
		t.Fatalf("a documented object was refused: %v", err)
	}
	for name, line := range map[string]string{
		"no schema":          `{"type":"version","version":"1.0.0","go":"go1.26.8"}`,
		"another version":    `{"schema":2,"type":"version","version":"1.0.0","go":"go1.26.8"}`,
		"no type":            `{"schema":1,"version":"1.0.0","go":"go1.26.8"}`,
		"undocumented type":  `{"schema":1,"type":"surprise"}`,
		"undocumented field": `{"schema":1,"type":"version","version":"1.0.0","go":"go1.26.8","extra":true}`,
		"missing field":      `{"schema":1,"type":"version","go":"go1.26.8"}`,
		"unknown event kind": `{"schema":1,"type":"event","time":"2026-01-02T03:04:05Z","kind":"finished","step":"vault"}`,
		"not a time":         `{"schema":1,"type":"event","time":"yesterday","kind":"done","step":"vault"}`,
		"an array":           `[{"schema":1,"type":"version","version":"1.0.0","go":"go1.26.8"}]`,
		"not JSON":           `✓ Check the host (0.4s)`,
		"an empty line":      ``,
	} {
		err := Check([]byte(good + "\n" + line + "\n"))
		if err == nil || !strings.Contains(err.Error(), "line 2:") {
			t.Errorf("%s: %q was not refused at line 2: %v", name, line, err)
		}
	}
}
