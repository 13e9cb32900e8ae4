package passphrase

import (
	"errors"
	"fmt"
	"unicode"
	"unicode/utf8"
)

// Limits of a passphrase.
const (
	// MinLength is the fewest characters a new passphrase may have.
	MinLength = 12
	// MaxBytes is the longest passphrase accepted at all; a longer one is
	// surely the wrong file.
	MaxBytes = 1024
	// minDistinct is the fewest different characters a new passphrase may have.
	minDistinct = 6
)

// ErrWeak means a passphrase for something new is too short or too simple.
var ErrWeak = errors.New("passphrase too weak")

// CheckNew tells whether p may protect something new: at least MinLength
// characters of valid UTF-8 without control characters, at least 6
// different ones, not only digits, at most MaxBytes bytes. Errors wrap
// ErrWeak and say what to change.
func CheckNew(p []byte) error {
	weak := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrWeak, fmt.Sprintf(format, args...))
	}
	if !utf8.Valid(p) {
		return weak("it is not valid UTF-8 text")
	}
	if len(p) > MaxBytes {
		return weak("it is %d bytes long; the limit is %d (is this the right file?)", len(p), MaxBytes)
	}
	distinct := map[rune]bool{}
	digits := 0
	for _, r := range string(p) {
		if unicode.IsControl(r) {
			return weak("it contains a control character (a tab, line break or similar)")
		}
		distinct[r] = true
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	n := utf8.RuneCount(p)
	switch {
	case n < MinLength:
		return weak("it needs at least %d characters (it has %d); a few unrelated words work well", MinLength, n)
	case len(distinct) < minDistinct:
		return weak("it uses only %d different characters; use at least %d", len(distinct), minDistinct)
	case digits == n:
		return weak("it is only digits; add letters or words")
	}
	return nil
}
