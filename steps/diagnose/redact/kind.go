package redact

import (
	"maps"
	"slices"
)

// Kind names what was redacted. It appears in the replacement text
// ("[REDACTED:vault-token]") and as a key of Counts.
type Kind string

// Kinds, highest priority first: where matches of several kinds overlap,
// the merged redaction is counted under the highest.
const (
	KindPrivateKey   Kind = "pem-private-key" // a whole -----BEGIN ... PRIVATE KEY----- block
	KindKnownValue   Kind = "known-value"     // a value the caller declared secret, raw or encoded
	KindVaultToken   Kind = "vault-token"     // hvs./hvb./hvr. and legacy s./b./r. tokens
	KindJDBCPassword Kind = "jdbc-password"   // password in a JDBC URL
	KindURLPassword  Kind = "url-password"    // password in scheme://user:password@host
	KindAuthHeader   Kind = "auth-header"     // Authorization, bearer tokens, X-Vault-Token, cookies
	KindAssignment   Kind = "assignment"      // the value of password=, secret:, _TOKEN= and the like
)

var priority = map[Kind]int{
	KindPrivateKey: 7, KindKnownValue: 6, KindVaultToken: 5, KindJDBCPassword: 4,
	KindURLPassword: 3, KindAuthHeader: 2, KindAssignment: 1,
}

// Replacement is the text that stands in for a redacted span.
func Replacement(k Kind) string { return "[REDACTED:" + string(k) + "]" }

// Counts is how many spans of each kind were redacted. It never holds the
// values, so it can go into a support bundle's manifest.
type Counts map[Kind]int

// Total is the number of redactions of all kinds.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Add adds other into c.
func (c Counts) Add(other Counts) {
	for k, v := range other {
		c[k] += v
	}
}

// Kinds returns the kinds present, sorted, for stable output.
func (c Counts) Kinds() []Kind {
	return slices.Sorted(maps.Keys(c))
}
