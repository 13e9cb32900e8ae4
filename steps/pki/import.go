package pki

import (
	"bytes"
	"context"
	"fmt"
	"os"
)

// ImportCA validates a CA certificate and key an operator brings (see
// ValidateCA) and stores them as ca.crt and ca.key. Afterwards use the Store
// with CAOptions.Imported set; the next Ensure reissues every certificate
// the previous CA signed. Importing the same CA again writes nothing.
func (s *Store) ImportCA(ctx context.Context, certPEM, keyPEM []byte) (Result, error) {
	a, err := parseAuthority(certPEM, keyPEM, s.now())
	if err != nil {
		return Result{}, fmt.Errorf("import CA: %w", err)
	}
	keyOut, err := encodeKeyPEM(a.key)
	if err != nil {
		return Result{}, fmt.Errorf("import CA: %w", err)
	}
	res := Result{Name: caBase, NotAfter: a.cert.NotAfter}
	err = s.install(ctx, &res, []fileContent{
		{fileSpec{name: caBase + ".key", mode: keyMode, uid: -1, gid: -1}, keyOut},
		{fileSpec{name: caBase + ".crt", mode: certMode, uid: -1, gid: -1}, a.bundlePEM()},
	})
	if err != nil {
		return Result{}, fmt.Errorf("import CA: %w", err)
	}
	if res.Action == Reissued {
		res.Warnings = append(res.Warnings, "the certificates the previous CA signed are reissued by the next run")
	}
	return res, nil
}

// ImportServerCertificate validates a server certificate chain and key an
// operator brings (see ValidateServerChain) against the names of r, and
// stores them as <r.Name>.crt (server certificate, then intermediates) and
// <r.Name>.key with r's owner and mode. Afterwards pass r with Imported set
// to Ensure, which then checks it on every run instead of issuing it.
func (s *Store) ImportServerCertificate(ctx context.Context, r Request, chainPEM, keyPEM []byte) (Result, error) {
	r, err := r.normalize()
	if err != nil {
		return Result{}, err
	}
	sc, err := ValidateServerChain(chainPEM, keyPEM, ChainOptions{Names: r.wantedNames(), Roots: s.Roots, Now: s.now()})
	if err != nil {
		return Result{}, fmt.Errorf("import %s certificate: %w", r.Name, err)
	}
	keyOut, err := encodeKeyPEM(sc.key)
	if err != nil {
		return Result{}, fmt.Errorf("import %s certificate: %w", r.Name, err)
	}
	res := Result{Name: r.Name, NotAfter: sc.Certificates[0].NotAfter, Warnings: sc.Warnings}
	err = s.install(ctx, &res, []fileContent{
		{keySpec(r), keyOut},
		{certSpec(r), encodeCertsPEM(sc.Certificates...)},
	})
	if err != nil {
		return Result{}, fmt.Errorf("import %s certificate: %w", r.Name, err)
	}
	return res, nil
}

type fileContent struct {
	spec fileSpec
	data []byte
}

// install writes the files whose content differs, in order, and corrects
// the mode and owner of the others; it fills in res's action and files.
func (s *Store) install(ctx context.Context, res *Result, files []fileContent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(s.Dir, dirMode); err != nil {
		return fmt.Errorf("create certificate directory: %w", err)
	}
	existed := false
	for _, f := range files {
		old, ok, err := readOptional(s.path(f.spec.name))
		if err != nil {
			return err
		}
		existed = existed || ok
		if ok && bytes.Equal(old, f.data) {
			fix, err := checkFile(s.path(f.spec.name), f.spec)
			if err != nil {
				return err
			}
			if fix != nil {
				if err := fix.apply(); err != nil {
					return err
				}
				res.Notes = append(res.Notes, fix.description)
			}
			continue
		}
		if err := writeFileAtomic(s.Dir, f.spec, f.data); err != nil {
			return err
		}
		res.Files = append(res.Files, f.spec.name)
	}
	switch {
	case len(res.Files) == 0:
		res.Action = Reused
		return nil
	case existed:
		res.Action = Reissued
		res.Reasons = append(res.Reasons, "replaced by the imported files")
	default:
		res.Action = Created
		res.Reasons = append(res.Reasons, "imported")
	}
	return syncDir(s.Dir)
}
