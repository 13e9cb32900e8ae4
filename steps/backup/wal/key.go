package wal

import (
	"bytes"
	"encoding/base64"
	"fmt"
)

// ParseKey decodes the WAL key from its text form: standard base64 of
// KeySize bytes, as Vault holds it (banking/installer/wal-archive, key
// "key") and as the postgres service's secret file wal_archive_key
// carries it. Surrounding white space is ignored; anything else is refused.
func ParseKey(text []byte) ([]byte, error) {
	t := bytes.TrimSpace(text)
	if len(t) > base64.StdEncoding.EncodedLen(KeySize) {
		return nil, fmt.Errorf("the WAL key is %d characters long; it is %d bytes in base64 (%d characters)", len(t), KeySize, base64.StdEncoding.EncodedLen(KeySize))
	}
	key := make([]byte, base64.StdEncoding.DecodedLen(len(t)))
	n, err := base64.StdEncoding.Strict().Decode(key, t)
	if err != nil {
		return nil, fmt.Errorf("the WAL key is not standard base64: %w", err)
	}
	if n != KeySize {
		return nil, fmt.Errorf("the WAL key decodes to %d bytes; it must be %d random bytes in base64", n, KeySize)
	}
	return key[:n], nil
}
