package assets

import (
	"slices"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// GroupMemoryMiB is the sum of the memory limits of a group's services for
// a profile; 0 for an unknown group.
func GroupMemoryMiB(group string, p answers.Profile) int {
	total := 0
	for _, s := range catalog {
		if s.group == group {
			total += s.memory(p)
		}
	}
	return total
}

// MemoryEstimateMiB is the memory the containers of the given groups may use
// together (their limits), with the groups they depend on added. Unknown
// group names count for nothing; ResolveGroups reports them.
func MemoryEstimateMiB(groups []string, p answers.Profile) int {
	known := make([]string, 0, len(groups))
	for _, g := range groups {
		if slices.Contains(answers.Groups, g) {
			known = append(known, g)
		}
	}
	resolved, _, err := ResolveGroups(known)
	if err != nil {
		return 0
	}
	total := 0
	for _, g := range resolved {
		total += GroupMemoryMiB(g, p)
	}
	return total
}

// HostMemoryNeededMiB is the RAM a host needs for the given groups: the
// containers' limits plus HostReserveMiB for the host itself.
func HostMemoryNeededMiB(groups []string, p answers.Profile) int {
	return MemoryEstimateMiB(groups, p) + HostReserveMiB
}
