package textout

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dustin/go-humanize"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/pki"
)

// Plan draws what an install would change: services, networks, volumes,
// images, certificates and steps, then a one-line summary. Marks: + create,
// ~ recreate or start, - remove, = unchanged, ↓ pull or load, ▶ a step
// that runs, ↷ one already done.
func Plan(st Styles, c *install.Changes, width int) string {
	var b strings.Builder
	line := func(mark Style, sym, text string) {
		fmt.Fprintf(&b, "  %s %s\n", mark.Render(sym), Wrap(text, width-4, "    "))
	}
	fmt.Fprintf(&b, "%s project %s in %s\n", st.Bold.Render("Plan:"), c.Project, c.Dir)
	if c.Stack != nil {
		fmt.Fprintf(&b, "\n%s\n", st.Bold.Render("Services"))
		for _, s := range c.Stack.Services {
			serviceLine(st, line, s)
		}
		fmt.Fprintf(&b, "\n%s\n", st.Bold.Render("Networks"))
		for _, n := range c.Stack.Networks {
			line(resourceMark(st, n.Action), resourceSym(n.Action), resourceText(n))
		}
		fmt.Fprintf(&b, "\n%s %s\n", st.Bold.Render("Volumes"), st.Dim.Render("(an apply never removes a volume)"))
		for _, v := range c.Stack.Volumes {
			line(resourceMark(st, v.Action), resourceSym(v.Action), resourceText(v))
		}
		fmt.Fprintf(&b, "\n%s\n", st.Bold.Render("Images"))
		sizes := downloadSizes(c)
		for _, img := range c.Stack.Images {
			imageLine(st, line, img, sizes)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", st.Bold.Render("Certificates"))
	switch {
	case c.Certificates != nil:
		for _, r := range append([]pki.Result{c.Certificates.CA}, c.Certificates.Certificates...) {
			text := r.Name + ": " + certWords[r.Action]
			if why := slices.Concat(r.Reasons, r.Notes); len(why) > 0 {
				text += " (" + strings.Join(why, "; ") + ")"
			}
			if len(r.Files) == 0 && len(r.Notes) == 0 {
				line(st.Dim, "=", text)
			} else {
				line(st.Warn, "~", text)
			}
		}
	case c.CertificatesError != "":
		line(st.Bad, "✗", c.CertificatesError)
	}
	fmt.Fprintf(&b, "\n%s %s\n", st.Bold.Render("Steps"), st.Dim.Render("(preflight always runs; each step is checked again when it is reached)"))
	for _, s := range c.Steps {
		switch {
		case s.Error != "":
			line(st.Warn, "▶", s.Title+": runs (its check failed: "+s.Error+")")
		case s.Run && s.ObservesOnly:
			line(st.Dim, "▶", s.Title+": runs (it only checks, changing nothing)")
		case s.Run:
			line(st.Bold, "▶", s.Title+": runs")
		default:
			line(st.Dim, "↷", s.Title+": already done")
		}
	}
	if len(c.Stops) > 0 {
		fmt.Fprintf(&b, "\n%s\n", st.Bad.Render("Install stops before changing any container:"))
		for _, s := range c.Stops {
			line(st.Bad, "✗", s)
		}
	}
	fmt.Fprintf(&b, "\n%s\n", PlanSummary(c))
	return b.String()
}

// planLine draws one marked line of a plan.
type planLine func(mark Style, sym, text string)

// serviceLine draws a service's action and its reasons.
func serviceLine(st Styles, line planLine, s compose.ServiceChange) {
	sym, mark := serviceMark(st, s.Action)
	text := s.Service + ": " + string(s.Action)
	if len(s.Reasons) > 0 {
		text += " (" + strings.Join(s.Reasons, "; ") + ")"
	}
	line(mark, sym, text)
}

// downloadSizes says, per image reference, how much its pull downloads.
func downloadSizes(c *install.Changes) map[string]string {
	sizes := map[string]string{}
	for _, d := range c.Downloads {
		if d.Known {
			sizes[d.Ref] = "download " + humanize.IBytes(uint64(max(d.Bytes, 0)))
		} else {
			sizes[d.Ref] = "size unknown: " + d.Unknown
		}
	}
	return sizes
}

// imageLine draws whether an image is here, pulled (with its size) or
// loaded.
func imageLine(st Styles, line planLine, img compose.ImageChange, sizes map[string]string) {
	switch img.Action {
	case compose.ImagePresent:
		line(st.Dim, "=", img.Ref+": on this host ("+shortID(img.ID)+")")
	case compose.ImagePull:
		size := sizes[img.Ref]
		if size == "" {
			size = "size unknown"
		}
		line(st.Warn, "↓", img.Ref+": pull, "+size)
	case compose.ImageLoad:
		line(st.Warn, "↓", img.Ref+": load from the images bundle")
	}
}

// PlanSummary is the plan in one line: what changes, or that nothing does.
func PlanSummary(c *install.Changes) string {
	if !c.Pending() {
		return "No changes: the installation is as these answers describe it."
	}
	var parts []string
	if c.Stack != nil {
		count := map[compose.ServiceAction]int{}
		for _, s := range c.Stack.Services {
			count[s.Action]++
		}
		for _, a := range []compose.ServiceAction{compose.ServiceCreate, compose.ServiceRecreate, compose.ServiceStart, compose.ServiceRemove, compose.ServiceUnchanged} {
			if n := count[a]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, a))
			}
		}
		pulls := 0
		for _, img := range c.Stack.Images {
			if img.Action != compose.ImagePresent {
				pulls++
			}
		}
		if pulls > 0 {
			parts = append(parts, fmt.Sprintf("%d image(s) to fetch", pulls))
		}
	}
	if c.Certificates != nil && !c.Certificates.UpToDate() {
		parts = append(parts, "certificates to issue")
	}
	runs := 0
	for _, s := range c.Steps {
		if s.Run && !s.ObservesOnly {
			runs++
		}
	}
	parts = append(parts, fmt.Sprintf("%d of %d steps run", runs, len(c.Steps)))
	return "Changes pending: " + strings.Join(parts, ", ") + "."
}

// certWords says a certificate store's action as a plan does: the store
// reports in the past tense what Ensure did, or Plan would do.
var certWords = map[pki.Action]string{
	pki.Created: "issue", pki.Reused: "unchanged", pki.Reissued: "reissue", pki.Recertified: "recertify",
}

func serviceMark(st Styles, a compose.ServiceAction) (string, Style) {
	switch a {
	case compose.ServiceCreate:
		return "+", st.OK
	case compose.ServiceRecreate, compose.ServiceStart:
		return "~", st.Warn
	case compose.ServiceRemove:
		return "-", st.Bad
	}
	return "=", st.Dim
}

func resourceSym(a compose.ResourceAction) string {
	if a == compose.ResourceCreate {
		return "+"
	}
	return "="
}

func resourceMark(st Styles, a compose.ResourceAction) Style {
	if a == compose.ResourceCreate {
		return st.OK
	}
	return st.Dim
}

func resourceText(r compose.ResourceChange) string {
	text := r.Name + ": " + string(r.Action)
	if r.Reason != "" {
		text += " (" + r.Reason + ")"
	}
	return text
}

// shortID is an image ID as people compare them: sha256 and 12 hex.
func shortID(id string) string {
	if algo, hex, ok := strings.Cut(id, ":"); ok && len(hex) > 12 {
		return algo + ":" + hex[:12]
	}
	return id
}
