// Package schema holds the contract of the installer's JSON output
// (--output json): output.schema.json, a JSON Schema (draft 2020-12) that
// documents every object any command writes, and Check, which tests and
// the end-to-end suite use to hold every line of that output to it. The
// program itself does not import this package.
package schema

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// File is output.schema.json.
//
//go:embed output.schema.json
var File []byte

// fileURL is the schema's $id; the compiler never fetches it.
const fileURL = "https://github.com/fineract-installer/fineract-installer/ui/cli/schema/output.schema.json"

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(File))
	if err != nil {
		return nil, fmt.Errorf("read output.schema.json: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(fileURL, doc); err != nil {
		return nil, fmt.Errorf("load output.schema.json: %w", err)
	}
	s, err := c.Compile(fileURL)
	if err != nil {
		return nil, fmt.Errorf("compile output.schema.json: %w", err)
	}
	return s, nil
})

// Check reports every line of out (a command's stdout or stderr with
// --output json) that is not one JSON object valid against the contract:
// not JSON, not an object, without "schema" or "type", of a type the
// contract does not document, or with a field it does not document. Empty
// output passes; so does a final line without its newline.
func Check(out []byte) error {
	s, err := compiled()
	if err != nil {
		return err
	}
	var errs []error
	lines := bytes.Split(out, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for i, line := range lines {
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
		if err == nil {
			err = s.Validate(v)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("line %d: %s\n%w", i+1, clip(line), err))
		}
	}
	return errors.Join(errs...)
}

func clip(line []byte) []byte {
	if len(line) > 300 {
		return append(line[:300:300], "…"...)
	}
	return line
}
