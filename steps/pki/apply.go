package pki

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
	"time"
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
	if err := removeStaleTemps(s.Dir); err != nil {
		return Report{}, err
	}
	wrote := false
	defer func() {
		if wrote {
			if serr := syncDir(s.Dir); serr != nil && err == nil {
				err = serr
			}
		}
		if err != nil {
			rep = Report{}
			return
		}
		rep = p.report(keep)
		rep.Dir = s.Dir
	}()

	ca, caWrote, err := s.applyCA(p)
	wrote = caWrote
	if err != nil {
		return rep, err
	}
	var leaves []*leafPlan
	for _, l := range p.leaves {
		if keep == nil || keep(l) {
			leaves = append(leaves, l)
		}
	}
	leavesWrote, err := s.applyLeaves(ctx, ca, leaves, p.now)
	wrote = wrote || leavesWrote
	return rep, err
}

// applyCA creates, re-certifies or keeps the CA and returns the one that
// signs the leaves.
func (s *Store) applyCA(p *plan) (ca *authority, wrote bool, err error) {
	caKey := fileSpec{name: caBase + ".key", mode: keyMode, uid: -1, gid: -1}
	caCrt := fileSpec{name: caBase + ".crt", mode: certMode, uid: -1, gid: -1}
	switch {
	case p.ca.write != nil:
		for _, f := range p.ca.write {
			if err := writeFileAtomic(s.Dir, f.spec, f.data); err != nil {
				return nil, true, fmt.Errorf("import CA: %w", err)
			}
		}
		ca, wrote = p.ca.current, true
	case p.ca.newKey:
		if ca, err = newAuthority(p.now, p.opts.CommonName, p.ca.constraints); err != nil {
			return nil, false, fmt.Errorf("create CA: %w", err)
		}
		keyPEM, err := encodeKeyPEM(ca.key)
		if err != nil {
			return nil, false, fmt.Errorf("create CA: %w", err)
		}
		if err := writeFileAtomic(s.Dir, caKey, keyPEM); err != nil {
			return nil, true, fmt.Errorf("create CA: %w", err)
		}
		if err := writeFileAtomic(s.Dir, caCrt, ca.bundlePEM()); err != nil {
			return nil, true, fmt.Errorf("create CA: %w", err)
		}
		wrote = true
	case p.ca.recert:
		if ca, err = recertify(p.ca.current, p.now, p.ca.constraints); err != nil {
			return nil, false, fmt.Errorf("re-certify CA: %w", err)
		}
		if err := writeFileAtomic(s.Dir, caCrt, ca.bundlePEM()); err != nil {
			return nil, true, fmt.Errorf("re-certify CA: %w", err)
		}
		wrote = true
	default:
		ca = p.ca.current
		for _, f := range p.ca.fixes {
			if err := f.apply(); err != nil {
				return nil, false, err
			}
		}
	}
	p.ca.result.NotAfter = ca.cert.NotAfter
	return ca, wrote, nil
}

// applyLeaves issues or fixes leaves on a few workers and stops handing out
// work after the first error or a cancellation.
func (s *Store) applyLeaves(ctx context.Context, ca *authority, leaves []*leafPlan, now time.Time) (wrote bool, err error) {
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
				w, lerr := s.applyLeaf(ca, l, now)
				mu.Lock()
				wrote = wrote || w
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
	return wrote, err
}

// applyLeaf issues one leaf, key first, or corrects its files in place.
func (s *Store) applyLeaf(ca *authority, l *leafPlan, now time.Time) (wrote bool, err error) {
	if l.write != nil {
		// Key first, as for an issued leaf.
		for _, f := range l.write {
			if err := writeFileAtomic(s.Dir, f.spec, f.data); err != nil {
				return true, fmt.Errorf("import %s certificate: %w", l.req.Name, err)
			}
		}
		return true, nil
	}
	if !l.issue {
		for _, f := range l.fixes {
			if err := f.apply(); err != nil {
				return false, err
			}
		}
		return false, nil
	}
	leaf, err := issueLeaf(ca, l.req, now)
	if err != nil {
		return false, fmt.Errorf("issue %s certificate: %w", l.req.Name, err)
	}
	keyPEM, err := encodeKeyPEM(leaf.key)
	if err != nil {
		return false, fmt.Errorf("issue %s certificate: %w", l.req.Name, err)
	}
	// Key first: a crash in between leaves a pair that does not match,
	// which the next run detects and reissues.
	if err := writeFileAtomic(s.Dir, keySpec(l.req), keyPEM); err != nil {
		return true, fmt.Errorf("issue %s certificate: %w", l.req.Name, err)
	}
	certPEM := encodeCertsPEM(append([]*x509.Certificate{leaf.cert}, ca.leafChain()...)...)
	if err := writeFileAtomic(s.Dir, certSpec(l.req), certPEM); err != nil {
		return true, fmt.Errorf("issue %s certificate: %w", l.req.Name, err)
	}
	l.result.NotAfter = leaf.cert.NotAfter
	return true, nil
}
