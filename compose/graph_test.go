package compose

import (
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

func svcDependingOn(name string, required bool, deps ...string) types.ServiceConfig {
	s := types.ServiceConfig{Name: name}
	s.DependsOn = types.DependsOnConfig{}
	for _, d := range deps {
		s.DependsOn[d] = types.ServiceDependency{Condition: types.ServiceConditionStarted, Required: required}
	}
	return s
}

func TestCheckGraphFindsCycles(t *testing.T) {
	p := &types.Project{Services: types.Services{
		"a": svcDependingOn("a", true, "b"),
		"b": svcDependingOn("b", true, "c"),
		"c": svcDependingOn("c", true, "a"),
	}}
	err := checkGraph(p)
	if err == nil || !strings.Contains(err.Error(), "a -> b -> c -> a") {
		t.Fatalf("want the cycle spelled out, got %v", err)
	}
}

func TestCheckGraphMissingDependency(t *testing.T) {
	p := &types.Project{Services: types.Services{"a": svcDependingOn("a", false, "gone")}}
	if err := checkGraph(p); err != nil {
		t.Fatalf("an optional dependency that is absent must be accepted: %v", err)
	}
	p.Services["a"] = svcDependingOn("a", true, "gone")
	if err := checkGraph(p); err == nil || !strings.Contains(err.Error(), "not in the project") {
		t.Fatalf("want a missing required dependency reported, got %v", err)
	}
}
