package install

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/pki"
)

// CertificatesStep issues (or reuses) the CA and every service certificate.
type CertificatesStep struct{ Env *Env }

// ID implements steps.Step.
func (s CertificatesStep) ID() string { return "certificates" }

// Title implements steps.Step.
func (s CertificatesStep) Title() string { return "Issue certificates" }

// Store is the installation's certificate store.
func (env *Env) Store() *pki.Store {
	var permit []string
	for _, svc := range env.Bundle.Services {
		permit = append(permit, svc.Name)
	}
	sort.Strings(permit)
	return &pki.Store{Dir: env.PKIDir(), CA: pki.CAOptions{CommonName: "fineract-installer CA (" + env.Project + ")", PermitDNS: permit}}
}

// CertRequests derives one PKI request per certificate the services need.
func (env *Env) CertRequests() []pki.Request {
	var reqs []pki.Request
	for _, svc := range env.Bundle.Services {
		for _, c := range svc.Certs {
			var u pki.Usage
			if c.Server {
				u |= pki.UsageServer
			}
			if c.Client {
				u |= pki.UsageClient
			}
			reqs = append(reqs, pki.Request{
				Name: c.Name, CommonName: c.CommonName, DNSNames: c.DNSNames, IPs: c.IPs,
				Usage: u, UID: svc.UID, GID: svc.GID,
			})
		}
	}
	return reqs
}

// Check implements steps.Step.
func (s CertificatesStep) Check(ctx context.Context) (bool, error) {
	rep, err := s.Env.Store().Plan(ctx, s.Env.CertRequests())
	if err != nil || !rep.UpToDate() {
		return false, nil
	}
	return s.extrasUpToDate()
}

// Run implements steps.Step.
func (s CertificatesStep) Run(ctx context.Context, emit steps.Emitter) error {
	rep, err := s.Env.Store().Ensure(ctx, s.Env.CertRequests())
	if err != nil {
		return steps.Fail(err, "see `fineract-installer certs show`; imported certificates must match the answers' hostname and IPs")
	}
	for _, r := range append([]pki.Result{rep.CA}, rep.Certificates...) {
		msg := string(r.Action)
		if len(r.Reasons) > 0 {
			msg += ": " + strings.Join(r.Reasons, "; ")
		}
		emit.Info(r.Name, msg)
		for _, w := range r.Warnings {
			emit.Warn(r.Name + ": " + w)
		}
	}
	return s.writeExtras()
}

// extra is a derived file some services need besides <name>.crt/.key.
type extra struct {
	path     string
	data     []byte
	uid, gid int
	mode     os.FileMode
}

// extras builds the combined key+chain PEM files (Kafka reads only that
// form) and the Java trust store holding the CA.
func (s CertificatesStep) extras() ([]extra, error) {
	dir := s.Env.PKIDir()
	var out []extra
	needTrust := false
	for _, svc := range s.Env.Bundle.Services {
		needTrust = needTrust || svc.JavaTrustStore
		for _, c := range svc.Certs {
			if !c.CombinedPEM {
				continue
			}
			key, err := os.ReadFile(filepath.Join(dir, c.Name+".key"))
			if err != nil {
				return nil, err
			}
			crt, err := os.ReadFile(filepath.Join(dir, c.Name+".crt"))
			if err != nil {
				return nil, err
			}
			out = append(out, extra{filepath.Join(dir, c.Name+".pem"), append(key, crt...), svc.UID, svc.GID, 0o600})
		}
	}
	if needTrust {
		caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
		if err != nil {
			return nil, err
		}
		var certs []*x509.Certificate
		for rest := caPEM; ; {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("read ca.crt: %w", err)
			}
			certs = append(certs, c)
		}
		// A trust store holds public certificates only, so it needs no
		// password; Java reads a password-less PKCS#12 store.
		p12, err := pkcs12.Passwordless.EncodeTrustStore(certs, "")
		if err != nil {
			return nil, fmt.Errorf("encode the Java trust store: %w", err)
		}
		out = append(out, extra{filepath.Join(dir, assets.TrustStoreFile), p12, -1, -1, 0o644})
	}
	return out, nil
}

func (s CertificatesStep) extrasUpToDate() (bool, error) {
	xs, err := s.extras()
	if err != nil {
		return false, nil
	}
	for _, x := range xs {
		got, err := os.ReadFile(x.path)
		// The trust store's encoding is not byte-stable; compare what it holds.
		if filepath.Base(x.path) == assets.TrustStoreFile {
			if err != nil || !sameTrustStore(got, x.data) {
				return false, nil
			}
			continue
		}
		if err != nil || !bytes.Equal(got, x.data) {
			return false, nil
		}
	}
	return true, nil
}

func sameTrustStore(a, b []byte) bool {
	ca, errA := pkcs12.DecodeTrustStore(a, "")
	cb, errB := pkcs12.DecodeTrustStore(b, "")
	if errA != nil || errB != nil || len(ca) != len(cb) {
		return false
	}
	for i := range ca {
		if !ca[i].Equal(cb[i]) {
			return false
		}
	}
	return true
}

func (s CertificatesStep) writeExtras() error {
	xs, err := s.extras()
	if err != nil {
		return fmt.Errorf("derived certificate files: %w", err)
	}
	for _, x := range xs {
		if got, err := os.ReadFile(x.path); err == nil && (bytes.Equal(got, x.data) || filepath.Base(x.path) == assets.TrustStoreFile && sameTrustStore(got, x.data)) {
			continue
		}
		if err := steps.WriteFileAtomic(x.path, x.data, x.mode); err != nil {
			return err
		}
		if x.uid >= 0 {
			if err := os.Chown(x.path, x.uid, x.gid); err != nil {
				return fmt.Errorf("set owner of %s: %w", x.path, err)
			}
		}
	}
	return nil
}
