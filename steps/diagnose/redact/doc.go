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
//	lines, _ := r.RedactLines(logTexts)   // lines as one text, given back as lines
//	leaked := r.HasKnownValue(data)       // a search, for leak checks
//	manifest.Redactions = r.Totals()      // counts by kind, never values
//
// Every redacted span becomes "[REDACTED:<kind>]", so a reader of the
// bundle sees that something was there and what sort of thing it was.
//
// # Known values: the guarantee
//
// Known values (KindKnownValue) are every secret the installer stored in
// Vault, given to New (the installer reads them back from the delivered
// secret files whatever their format, see package delivered). They are
// found wherever they occur, in each of these forms:
//   - raw, upper-cased and lower-cased;
//   - hex-encoded, in lower- or upper-case digits, also inside a longer
//     hex string;
//   - base64 (standard and URL alphabets, padded or not), also inside a
//     longer base64 value; there the one character at each edge that
//     mixes the secret's bits with its neighbours' stays (at most 8 bits
//     of the secret in all);
//   - URL-encoded (query and path escaping, upper- or lower-case hex) and
//     JSON-escaped;
//   - any of the above split over lines: a line break (LF, CR LF or CR),
//     optionally preceded by a continuation backslash and followed by up
//     to 16 spaces or tabs of indentation, inserted between any two of its
//     characters, any number of times but at most once in a row (a blank
//     line between two halves is not a split value).
//
// Values shorter than MinKnownLength (8) are refused unless
// Options.AllowShort is set: short strings occur by chance and would shred
// ordinary text. HasKnownValue is the same search without replacing, so a
// leak check that uses it finds exactly what redaction would remove.
//
// Edges of the split form: indentation after a break is taken out, so
// blanks of the value's own right after a break may go with it; a value
// that has line breaks of its own is found as it is, but not also split
// elsewhere; a value ending in a backslash, split by a continuation and
// followed by a line break, is found only when it is at least 9 bytes
// long. The installer's values (32 or more letters and digits) have none
// of these.
//
// # Patterns: best effort
//
// Patterns find secrets the installer did not generate, by their shape:
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
//   - the value of an assignment (KindAssignment) whose key ends in
//     password, passwd, passphrase, secret, token, api_key, private_key,
//     access_key, credentials and similar, or in pass or pwd as a part of
//     its own (DB_PASS, redis.pass, TENANTDB_PWD): env lists
//     (POSTGRES_PASSWORD=...), YAML and JSON ("password": "..."),
//     properties, command lines (--db-password=...), query strings and XML
//     elements. The value is redacted, the key kept. Keys that only
//     contain such a word (password_file, token_ttl, bypass) are kept, so
//     paths to secret files stay readable; so are values that are no
//     secret (true, null, ${VAR}, $(cat file), a YAML block indicator).
//   - pass and pwd as a whole key ("pass": "...", pwd=...) when quoted,
//     followed by = or :=, or, with a colon, at the start of a line (YAML).
//     "tests pass: 12" in prose and the shell's PWD=/root (a directory)
//     are kept.
//   - the word after a flag naming a secret, separated by blanks or, in
//     a JSON or Python list, by a comma: --password X, --db-password X,
//     keytool's -storepass X, openssl's -passout pass:X,
//     ["--requirepass","X"]. A following flag (--password --verbose) is no
//     value. The short flags -p and -a are not redacted: they mean port
//     or something else in too many tools.
//   - Redis' requirepass and masterauth followed by a value, in a
//     configuration file, a command (CONFIG SET requirepass X) or
//     MONITOR output ("requirepass" "X").
//   - YAML block scalars under such a key ("password: |", "secret: >-",
//     "api_key: |2", also as a list item): from the value's first
//     character to the line break before the first non-blank line
//     indented no deeper than the key, blank lines inside included, or to
//     the end of the input. The key line and the value's indentation
//     stay.
//
// Patterns other than private key blocks and YAML block scalars never
// match across a line break, and where several spans overlap they are
// merged into one redaction counted under the most specific kind (see
// Kind). A word that merely follows "pass" in prose is never redacted. A
// bundle should still be reviewed before it leaves the site.
//
// # Streaming
//
// The Writer holds back the current line until its line break arrives, as
// many bytes after it as the longest known value split over lines can
// cover (about 20 times its length), an open private key block until its
// END line, and an open YAML block scalar until a line ends it; a secret
// split across writes at any point is therefore still redacted, and for
// lines up to 1 MiB and blocks up to 64 KiB the output equals Redact's.
// Longer lines are processed in pieces, cut after whitespace where
// possible and never inside a known value. A longer block is replaced when
// it reaches 64 KiB and the rest of it dropped as it arrives; the text
// then still equals Redact's, but the kind named in its replacement is the
// highest seen in its first 64 KiB.
//
// All known values are searched for in one pass over the input, whatever
// their number; the patterns' regular expressions run only on lines that
// hold one of their literal trigger words.
//
// A known value that itself contains "[REDACTED:" or its closing "]" (in
// any letter case) could be rebuilt from replacement text next to
// ordinary text; the installer's generated secrets never do.
package redact
