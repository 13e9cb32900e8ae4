package cli

import (
	"fmt"
	"strings"
)

// confirm asks question, to be answered y or yes, unless yes was given.
// what says what the command changes, for the error when no terminal can
// answer.
func confirm(a *app, yes bool, what, question string) error {
	if yes {
		return nil
	}
	if !a.io.CanPrompt() {
		return usageError("%s: pass --yes to confirm when not running in a terminal", what)
	}
	fmt.Fprintf(a.io.Out, "%s [y/N] ", question)
	answer, err := a.io.ReadLine()
	answer = strings.ToLower(strings.TrimSpace(answer))
	if err != nil || answer != "y" && answer != "yes" {
		return usageError("not confirmed; nothing was changed")
	}
	return nil
}
