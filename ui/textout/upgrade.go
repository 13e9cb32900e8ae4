package textout

import (
	"fmt"
	"strings"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// ImageChange is one service an upgrade moves from one image to another.
type ImageChange struct {
	Service, From, To string
}

// Upgrade is what an upgrade screen reports.
type Upgrade struct {
	// FromStack and ToStack are the stack versions (FromStack is empty
	// when the installation's record names none).
	FromStack, ToStack string
	Changes            []ImageChange
	// Steps are the titles of the steps the upgrade runs, in order.
	Steps []string
	// Plan is what installing the new release's stack would change (the
	// plan command's answer), drawn as each container's reason and the
	// images to fetch; nil draws the images and steps alone.
	Plan *install.Changes
	// Failure is what made the upgrade roll back; empty when it did not.
	Failure steps.Explanation
	// Checklist is the checklist of the stack as it was left.
	Checklist []validate.Result
}

func (u Upgrade) stacks() string {
	from := u.FromStack
	if from == "" {
		from = "the recorded images"
	}
	return from + " -> " + u.ToStack
}

func (u Upgrade) changes(b *strings.Builder) {
	w := 0
	for _, c := range u.Changes {
		w = max(w, len(c.Service))
	}
	for _, c := range u.Changes {
		fmt.Fprintf(b, "  %-*s  %s -> %s\n", w, c.Service, c.From, c.To)
	}
}

// UpgradePlan draws what an upgrade will do, before it starts: the images
// it replaces, each container's reason and the images to fetch (when the
// plan is known), and its steps.
func UpgradePlan(st Styles, u Upgrade, width int) string {
	var b strings.Builder
	b.WriteString(st.Bold.Render("Upgrade "+u.stacks()) + "\n")
	b.WriteString("Images replaced, in this order:\n")
	u.changes(&b)
	if u.Plan != nil && u.Plan.Stack != nil {
		line := func(mark Style, sym, text string) {
			fmt.Fprintf(&b, "  %s %s\n", mark.Render(sym), Wrap(text, width-4, "    "))
		}
		b.WriteString("Containers replaced or started:\n")
		for _, s := range u.Plan.Stack.Services {
			if s.Changes() {
				serviceLine(st, line, s)
			}
		}
		sizes := downloadSizes(u.Plan)
		for _, img := range u.Plan.Stack.Images {
			if img.Action != compose.ImagePresent {
				imageLine(st, line, img, sizes)
			}
		}
	}
	b.WriteString("Steps:\n")
	for i, s := range u.Steps {
		fmt.Fprintf(&b, "  %2d. %s\n", i+1, s)
	}
	b.WriteString("Nothing stops before the backup is verified and the new images are here.\n")
	return b.String()
}

// UpgradeDone draws the final screen of an upgrade: what changed, or what
// failed and that the stack is back on the images it had, then the
// checklist of the stack as it was left. Lines are wrapped to width
// cells as Checklist wraps them.
func UpgradeDone(st Styles, u Upgrade, width int) string {
	var b strings.Builder
	if u.Failure.Cause == "" {
		b.WriteString(st.OK.Render("✓ Upgraded "+u.stacks()) + "\n")
		u.changes(&b)
	} else {
		b.WriteString(st.Bad.Render("✗ The upgrade failed and was rolled back: "+u.Failure.Cause) + "\n")
		var d strings.Builder
		x := u.Failure
		x.Hint = ""
		Details(&d, st, x)
		b.WriteString(d.String())
		b.WriteString(st.OK.Render("The stack is back on the images it ran before:") + "\n")
		back := Upgrade{Changes: make([]ImageChange, len(u.Changes))}
		for i, c := range u.Changes {
			back.Changes[i] = ImageChange{Service: c.Service, From: c.To, To: c.From}
		}
		back.changes(&b)
	}
	if len(u.Checklist) > 0 {
		b.WriteString("\n" + Checklist(st, u.Checklist, width))
	}
	return b.String()
}
