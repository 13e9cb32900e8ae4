// Package tlsfiles builds TLS configurations for the stand-ins from the PEM
// files and the protocol names their settings give.
package tlsfiles

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Pool reads CA certificates from PEM files.
func Pool(files ...string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read CA file: %w", err)
		}
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("%s holds no PEM certificate", f)
		}
	}
	return pool, nil
}

// KeyPair loads a certificate and its key.
func KeyPair(certFile, keyFile string) (tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load certificate %s and key %s: %w", certFile, keyFile, err)
	}
	return c, nil
}

// MinVersion is the lowest of the protocol names given ("TLSv1.2",
// "TLSv1.3"); TLS 1.2 when none is given.
func MinVersion(protocols []string) (uint16, error) {
	minV, _, err := Versions(protocols)
	return minV, err
}

// Versions is the lowest and highest of the protocol names given
// ("TLSv1.2", "TLSv1.3"); TLS 1.2 to 1.3 when none is given.
func Versions(protocols []string) (minV, maxV uint16, err error) {
	if len(protocols) == 0 {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for _, p := range protocols {
		var v uint16
		switch p {
		case "TLSv1.2":
			v = tls.VersionTLS12
		case "TLSv1.3":
			v = tls.VersionTLS13
		default:
			return 0, 0, fmt.Errorf("protocol %q is not supported (TLSv1.2, TLSv1.3)", p)
		}
		if minV == 0 || v < minV {
			minV = v
		}
		maxV = max(maxV, v)
	}
	return minV, maxV, nil
}
