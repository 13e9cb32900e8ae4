package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// Import is certificate material an operator brings: a PEM certificate file
// and the PEM private key that belongs to it. For a CA the certificate file
// continues with the issuers up to the root; for a server certificate it
// continues with the intermediates. Set it as CAOptions.Import or
// Request.Import: Plan validates it like everything else, and Ensure writes
// it into the directory unless the files there already hold it.
type Import struct {
	// CertFile and KeyFile say where the PEM came from, for messages.
	CertFile, KeyFile string
	CertPEM, KeyPEM   []byte
}

// maxImportFile bounds what is read from an operator's file: a PEM chain of
// a dozen RSA-4096 certificates is well below it.
const maxImportFile = 1 << 20

// ReadImport reads a certificate file and its key file. Both must be regular
// files of at most 1 MiB; the errors say which file and why.
func ReadImport(certFile, keyFile string) (*Import, error) {
	crt, err := readImportFile(certFile, "certificate")
	if err != nil {
		return nil, err
	}
	key, err := readImportFile(keyFile, "key")
	if err != nil {
		return nil, err
	}
	return &Import{CertFile: certFile, KeyFile: keyFile, CertPEM: crt, KeyPEM: key}, nil
}

func readImportFile(path, what string) ([]byte, error) {
	fix := "check the path, and that the installer can read the file"
	if path == "" {
		return nil, invalid(ErrUnreadable, fmt.Sprintf("no %s file is given", what), fmt.Sprintf("give the %s file too: a certificate and its key go together", what))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, invalid(ErrUnreadable, fmt.Sprintf("the %s file %s cannot be read: %v", what, path, unwrapPath(err)), fix)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, invalid(ErrUnreadable, fmt.Sprintf("the %s file %s cannot be read: %v", what, path, err), fix)
	}
	if !fi.Mode().IsRegular() {
		return nil, invalid(ErrUnreadable, fmt.Sprintf("the %s file %s is not a regular file (%s)", what, path, fi.Mode().Type()), "give the path of the PEM file itself")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxImportFile+1))
	if err != nil {
		return nil, invalid(ErrUnreadable, fmt.Sprintf("the %s file %s cannot be read: %v", what, path, err), fix)
	}
	if len(data) > maxImportFile {
		return nil, invalid(ErrBadPEM, fmt.Sprintf("the %s file %s is larger than %d bytes", what, path, maxImportFile), "give a file that holds PEM text only")
	}
	return data, nil
}

// unwrapPath drops the operation and path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ImportError is refused import material: which certificate ("ca" or a
// request's name), the files it came from, and why. It unwraps to the
// reason, usually a *ValidationError.
type ImportError struct {
	Name              string
	CertFile, KeyFile string
	Err               error
}

func (e *ImportError) Error() string {
	what := "the CA"
	if e.Name != caBase {
		what = "the " + e.Name + " certificate"
	}
	switch {
	case e.CertFile == "" && e.KeyFile == "":
		return fmt.Sprintf("imported %s: %v", what, e.Err)
	case e.CertFile == "" || e.KeyFile == "":
		return fmt.Sprintf("import %s from %s: %v", what, e.CertFile+e.KeyFile, e.Err)
	}
	return fmt.Sprintf("import %s from %s and %s: %v", what, e.CertFile, e.KeyFile, e.Err)
}

// Unwrap returns the reason.
func (e *ImportError) Unwrap() error { return e.Err }

func importError(name string, imp *Import, err error) error {
	e := &ImportError{Name: name, Err: err}
	if imp != nil {
		e.CertFile, e.KeyFile = imp.CertFile, imp.KeyFile
	}
	return e
}

// Imported describes imported material as a person checks it: the
// certificate's subject and issuer, its end, its fingerprint and how many
// certificates the stored file holds.
type Imported struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	// SHA256 is the certificate's fingerprint, as browsers and
	// `openssl x509 -fingerprint -sha256` show it.
	SHA256 string `json:"sha256"`
	// Chain counts the certificates stored: for a CA, itself and its
	// issuers; for a server certificate, itself and its intermediates.
	Chain int `json:"chain"`
}

func describeImported(c *x509.Certificate, chain int) *Imported {
	return &Imported{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotAfter: c.NotAfter, SHA256: fingerprint(c), Chain: chain}
}
