package compose

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
)

// ServiceAction is what an apply does to one service's container.
type ServiceAction string

// Service actions, from the least to the most disruptive.
const (
	ServiceUnchanged ServiceAction = "unchanged" // left running as it is
	ServiceStart     ServiceAction = "start"     // same configuration, not running: started
	ServiceCreate    ServiceAction = "create"    // no container yet
	ServiceRecreate  ServiceAction = "recreate"  // replaced by a new container
	ServiceRemove    ServiceAction = "remove"    // no longer in the project
)

// ServiceChange is the decision about one service, with the reasons for it.
type ServiceChange struct {
	Service string        `json:"service"`
	Action  ServiceAction `json:"action"`
	// Reasons say, for people, what differs ("secret db_password changed").
	Reasons []string `json:"reasons,omitempty"`
	// Container is the ID of the container there now, if any.
	Container string `json:"container,omitempty"`
}

// Changes reports whether applying the decision changes anything.
func (c ServiceChange) Changes() bool { return c.Action != ServiceUnchanged }

// decision is a ServiceChange with the containers it acts on.
type decision struct {
	ServiceChange
	keep   *container.Summary  // the container that stays, if any
	remove []container.Summary // outdated or surplus containers
}

// decide compares a service's wanted fingerprint with its containers. Up
// acts on the result and Plan reports it, so the two cannot disagree.
// imageRef and imageID are what the service's image resolves to; an
// empty imageID means the image is not on this host yet.
func decide(name, imageRef, imageID string, want fingerprint, existing []container.Summary) decision {
	existing = slices.Clone(existing)
	sort.Slice(existing, func(i, j int) bool { return existing[i].Created < existing[j].Created })
	d := decision{ServiceChange: ServiceChange{Service: name}}
	for i := range existing {
		if d.keep == nil && existing[i].Labels[LabelConfigHash] == want.Hash {
			d.keep = &existing[i]
			continue
		}
		d.remove = append(d.remove, existing[i])
	}
	switch {
	case d.keep != nil:
		d.Container = d.keep.ID
		d.Action = ServiceUnchanged
		if d.keep.State != "running" {
			d.Action = ServiceStart
			d.Reasons = append(d.Reasons, "container is "+d.keep.State)
		}
		if n := len(d.remove); n > 0 {
			if d.Action == ServiceUnchanged {
				d.Action = ServiceStart
			}
			d.Reasons = append(d.Reasons, fmt.Sprintf("%d surplus container(s) removed", n))
		}
	case len(d.remove) > 0:
		newest := d.remove[len(d.remove)-1]
		d.Container = newest.ID
		d.Action = ServiceRecreate
		d.Reasons = changeReasons(newest.Labels, imageRef, imageID, want)
	default:
		d.Action = ServiceCreate
		d.Reasons = []string{"no container yet"}
	}
	return d
}

// changeReasons names what differs between the container with the given
// labels and the wanted fingerprint, which do not match.
func changeReasons(labels map[string]string, imageRef, imageID string, want fingerprint) []string {
	var reasons []string
	oldRef, oldID := labels[LabelImageRef], labels[LabelImage]
	switch {
	case imageID == "":
		reasons = append(reasons, fmt.Sprintf("image %s is not on this host: it is pulled, and the container is recreated unless it is still %s", imageRef, shortImageID(oldID)))
	case oldRef != "" && oldRef != imageRef:
		reasons = append(reasons, fmt.Sprintf("image %s → %s (%s)", oldRef, imageRef, shortImageID(imageID)))
	case oldID != "" && oldID != imageID:
		reasons = append(reasons, fmt.Sprintf("image %s now is %s (was %s)", imageRef, shortImageID(imageID), shortImageID(oldID)))
	}
	var have map[string]string
	if raw, ok := labels[LabelConfigParts]; !ok || json.Unmarshal([]byte(raw), &have) != nil {
		// Made by an older installer: only the whole hash can be compared.
		return append(reasons, "created before per-part labels; config hash differs")
	}
	for _, key := range slices.Sorted(maps.Keys(union(have, want.Parts))) {
		if key == partImageID || key == partSetting+"image" {
			continue // reported above, from the image labels
		}
		old, inOld := have[key]
		cur, inNew := want.Parts[key]
		if old == cur {
			continue
		}
		what := partName(key)
		switch {
		case !inOld:
			reasons = append(reasons, what+" added")
		case !inNew:
			reasons = append(reasons, what+" removed")
		default:
			reasons = append(reasons, what+" changed")
		}
	}
	if len(reasons) == 0 {
		// The hash differs while every part matches: the parts cannot say
		// why, so say what is known.
		reasons = append(reasons, "config hash differs")
	}
	return reasons
}

// partName turns a Parts key into words: "secret db_password".
func partName(key string) string {
	for _, p := range []struct{ prefix, word string }{
		{partSetting, "setting"}, {partSecret, "secret"}, {partConfig, "config"}, {partFile, "file"},
	} {
		if rest, ok := strings.CutPrefix(key, p.prefix); ok {
			return p.word + " " + rest
		}
	}
	return key
}

func union(a, b map[string]string) map[string]string {
	out := maps.Clone(a)
	if out == nil {
		out = map[string]string{}
	}
	maps.Copy(out, b)
	return out
}

// shortImageID is an image ID as people compare them: sha256 and 12 hex.
func shortImageID(id string) string {
	if id == "" {
		return "an unknown image"
	}
	algo, hex, ok := strings.Cut(id, ":")
	if !ok {
		return shortID(id)
	}
	return algo + ":" + shortID(hex)
}

// partsLabel is the LabelConfigParts value of a fingerprint.
func partsLabel(fp fingerprint) (string, error) {
	b, err := json.Marshal(fp.Parts)
	if err != nil {
		return "", fmt.Errorf("encode config parts: %w", err)
	}
	return string(b), nil
}

// orphanChanges is the decision about containers of services that are no
// longer in the project.
func orphanChanges(p *types.Project, byService map[string][]container.Summary) []decision {
	var out []decision
	for _, svc := range slices.Sorted(maps.Keys(byService)) {
		if _, ok := p.Services[svc]; ok || len(byService[svc]) == 0 {
			continue
		}
		cs := byService[svc]
		out = append(out, decision{
			ServiceChange: ServiceChange{Service: svc, Action: ServiceRemove, Container: cs[0].ID, Reasons: []string{"no longer in the project"}},
			remove:        cs,
		})
	}
	return out
}

// actionWords is an action as the end of "service X would be ...".
func actionWords(a ServiceAction) string {
	switch a {
	case ServiceStart:
		return "started"
	case ServiceCreate:
		return "created"
	case ServiceRecreate:
		return "recreated"
	case ServiceRemove:
		return "removed"
	}
	return string(a)
}
