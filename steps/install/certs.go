package install

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/event"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/pki"
)

// CertificatesStep issues (or reuses) the CA and every service certificate.
type CertificatesStep struct{ Env *Env }

// ID implements steps.Step.
func (s CertificatesStep) ID() string { return "certificates" }

// Title implements steps.Step.
func (s CertificatesStep) Title() string { return "Issue certificates" }

// Store is the installation's certificate store. With certificates.source
// import, the CA and the gateway's certificate are the operator's: what
// env.Imports brings, or else what an earlier import put in pki/.
func (env *Env) Store() *pki.Store {
	var permit []string
	for _, svc := range env.Bundle.Services {
		permit = append(permit, svc.Name)
	}
	sort.Strings(permit)
	c := env.Answers.Certificates
	return &pki.Store{Dir: env.PKIDir(), Now: env.Now, CA: pki.CAOptions{
		CommonName: "fineract-installer CA (" + env.Project + ")", PermitDNS: permit,
		Imported: c.Source == answers.CertImport && c.CACert != "", Import: env.Imports.CA,
	}}
}

// CertRequests derives one PKI request per certificate the services need.
func (env *Env) CertRequests() []pki.Request {
	c := env.Answers.Certificates
	var reqs []pki.Request
	for _, svc := range env.Bundle.Services {
		for _, cn := range svc.Certs {
			var u pki.Usage
			if cn.Server {
				u |= pki.UsageServer
			}
			if cn.Client {
				u |= pki.UsageClient
			}
			uid, gid := env.certOwner(svc)
			r := pki.Request{
				Name: cn.Name, CommonName: cn.CommonName, DNSNames: cn.DNSNames, IPs: cn.IPs,
				Usage: u, UID: uid, GID: gid,
			}
			if cn.Public {
				r.Imported = c.Source == answers.CertImport && c.GatewayChain != ""
				r.Import = env.Imports.Gateway
			}
			reqs = append(reqs, r)
		}
	}
	return reqs
}

// certOwner is the uid and gid a service's certificate files belong to:
// the service's own, or (CertsForVault) -1, leaving the installer's.
func (env *Env) certOwner(svc assets.Service) (uid, gid int) {
	if env.CertsForVault {
		return -1, -1
	}
	return svc.UID, svc.GID
}

// CertImports is the certificate material an operator brings, read from
// the files the answers (or `certs rotate --chain`) name. The certificates
// step puts it into pki/. Commands on an installation leave it empty: they
// work from the copies in pki/, so the operator's files may be gone.
type CertImports struct {
	CA, Gateway *pki.Import
}

// ImportCheck is what checking the imported certificate files found.
type ImportCheck struct {
	CA, Gateway ImportStatus
	// Other is a problem that is not the imported files' (pki/ unreadable).
	Other error
}

// ImportStatus is one imported pair of files.
type ImportStatus struct {
	// Requested says the answers import it.
	Requested bool
	// Found describes the certificate once it is accepted.
	Found *pki.Imported
	// Warnings need the operator soon, such as an end date close by.
	Warnings []string
	// Err names the files, what is wrong and how to fix it.
	Err error
}

// Err joins the problems with the imported files.
func (c ImportCheck) Err() error { return errors.Join(c.CA.Err, c.Gateway.Err) }

// LoadImports reads the files the answers import into env.Imports and
// decides, without writing, what the certificates step will do with them:
// the step's own Plan, so every problem with an imported file is found here,
// before anything changes. A CA's problems are found first; the gateway's
// chain is then checked on its own as well.
func (env *Env) LoadImports(ctx context.Context) ImportCheck {
	var chk ImportCheck
	env.Imports = CertImports{}
	c := env.Answers.Certificates
	if c.Source != answers.CertImport {
		return chk
	}
	read := func(st *ImportStatus, name, crt, key string) *pki.Import {
		if crt == "" && key == "" {
			return nil
		}
		st.Requested = true
		imp, err := pki.ReadImport(crt, key)
		if err != nil {
			st.Err = &pki.ImportError{Name: name, CertFile: crt, KeyFile: key, Err: err}
		}
		return imp
	}
	caImport := read(&chk.CA, "ca", c.CACert, c.CAKey)
	gwImport := read(&chk.Gateway, env.publicCert(), c.GatewayChain, c.GatewayKey)
	env.Imports = CertImports{CA: caImport, Gateway: gwImport}
	store, reqs := env.Store(), env.CertRequests()
	if chk.CA.Err == nil && chk.Gateway.Err == nil {
		rep, err := store.Plan(ctx, reqs)
		chk.attribute(err)
		if err == nil {
			chk.found(rep, env.publicCert())
			return chk
		}
	}
	// Something is wrong: check each pair alone, so each shows its own.
	if caImport != nil && chk.CA.Err == nil {
		var signed []pki.Request
		for _, r := range reqs {
			if !r.Imported {
				signed = append(signed, r)
			}
		}
		rep, err := store.Plan(ctx, signed)
		chk.attribute(err)
		if err == nil {
			chk.found(rep, env.publicCert())
		}
	}
	if gwImport != nil && chk.Gateway.Err == nil {
		alone := *store
		if chk.CA.Err != nil {
			// The CA generated, and whatever of its file parses trusted.
			alone.CA.Imported, alone.CA.Import = false, nil
			if roots, err := x509.SystemCertPool(); err == nil && caImport != nil {
				roots.AppendCertsFromPEM(caImport.CertPEM)
				alone.Roots = roots
			}
		}
		rep, err := alone.Plan(ctx, reqs)
		chk.attribute(err)
		if r, ok := rep.Result(env.publicCert()); ok && err == nil {
			chk.Gateway.Found, chk.Gateway.Warnings = r.Imported, r.Warnings
		}
	}
	return chk
}

// publicCert names the certificate browsers see, the one an operator may
// import (assets.CertNeed.Public): the gateway's.
func (env *Env) publicCert() string {
	for _, svc := range env.Bundle.Services {
		for _, c := range svc.Certs {
			if c.Public {
				return c.Name
			}
		}
	}
	return ""
}

// attribute files a Plan error under the pair it is about.
func (c *ImportCheck) attribute(err error) {
	var ie *pki.ImportError
	switch {
	case err == nil:
	case errors.As(err, &ie) && ie.Name == "ca":
		c.CA.Err = err
	case errors.As(err, &ie):
		c.Gateway.Err = err
	case c.Other == nil:
		c.Other = err
	}
}

func (c *ImportCheck) found(rep pki.Report, public string) {
	if c.CA.Requested {
		c.CA.Found, c.CA.Warnings = rep.CA.Imported, rep.CA.Warnings
	}
	if r, ok := rep.Result(public); ok && c.Gateway.Requested {
		c.Gateway.Found, c.Gateway.Warnings = r.Imported, r.Warnings
	}
}

// CheckImports checks the certificate files the answers import, exactly as
// an install into a.InstallDir with project would at now, and writes
// nothing.
func CheckImports(ctx context.Context, a answers.Answers, project string, now time.Time) ImportCheck {
	env, err := NewEnv(a, project, a.InstallDir, installdir.SecretsDir(project), nil)
	if err != nil {
		return ImportCheck{Other: err}
	}
	env.Now = func() time.Time { return now }
	return env.LoadImports(ctx)
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
		return certFailure(err)
	}
	for _, r := range append([]pki.Result{rep.CA}, rep.Certificates...) {
		msg := string(r.Action)
		if len(r.Reasons) > 0 {
			msg += ": " + strings.Join(r.Reasons, "; ")
		}
		if im := r.Imported; im != nil {
			msg += fmt.Sprintf(" (%s, issued by %s, until %s, SHA-256 %s)", im.Subject, im.Issuer, im.NotAfter.UTC().Format("2006-01-02"), im.SHA256)
		}
		reportCertificate(emit, r, msg)
		for _, w := range r.Warnings {
			emit.Warn(r.Name + ": " + w)
		}
	}
	return s.writeExtras()
}

// reportCertificate tells what happened to one certificate; one that was
// issued is reported as a change of the certificate resource, which the
// audit log records.
func reportCertificate(emit steps.Emitter, r pki.Result, msg string) {
	if r.Action == pki.Reused {
		emit.Info(r.Name, msg)
		return
	}
	emit.Emit(steps.Event{Kind: steps.KindProgress, Subject: r.Name, Message: msg,
		Resource: event.ResourceCertificate, Action: event.ActionIssue, Status: event.StatusDone})
}

// certFailure splits a certificate problem into what is wrong and, as the
// hint, what to do about it.
func certFailure(err error) error {
	var ve *pki.ValidationError
	if errors.As(err, &ve) && ve.Fix != "" {
		return &steps.Failure{Cause: strings.TrimSuffix(err.Error(), "; "+ve.Fix), Hint: ve.Fix, Err: err}
	}
	return steps.Fail(err, "see `fineract-installer certs show`; imported certificates must match the answers' hostname and IPs")
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
			uid, gid := s.Env.certOwner(svc)
			out = append(out, extra{filepath.Join(dir, c.Name+".pem"), append(key, crt...), uid, gid, 0o600})
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
		if err := atomicfile.WriteFile(x.path, x.data, x.mode); err != nil {
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
