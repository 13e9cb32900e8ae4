package steps

import "fmt"

// Plan is the ordered list of stages of an installation. Steps in one stage
// do not depend on each other and run in parallel; a stage starts when the
// one before it has finished.
type Plan struct {
	Stages [][]Step
}

// Then appends a stage of steps that run in parallel.
func (p *Plan) Then(steps ...Step) *Plan {
	if len(steps) > 0 {
		p.Stages = append(p.Stages, steps)
	}
	return p
}

// Steps lists every step in order.
func (p *Plan) Steps() []Step {
	var out []Step
	for _, st := range p.Stages {
		out = append(out, st...)
	}
	return out
}

// validate rejects a plan with duplicate step IDs, which would make the
// state file ambiguous.
func (p *Plan) validate() error {
	seen := map[string]bool{}
	for _, s := range p.Steps() {
		if seen[s.ID()] {
			return fmt.Errorf("plan has two steps with ID %q", s.ID())
		}
		seen[s.ID()] = true
	}
	return nil
}
