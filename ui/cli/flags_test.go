package cli

import (
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// valuePlaceholder is how a flag's value is named in help: FILE, DIR,
// NAME, HH:MM.
var valuePlaceholder = regexp.MustCompile(`^[A-Z][A-Z0-9_:]*$`)

// Cobra (pflag.UnquoteUsage) takes the first back-quoted word of a flag's
// usage as the name of its value, so `--answers FILE` reads well while a
// back-quoted command in the usage would become the value's name
// (`--answers fineract-installer answers init`). Every flag of every
// command names its value with a placeholder, and no other back quote is
// left in what help prints.
func TestFlagUsagesNameTheirValues(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		check := func(f *pflag.Flag) {
			name, usage := pflag.UnquoteUsage(f)
			isBool := f.Value.Type() == "bool"
			switch {
			case isBool && name != "":
				t.Errorf("%s --%s: a switch has no value, yet its usage names one: %q", c.CommandPath(), f.Name, name)
			case !isBool && !valuePlaceholder.MatchString(name):
				t.Errorf("%s --%s: help shows its value as %q; back-quote a placeholder such as `FILE` in the usage", c.CommandPath(), f.Name, name)
			}
			if strings.Contains(usage, "`") {
				t.Errorf("%s --%s: help shows a back quote: %q", c.CommandPath(), f.Name, usage)
			}
		}
		c.LocalFlags().VisitAll(check)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&app{io: &Streams{}}))
}
