package assets

import (
	"slices"
	"strings"
	"testing"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

func TestResolveGroups(t *testing.T) {
	cases := []struct {
		selected []string
		want     []string
		added    []string
	}{
		{nil, []string{"core"}, []string{"core"}},
		{[]string{"core"}, []string{"core"}, nil},
		{[]string{"monitoring"}, []string{"core", "monitoring"}, []string{"core"}},
		{[]string{"logging", "identity", "core", "logging"}, []string{"core", "identity", "logging"}, nil},
		{answers.Groups, answers.Groups, nil},
	}
	for _, tc := range cases {
		got, added, err := ResolveGroups(tc.selected)
		if err != nil {
			t.Fatalf("ResolveGroups(%v): %v", tc.selected, err)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("ResolveGroups(%v) = %v, want %v", tc.selected, got, tc.want)
		}
		var addedNames []string
		for g, why := range added {
			addedNames = append(addedNames, g)
			if why == "" {
				t.Errorf("ResolveGroups(%v): %s added without a reason", tc.selected, g)
			}
		}
		slices.Sort(addedNames)
		if !slices.Equal(addedNames, tc.added) {
			t.Errorf("ResolveGroups(%v) added %v, want %v", tc.selected, addedNames, tc.added)
		}
	}
	if _, _, err := ResolveGroups([]string{"core", "billing"}); err == nil || !strings.Contains(err.Error(), `"billing"`) || !strings.Contains(err.Error(), "monitoring") {
		t.Errorf("unknown group: error %v should name it and list the valid groups", err)
	}
}

func TestMemoryEstimate(t *testing.T) {
	demo := MemoryEstimateMiB([]string{answers.GroupMonitoring}, answers.Demo)
	if need := HostMemoryNeededMiB([]string{answers.GroupMonitoring}, answers.Demo); need > 8192 {
		t.Errorf("demo core+monitoring needs %d MiB with the host's share; it must fit an 8 GiB host", need)
	}
	if demo != GroupMemoryMiB(answers.GroupCore, answers.Demo)+GroupMemoryMiB(answers.GroupMonitoring, answers.Demo) {
		t.Errorf("estimate %d is not the sum of the core and monitoring groups", demo)
	}
	if got := MemoryEstimateMiB(nil, answers.Production); got != GroupMemoryMiB(answers.GroupCore, answers.Production) || got == 0 {
		t.Errorf("no selection estimates %d MiB, want core's %d", got, GroupMemoryMiB(answers.GroupCore, answers.Production))
	}
	if MemoryEstimateMiB([]string{"billing"}, answers.Demo) != MemoryEstimateMiB(nil, answers.Demo) {
		t.Error("an unknown group changed the estimate")
	}
	for _, g := range answers.Groups {
		if GroupMemoryMiB(g, answers.Demo) <= 0 || GroupMemoryMiB(g, answers.Demo) > GroupMemoryMiB(g, answers.Production) {
			t.Errorf("group %s: demo %d MiB should be positive and at most production's %d", g, GroupMemoryMiB(g, answers.Demo), GroupMemoryMiB(g, answers.Production))
		}
	}
	// The estimate is exactly the rendered containers' limits.
	for _, c := range allCombos() {
		b := mustRender(t, answersFor(c))
		sum := 0
		for _, s := range b.Services {
			sum += s.MemoryMiB
		}
		if est := MemoryEstimateMiB(c.groups, c.profile); est != sum {
			t.Errorf("%s: estimate %d MiB, rendered limits add up to %d", c, est, sum)
		}
	}
}
