package pki

import "errors"

// Classes of problems with certificates and keys. Every error this package
// returns about certificate material wraps one of them, so callers can test
// the class with errors.Is and show the message as it is.
var (
	// ErrBadPEM: a file holds no readable PEM certificate or key.
	ErrBadPEM = errors.New("unreadable PEM")
	// ErrEncryptedKey: a private key is protected by a passphrase.
	ErrEncryptedKey = errors.New("encrypted private key")
	// ErrKeyMismatch: a private key does not belong to the certificate.
	ErrKeyMismatch = errors.New("key does not match certificate")
	// ErrWeakKey: an RSA key is shorter than 2048 bits.
	ErrWeakKey = errors.New("weak key")
	// ErrUnsupportedKey: a key type or curve that clients in the stack or browsers refuse.
	ErrUnsupportedKey = errors.New("unsupported key")
	// ErrExpired: a certificate's validity has ended.
	ErrExpired = errors.New("certificate expired")
	// ErrNotYetValid: a certificate's validity has not started.
	ErrNotYetValid = errors.New("certificate not yet valid")
	// ErrExpiresSoon: a CA certificate ends within the renewal window.
	ErrExpiresSoon = errors.New("certificate expires soon")
	// ErrChainIncomplete: an issuer certificate is missing or does not verify.
	ErrChainIncomplete = errors.New("certificate chain incomplete")
	// ErrUntrustedRoot: a chain is complete but ends at a root nobody trusts.
	ErrUntrustedRoot = errors.New("untrusted root")
	// ErrHostnameNotCovered: a certificate lacks a name clients will ask for.
	ErrHostnameNotCovered = errors.New("hostname not covered")
	// ErrNotCA: a certificate used as a CA lacks the CA basic constraint.
	ErrNotCA = errors.New("not a CA certificate")
	// ErrNoCertSign: a CA certificate's key usage does not allow keyCertSign.
	ErrNoCertSign = errors.New("CA may not sign certificates")
	// ErrWrongUsage: a certificate's extended key usage does not fit its role.
	ErrWrongUsage = errors.New("wrong certificate usage")
	// ErrNameNotPermitted: the CA's name constraints exclude a requested name.
	ErrNameNotPermitted = errors.New("name not permitted by CA")
	// ErrUnreadable: a file to import is missing, unreadable or not a regular file.
	ErrUnreadable = errors.New("unreadable file")
	// ErrInvalidRequest: a certificate request is malformed.
	ErrInvalidRequest = errors.New("invalid certificate request")
)

// ValidationError explains why certificate material was refused: what is
// wrong, with the facts, and what to do about it. It unwraps to its Kind.
type ValidationError struct {
	// Kind is one of the Err* classes above.
	Kind error
	// Problem states what is wrong, naming certificates, names and dates.
	Problem string
	// Fix says what the operator can do; it may be empty.
	Fix string
}

func (e *ValidationError) Error() string {
	if e.Fix == "" {
		return e.Problem
	}
	return e.Problem + "; " + e.Fix
}

// Unwrap returns the class, so errors.Is(err, ErrKeyMismatch) works.
func (e *ValidationError) Unwrap() error { return e.Kind }

func invalid(kind error, problem, fix string) *ValidationError {
	return &ValidationError{Kind: kind, Problem: problem, Fix: fix}
}

// problemOf is an error's text without the fix, for reports about files
// this package replaces itself, where the operator has nothing to do.
func problemOf(err error) string {
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Problem
	}
	return err.Error()
}
