// Package pki runs the stack's internal certificate authority with Go's
// standard crypto: it creates an ECDSA P-256 root CA, issues one certificate
// per service, keeps them valid across reruns, imports certificates an
// operator brings, and lists what is on disk.
//
// # Use
//
// The caller derives one Request per certificate from the services it
// deploys and works through a Store:
//
//	s := &pki.Store{Dir: filepath.Join(installDir, "certs"),
//		CA: pki.CAOptions{PermitDNS: everyServiceName}}
//	rep, err := s.Ensure(ctx, reqs)            // create, reuse or reissue
//	rep, err = s.Plan(ctx, reqs)               // same decisions, writes nothing
//	rep, err = s.Rotate(ctx, reqs, "postgres") // force a reissue ("ca": new CA key)
//	inv, err := s.Inspect(ctx)                 // certs show (JSON-ready)
//
// A pipeline step's Check is Plan followed by Report.UpToDate. Every Result
// in a Report says created, reused, reissued or recertified, and why
// ("expires in 12 days", "missing SAN bank.example.org"). Report.TrustChanged
// says ca.crt was written and must reach every client that trusts it.
//
// Operators may bring their own material: a CA (root or intermediate, with
// its issuers) that signs every leaf, and a ready server certificate chain
// (for the gateway, often from a public CA). ReadImport reads the files;
// set the result as CAOptions.Import, or as Request.Import for the gateway.
// Plan then validates it with the rest, before anything is written: key
// and certificate match, CA basic constraints and key usage, validity, key
// type and size, a chain that links up to the root, names covered, and the
// CA's name constraints against every name it must sign. Ensure writes it
// (the CA key as ca.key, mode 0600, like a generated one), and Rotate with
// an Import swaps a renewed server certificate in. Later runs set only
// CAOptions.Imported or Request.Imported: the material in the directory is
// checked on every run but never replaced here. ValidateCA and
// ValidateServerChain check material alone. Errors about certificate
// material are *ValidationError values whose Kind is one of the Err*
// classes (errors.Is works) and whose text names the certificate, the names
// or dates involved, and the fix; a refused import is an *ImportError that
// also names the files.
//
// # Files
//
// Everything lives in Store.Dir (mode 0700, created if missing):
//
//	ca.crt        0644  CA certificate; an imported intermediate CA is followed
//	                    by its chain up to the root. Clients trust this file.
//	ca.key        0600  CA private key. Never copied anywhere else.
//	<name>.crt    0644  leaf certificate; for an imported intermediate CA followed
//	                    by the CA chain below the root, for an imported server
//	                    certificate followed by its intermediates.
//	<name>.key    0600  leaf key (0640 with Request.GroupReadable).
//
// Keys are PKCS#8 PEM. Leaf files belong to Request.UID:GID; CA files keep
// the installer's owner. Every write goes to a temporary file in Dir that has
// its final mode and owner before the data, is fsynced and renamed over the
// old name; the directory is fsynced after a run that wrote.
//
// Containers see a replaced file only through a directory bind mount: a
// bind mount of the file itself keeps the old inode. Mount the directory (or
// recreate the container) and restart the service after a reissue.
//
// # Profile
//
// CA: ECDSA P-256, valid CALifetime (10 years), basic constraints CA with
// path length 0, key usage keyCertSign, extended key usage serverAuth and
// clientAuth (so a stolen key cannot sign code or mail), critical name
// constraints. A new CA key is made when the CA expires within LeafLifetime
// plus RenewBefore, so every leaf always gets its full lifetime.
//
// Leaves: ECDSA P-256 by default (RSA3072 for clients that need RSA),
// LeafLifetime (397 days, below the CA/Browser Forum's 398-day ceiling) and
// never past the CA's end, a random 128-bit serial, subject and authority key
// identifiers, key usage digitalSignature (plus keyEncipherment for RSA),
// extended key usage serverAuth and/or clientAuth, and exactly the requested
// SANs. Validity starts five minutes back to absorb clock skew. Each new leaf
// is verified against the CA before it is written.
//
// A leaf is reused when it parses, matches its key, is signed by the current
// CA (with the right chain after it), has the requested common name, key
// type, usage and exactly the requested SANs, is already valid and has more
// than RenewBefore (30 days) left. Otherwise it alone is reissued. A wrong
// mode or owner is corrected in place and listed in Result.Notes.
//
// # Name constraints and hostname changes
//
// A generated CA permits only localhost, loopback, every DNS name and IP
// address in the requests it signs (not the imported ones), and
// CAOptions.PermitDNS and PermitIPs. A stolen
// ca.key therefore cannot mint a certificate that a client trusting ca.crt
// accepts for any other name; Go, OpenSSL and Java enforce this.
//
// When a request needs a name the CA does not permit, such as a new
// hostname, the CA certificate is re-certified: a new ca.crt for the same
// key, subject and end date, whose constraints cover the current names (old
// names nobody requests any more are dropped). Certificates signed by the
// key stay valid, so only the certificates that carry the new name are
// reissued, as the operator expects of a hostname change. The Result for the
// CA says Recertified and why, and Report.TrustChanged is true: clients that
// imported the old ca.crt (browsers, other hosts) need the new one, because
// the old one still refuses the new name. Re-certification never extends the
// CA's end date, so the key's lifetime stays bounded.
//
// Two alternatives were rejected. Permitting the hostname's parent domain by
// default would let a stolen key impersonate every host of the bank's domain
// (or all of .local) to anyone who imported ca.crt. Replacing the CA on a
// hostname change would invalidate every certificate and every trust store at
// once for what is a renamed endpoint. Operators who expect to move the
// hostname inside a domain can list that domain in CAOptions.PermitDNS; then
// a move inside it leaves ca.crt untouched. Likewise, listing every service
// name of every service group in PermitDNS means enabling a group later does
// not change ca.crt. Removing names never re-certifies.
//
// An imported CA is never re-certified: if its constraints exclude a
// requested name, Ensure fails with ErrNameNotPermitted.
package pki
