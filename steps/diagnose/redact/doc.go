// Package redact removes secrets from the text that goes into a support
// bundle: logs, configuration, environment lists, docker inspect output.
//
// # Use
//
//	r, err := redact.New(valuesFromVault, redact.Options{})
//	w := r.NewWriter(bundleFile)      // a streaming filter
//	io.Copy(w, containerLogs)
//	w.Close()
//	clean, counts := r.Redact(configText) // or all at once
//	manifest.Redactions = r.Totals()      // counts by kind, never values
//
// Every redacted span becomes "[REDACTED:<kind>]", so a reader of the
// bundle sees that something was there and what sort of thing it was.
//
// # What is redacted
//
// Known values (KindKnownValue): every secret the installer stored in
// Vault, given to New. This is the reliable part: exact values are found
// wherever they occur, also base64-encoded (standard and URL alphabets,
// padded or not, and inside a longer base64 value), URL-encoded (query and
// path escaping, upper- or lower-case hex) and JSON-escaped. Inside a
// longer base64 value the one character at each edge that mixes the
// secret's bits with its neighbours' stays (at most 8 bits of the secret
// in all). Values shorter
// than MinKnownLength (8) are refused unless Options.AllowShort is set:
// short strings occur by chance and would shred ordinary text.
//
// Patterns, for secrets the installer did not generate:
//   - private key blocks, whole (KindPrivateKey): any
//     "-----BEGIN ... PRIVATE KEY-----" block up to its END line, raw or
//     with \n escapes inside JSON; a block cut off without END is redacted
//     as far as its base64 goes. Certificates, CSRs and public keys are
//     kept: they are public and needed to diagnose TLS.
//   - Vault tokens (KindVaultToken): hvs./hvb./hvr. tokens and legacy
//     s./b./r. tokens (24 random base62 characters).
//   - Authorization, Proxy-Authorization, X-Vault-Token, X-API-Key,
//     Cookie and Set-Cookie header values and bearer tokens
//     (KindAuthHeader); the scheme word (Bearer, Basic) is kept.
//   - passwords in JDBC URLs (KindJDBCPassword) and in URLs with user
//     information, scheme://user:password@host (KindURLPassword).
//   - assignments whose key ends in password, passwd, passphrase, secret,
//     token, api_key, private_key, access_key, credentials, _pwd and
//     similar (KindAssignment), in env lists (POSTGRES_PASSWORD=...), YAML
//     and JSON ("password": "..."), properties, command lines
//     (--db-password=...), query strings and XML elements. The value is
//     redacted, the key kept. Keys that only contain such a word
//     (password_file, token_ttl) are kept, so paths to secret files stay
//     readable; so are values that are no secret (true, null, ${VAR}).
//
// Patterns never match across a line break (except private key blocks),
// and where several overlap they are merged into one redaction counted
// under the most specific kind (see Kind). Redaction is best-effort for
// anything that is not a known value: a bundle should still be reviewed
// before it leaves the site.
//
// # Streaming
//
// The Writer holds back the current line until its line break arrives, an
// open private key block until its END line, and, if a known value spans
// lines, as many bytes as the longest such value; a secret split across
// writes at any point is therefore still redacted, and for lines up to
// 1 MiB the output equals Redact's. Longer lines are processed in pieces,
// cut after whitespace where possible and never inside a known value.
//
// Known values are searched for one after another; the cost grows with
// their number times the input size, which is fine for the dozens of
// values and megabytes of a support bundle.
//
// A known value that itself contains "[REDACTED:" or its closing "]"
// could be rebuilt from replacement text next to ordinary text; the
// installer's generated secrets never do.
package redact
