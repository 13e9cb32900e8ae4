package pki

import "time"

// Action is what happened, or would happen, to one certificate.
type Action string

// Actions in a Report.
const (
	// Created: there was no certificate; one was issued.
	Created Action = "created"
	// Reused: the certificate on disk is fine and was left as it is (its
	// mode or owner may have been corrected; see Result.Notes).
	Reused Action = "reused"
	// Reissued: the certificate on disk was replaced; Result.Reasons says why.
	Reissued Action = "reissued"
	// Recertified: the CA got a new certificate for the same key, so the
	// certificates it signed stay valid but clients need the new ca.crt.
	Recertified Action = "recertified"
)

// Result describes one certificate ("ca" for the CA) after Ensure or
// Rotate, or before them with Plan.
type Result struct {
	Name   string `json:"name"`
	Action Action `json:"action"`
	// Reasons explain a creation, reissue or re-certification, e.g.
	// "expires in 12 days" or "missing SAN bank.example.org".
	Reasons []string `json:"reasons,omitempty"`
	// Notes list corrections of mode or owner on files kept as they were.
	Notes []string `json:"notes,omitempty"`
	// Warnings are problems that need a person but block nothing, such as
	// an imported certificate close to its end.
	Warnings []string `json:"warnings,omitempty"`
	// Files are the base names whose content was (with Plan: would be) written.
	Files []string `json:"files,omitempty"`
	// NotAfter is the end of validity; zero when Plan has yet to issue it.
	NotAfter time.Time `json:"not_after,omitzero"`
	// Imported describes the operator's certificate, for an imported CA
	// or server certificate; nil for what this package issues.
	Imported *Imported `json:"imported,omitempty"`
}

func (r Result) changed() bool { return len(r.Files) > 0 || len(r.Notes) > 0 }

// Report says what Ensure, Rotate or Plan did (or would do) per certificate.
type Report struct {
	Dir          string   `json:"dir"`
	CA           Result   `json:"ca"`
	Certificates []Result `json:"certificates"`
}

// UpToDate reports whether nothing was (or would be) written or corrected.
// A pipeline step's Check is Plan followed by UpToDate.
func (r Report) UpToDate() bool {
	if r.CA.changed() {
		return false
	}
	for _, c := range r.Certificates {
		if c.changed() {
			return false
		}
	}
	return true
}

// TrustChanged reports whether ca.crt was (or would be) written. Everything
// that trusts the old one (browsers, other hosts, running containers that
// loaded it) must be given the new file.
func (r Report) TrustChanged() bool {
	for _, f := range r.CA.Files {
		if f == caBase+".crt" {
			return true
		}
	}
	return false
}

// ChangedFiles lists every file whose content was (or would be) written.
func (r Report) ChangedFiles() []string {
	out := append([]string(nil), r.CA.Files...)
	for _, c := range r.Certificates {
		out = append(out, c.Files...)
	}
	return out
}

// Result returns the result for one certificate by name ("ca" for the CA).
func (r Report) Result(name string) (Result, bool) {
	if name == caBase {
		return r.CA, true
	}
	for _, c := range r.Certificates {
		if c.Name == name {
			return c, true
		}
	}
	return Result{}, false
}
