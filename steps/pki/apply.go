package pki

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
)

// leafWorkers bounds how many leaves are issued and written at once; the
// work is mostly waiting for fsync, which overlaps well.
const leafWorkers = 4

// apply carries out a plan; keep limits which leaves are touched (nil: all).
// On error the files written so far stay (each is whole); a rerun continues.
func (s *Store) apply(ctx context.Context, p *plan, keep func(*leafPlan) bool) (rep Report, err error) {
	if err := os.MkdirAll(s.Dir, dirMode); err != nil {
		return Report{}, fmt.Errorf("create certificate directory: %w", err)
	}
	if p.dirFix != "" {
		if err := os.Chmod(s.Dir, dirMode); err != nil {
			return Report{}, fmt.Errorf("restrict certificate directory: %w", err)
		}
	}
	if err := atomicfile.RemoveTemps(s.Dir); err != nil {
		return Report{}, err
	}
	defer func() {
		if err != nil {
			rep = Report{}
			return
		}
		rep = p.report(keep)
		rep.Dir = s.Dir
	}()

	ca, err := s.applyCA(p)
	if err != nil {
		return rep, err
	}
	var leaves []*leafPlan
	for _, l := range p.leaves {
		if keep == nil || keep(l) {
			leaves = append(leaves, l)
		}
	}
	return rep, s.applyLeaves(ctx, ca, leaves, p.now)
}

// applyCA creates, re-certifies or keeps the CA and returns the one that
// signs the leaves.
func (s *Store) applyCA(p *plan) (ca *authority, err error) {
	caKey := fileSpec{name: caBase + ".key", mode: keyMode, uid: -1, gid: -1}
	caCrt := fileSpec{name: caBase + ".crt", mode: certMode, uid: -1, gid: -1}
	switch {
	case p.ca.write != nil:
		for _, f := range p.ca.write {
			if err := writeFile(s.Dir, f.spec, f.data); err != nil {
				return nil, fmt.Errorf("import CA: %w", err)
			}
		}
		ca = p.ca.current
	case p.ca.newKey:
		if ca, err = newAuthority(p.now, p.opts.CommonName, p.ca.constraints); err != nil {
			return nil, fmt.Errorf("create CA: %w", err)
		}
		keyPEM, err := encodeKeyPEM(ca.key)
		if err != nil {
			return nil, fmt.Errorf("create CA: %w", err)
		}
		if err := writeFile(s.Dir, caKey, keyPEM); err != nil {
			return nil, fmt.Errorf("create CA: %w", err)
		}
		if err := writeFile(s.Dir, caCrt, ca.bundlePEM()); err != nil {
			return nil, fmt.Errorf("create CA: %w", err)
		}
	case p.ca.recert:
		if ca, err = recertify(p.ca.current, p.now, p.ca.constraints); err != nil {
			return nil, fmt.Errorf("re-certify CA: %w", err)
		}
		if err := writeFile(s.Dir, caCrt, ca.bundlePEM()); err != nil {
			return nil, fmt.Errorf("re-certify CA: %w", err)
		}
	default:
		ca = p.ca.current
		for _, f := range p.ca.fixes {
			if err := f.apply(); err != nil {
				return nil, err
			}
		}
	}
	p.ca.result.NotAfter = ca.cert.NotAfter
	return ca, nil
}

// applyLeaves issues or fixes leaves on a few workers and stops handing out
// work after the first error or a cancellation.
func (s *Store) applyLeaves(ctx context.Context, ca *authority, leaves []*leafPlan, now time.Time) (err error) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	failed := func() bool {
		mu.Lock()
		defer mu.Unlock()
		return err != nil
	}
	work := make(chan *leafPlan)
	for range min(leafWorkers, len(leaves)) {
		wg.Go(func() {
			for l := range work {
				lerr := s.applyLeaf(ca, l, now)
				mu.Lock()
				if lerr != nil && err == nil {
					err = lerr
				}
				mu.Unlock()
			}
		})
	}
	for _, l := range leaves {
		if cerr := ctx.Err(); cerr != nil {
			mu.Lock()
			if err == nil {
				err = cerr
			}
			mu.Unlock()
		}
		if failed() {
			break
		}
		work <- l
	}
	close(work)
	wg.Wait()
	return err
}

// applyLeaf issues one leaf, key first, or corrects its files in place.
func (s *Store) applyLeaf(ca *authority, l *leafPlan, now time.Time) error {
	if l.write != nil {
		// Key first, as for an issued leaf.
		for _, f := range l.write {
			if err := writeFile(s.Dir, f.spec, f.data); err != nil {
				return fmt.Errorf("import %s certificate: %w", l.req.Name, err)
			}
		}
		return nil
	}
	if !l.issue {
		for _, f := range l.fixes {
			if err := f.apply(); err != nil {
				return err
			}
		}
		return nil
	}
	leaf, err := issueLeaf(ca, l.req, now)
	if err != nil {
		return fmt.Errorf("issue %s certificate: %w", l.req.Name, err)
	}
	keyPEM, err := encodeKeyPEM(leaf.key)
	if err != nil {
		return fmt.Errorf("issue %s certificate: %w", l.req.Name, err)
	}
	// Key first: a crash in between leaves a pair that does not match,
	// which the next run detects and reissues.
	if err := writeFile(s.Dir, keySpec(l.req), keyPEM); err != nil {
		return fmt.Errorf("issue %s certificate: %w", l.req.Name, err)
	}
	certPEM := encodeCertsPEM(append([]*x509.Certificate{leaf.cert}, ca.leafChain()...)...)
	if err := writeFile(s.Dir, certSpec(l.req), certPEM); err != nil {
		return fmt.Errorf("issue %s certificate: %w", l.req.Name, err)
	}
	l.result.NotAfter = leaf.cert.NotAfter
	return nil
}
