package assets

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// TestStackDocMatchesTheCode keeps STACK.md's tables in step with the
// catalog: images, exceptions and memory figures.
func TestStackDocMatchesTheCode(t *testing.T) {
	raw, err := os.ReadFile("STACK.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	for _, p := range ImagePins() {
		if row := fmt.Sprintf("| %s | `%s` |", p.Service, p.Image); !strings.Contains(doc, row) {
			t.Errorf("STACK.md image table lacks %q", row)
		}
	}
	for _, s := range catalog {
		if s.readOnlyException != "" && !strings.Contains(doc, "| "+s.name+" | read-only root |") {
			t.Errorf("STACK.md does not list %s's read-only exception", s.name)
		}
		if s.rootReason != "" && !strings.Contains(doc, "| "+s.name+" | non-root user |") {
			t.Errorf("STACK.md does not list %s's root exception", s.name)
		}
		if len(s.capAdd) > 0 && !strings.Contains(doc, "| "+s.name+" | capabilities |") {
			t.Errorf("STACK.md does not list %s's capabilities", s.name)
		}
	}
	for _, g := range answers.Groups {
		row := fmt.Sprintf("| %s | %d | %d |", g, GroupMemoryMiB(g, answers.Demo), GroupMemoryMiB(g, answers.Production))
		if !strings.Contains(doc, row) {
			t.Errorf("STACK.md memory table lacks %q", row)
		}
	}
	all := fmt.Sprintf("| all groups | %d | %d |", MemoryEstimateMiB(answers.Groups, answers.Demo), MemoryEstimateMiB(answers.Groups, answers.Production))
	if !strings.Contains(doc, all) {
		t.Errorf("STACK.md memory table lacks %q", all)
	}
	mon := []string{answers.GroupMonitoring}
	for _, n := range []int{MemoryEstimateMiB(mon, answers.Demo), HostMemoryNeededMiB(mon, answers.Demo), HostReserveMiB} {
		if !strings.Contains(doc, fmt.Sprintf("%d MiB", n)) {
			t.Errorf("STACK.md does not state %d MiB", n)
		}
	}
}
