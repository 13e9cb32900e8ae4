package pki

import (
	"context"
	"crypto/x509"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// caBase is the file base name of the CA: ca.crt and ca.key.
const caBase = "ca"

// Store keeps the CA and the leaf certificates of one installation in one
// directory. The zero value of every field but Dir is usable.
type Store struct {
	// Dir holds the files; it is created with mode 0700.
	Dir string
	// CA shapes the CA (name constraints, imported or generated).
	CA CAOptions
	// Roots verify imported server certificates; nil means the system
	// trust store.
	Roots *x509.CertPool
	// Now returns the current time; nil means time.Now. Tests move it.
	Now func() time.Time
}

func (s *Store) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Store) path(name string) string { return filepath.Join(s.Dir, name) }

// Plan decides what Ensure would do, without writing anything. A pipeline
// step's Check is Plan followed by Report.UpToDate.
func (s *Store) Plan(ctx context.Context, reqs []Request) (Report, error) {
	p, err := s.plan(ctx, reqs, nil)
	if err != nil {
		return Report{}, err
	}
	rep := p.report(nil)
	rep.Dir = s.Dir
	return rep, nil
}

// Ensure brings the directory to what the requests describe: it creates
// the CA if there is none, reuses every certificate that is still right,
// and issues or reissues only the others. A run with nothing to do writes
// nothing. The report says what happened to each certificate and why.
// Nothing is written when a request or an imported file is invalid.
func (s *Store) Ensure(ctx context.Context, reqs []Request) (Report, error) {
	p, err := s.plan(ctx, reqs, nil)
	if err != nil {
		return Report{}, err
	}
	return s.apply(ctx, p, nil)
}

// Rotate reissues the named certificates even if they are fine, and
// reports only what it touched. Naming "ca" replaces the CA's key, which
// reissues every certificate. reqs is the full request list, as for Ensure,
// because the CA's name constraints follow all of them.
func (s *Store) Rotate(ctx context.Context, reqs []Request, names ...string) (Report, error) {
	if len(names) == 0 {
		return Report{}, fmt.Errorf("rotate certificates: name at least one certificate (or %q)", caBase)
	}
	known := map[string]Request{}
	for _, r := range reqs {
		known[r.Name] = r
	}
	force := map[string]bool{}
	for _, n := range names {
		r, ok := known[n]
		switch {
		case n == caBase && s.CA.Imported:
			return Report{}, fmt.Errorf("rotate certificates: the CA was imported; import a new CA instead of rotating it")
		case n == caBase:
		case !ok:
			all := slices.Sorted(maps.Keys(known))
			return Report{}, fmt.Errorf("rotate certificates: no certificate named %q; known: %s, %s", n, caBase, strings.Join(all, ", "))
		case r.Imported && r.Import == nil:
			return Report{}, fmt.Errorf("rotate certificates: %s was imported; import a renewed certificate instead of rotating it", n)
		}
		force[n] = true
	}
	p, err := s.plan(ctx, reqs, force)
	if err != nil {
		return Report{}, err
	}
	return s.apply(ctx, p, func(l *leafPlan) bool { return force[l.req.Name] || p.ca.newKey })
}

// plan is every decision of one run, made before anything is written.
type plan struct {
	now    time.Time
	opts   CAOptions
	dirFix string // chmod note for the directory itself, if any
	ca     caPlan
	leaves []*leafPlan
}

type caPlan struct {
	result      Result
	current     *authority    // the usable CA on disk; nil if there is none
	newKey      bool          // a new CA key: every leaf must be reissued
	recert      bool          // a new CA certificate for the current key
	write       []fileContent // an imported CA to write (current is it)
	constraints nameConstraints
	fixes       []*fileFix
}

type leafPlan struct {
	req    Request
	result Result
	issue  bool
	write  []fileContent // an imported certificate to write
	fixes  []*fileFix
}

func (s *Store) plan(ctx context.Context, reqs []Request, force map[string]bool) (*plan, error) {
	if s.Dir == "" {
		return nil, fmt.Errorf("certificates: no directory given")
	}
	reqs, err := prepareRequests(reqs)
	if err != nil {
		return nil, err
	}
	opts, err := s.CA.normalize()
	if err != nil {
		return nil, err
	}
	p := &plan{now: s.now(), opts: opts}
	if fi, err := os.Stat(s.Dir); err == nil && fi.Mode().Perm() != dirMode {
		p.dirFix = fmt.Sprintf("certificate directory mode %04o → %04o", fi.Mode().Perm(), dirMode)
	}
	if p.ca, err = s.planCA(reqs, opts, p.now, force[caBase]); err != nil {
		return nil, err
	}
	if p.dirFix != "" {
		p.ca.result.Notes = append(p.ca.result.Notes, p.dirFix)
	}
	var roots chainRoots
	if slices.ContainsFunc(reqs, func(r Request) bool { return r.Imported }) {
		if roots, err = s.importRoots(&p.ca, opts.Imported); err != nil {
			return nil, err
		}
	}
	for _, r := range reqs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lp, err := s.planLeaf(r, &p.ca, roots, p.now, force[r.Name])
		if err != nil {
			return nil, err
		}
		p.leaves = append(p.leaves, lp)
	}
	return p, nil
}

// report assembles the results; keep selects leaves (nil keeps all).
func (p *plan) report(keep func(*leafPlan) bool) Report {
	r := Report{CA: p.ca.result, Certificates: []Result{}}
	for _, l := range p.leaves {
		if keep == nil || keep(l) {
			r.Certificates = append(r.Certificates, l.result)
		}
	}
	return r
}
