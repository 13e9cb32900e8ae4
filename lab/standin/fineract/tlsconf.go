package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"
)

// tlsSettings is Fineract's HTTPS configuration: server.ssl.* and, when
// server.ssl.bundle names one, a Spring Boot PEM SSL bundle
// (spring.ssl.bundle.pem.<name>.*).
type tlsSettings struct {
	Enabled bool
	// Bundle is the SSL bundle's name; empty means server.ssl.key-store.
	Bundle         string
	CertLocation   string
	KeyLocation    string
	KeyStore       string
	MinVersion     uint16
	MaxVersion     uint16
	ProtocolSource string
}

func loadTLSSettings(p *props) (tlsSettings, error) {
	var s tlsSettings
	enabled := p.fineract("server.ssl.enabled", "FINERACT_SERVER_SSL_ENABLED", "true")
	switch strings.ToLower(strings.TrimSpace(enabled)) {
	case "true":
		s.Enabled = true
	case "false":
	default:
		return s, fmt.Errorf("server.ssl.enabled: %q is not true or false", enabled)
	}
	s.Bundle = p.spring("server.ssl.bundle", "")
	protocols := p.spring("server.ssl.enabled-protocols", "")
	s.ProtocolSource = "server.ssl.enabled-protocols"
	if s.Bundle != "" {
		prefix := "spring.ssl.bundle.pem." + s.Bundle + "."
		s.CertLocation = p.spring(prefix+"keystore.certificate", "")
		s.KeyLocation = p.spring(prefix+"keystore.private-key", "")
		if s.CertLocation == "" || s.KeyLocation == "" {
			return s, fmt.Errorf("server.ssl.bundle=%s: %skeystore.certificate and %skeystore.private-key must both be set (the stand-in supports PEM bundles only)", s.Bundle, prefix, prefix)
		}
		if p.spring(prefix+"keystore.private-key-password", "") != "" {
			return s, fmt.Errorf("server.ssl.bundle=%s: encrypted private keys are not supported by the stand-in", s.Bundle)
		}
		if v := p.spring(prefix+"options.enabled-protocols", ""); v != "" {
			protocols = v
			s.ProtocolSource = prefix + "options.enabled-protocols"
		}
	} else {
		s.KeyStore = p.fineract("server.ssl.key-store", "FINERACT_SERVER_SSL_KEY_STORE", "classpath:keystore.jks")
	}
	s.MinVersion, s.MaxVersion = tls.VersionTLS12, tls.VersionTLS13
	if protocols != "" {
		var lo, hi uint16
		for _, proto := range strings.Split(protocols, ",") {
			var v uint16
			switch strings.TrimSpace(proto) {
			case "TLSv1.2":
				v = tls.VersionTLS12
			case "TLSv1.3":
				v = tls.VersionTLS13
			case "":
				continue
			default:
				return s, fmt.Errorf("%s: protocol %q is not supported (TLSv1.2, TLSv1.3)", s.ProtocolSource, proto)
			}
			if lo == 0 || v < lo {
				lo = v
			}
			if v > hi {
				hi = v
			}
		}
		if lo != 0 {
			s.MinVersion, s.MaxVersion = lo, hi
		}
	}
	return s, nil
}

// readPEMLocation reads a Spring resource holding PEM: "file:<path>", a
// plain path, or the PEM text itself.
func readPEMLocation(loc string) ([]byte, error) {
	if strings.Contains(loc, "-----BEGIN") {
		return []byte(loc), nil
	}
	if strings.HasPrefix(loc, "classpath:") {
		return nil, fmt.Errorf("%s: the stand-in has no classpath", loc)
	}
	return os.ReadFile(strings.TrimPrefix(loc, "file:"))
}

// serverTLS builds the HTTPS configuration. Without a bundle Fineract uses
// server.ssl.key-store, by default a self-signed certificate shipped inside
// its jar; the stand-in has no such keystore and makes a throwaway
// self-signed certificate instead (warn says so).
func (s tlsSettings) serverTLS(warn func(string)) (*tls.Config, error) {
	var cert tls.Certificate
	if s.Bundle != "" {
		certPEM, err := readPEMLocation(s.CertLocation)
		if err != nil {
			return nil, fmt.Errorf("SSL bundle %s certificate: %w", s.Bundle, err)
		}
		keyPEM, err := readPEMLocation(s.KeyLocation)
		if err != nil {
			return nil, fmt.Errorf("SSL bundle %s private key: %w", s.Bundle, err)
		}
		cert, err = tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("SSL bundle %s: %w", s.Bundle, err)
		}
	} else {
		if s.KeyStore != "classpath:keystore.jks" {
			return nil, fmt.Errorf("server.ssl.key-store=%s: the stand-in reads PEM SSL bundles only (server.ssl.bundle)", s.KeyStore)
		}
		warn("no SSL bundle configured: serving a throwaway self-signed certificate in place of Fineract's built-in keystore.jks")
		var err error
		cert, err = selfSigned()
		if err != nil {
			return nil, err
		}
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   s.MinVersion,
		MaxVersion:   s.MaxVersion,
	}, nil
}

func selfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
