package answers

import (
	"bytes"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
)

// header opens every answers file the installer writes: the wizard's and
// the install dir's copy are the same bytes for the same answers, so a
// rerun can tell by comparing them whether the answers changed.
const header = "# fineract-installer answers file. No secret is stored here. Install with:\n" +
	"#   fineract-installer install --answers THIS_FILE --yes\n"

// fileMode is the answers file's: no secret, but the layout of a bank's
// network is not for every account on the host.
const fileMode = 0o640

// Marshal renders the answers file for a: Parse loads it back to a.
func Marshal(a Answers) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header)
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(a); err != nil {
		return nil, fmt.Errorf("encode answers: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode answers: %w", err)
	}
	return b.Bytes(), nil
}

// Save validates a and writes it to path atomically (a crash leaves the
// previous file or the new one, never half of one), so every answers file
// the installer writes loads again.
func Save(path string, a Answers) error {
	if err := a.Validate(); err != nil {
		return err
	}
	data, err := Marshal(a)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, data, fileMode); err != nil {
		return fmt.Errorf("save answers: %w", err)
	}
	return nil
}
