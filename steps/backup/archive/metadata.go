package archive

import (
	"encoding/json"
	"fmt"
	"time"
)

// Metadata describes an archive. It is stored in the header in the clear
// (authenticated, not encrypted), so it can be shown before the payload is
// read: never put a secret in it.
type Metadata struct {
	// Created is when the backup was taken; NewWriter fills in the current
	// time when it is zero.
	Created time.Time `json:"created"`
	// InstallerVersion is the version of the installer that wrote the archive.
	InstallerVersion string `json:"installer_version,omitempty"`
	// Labels hold further facts worth seeing before a restore, such as the
	// host name or the CA fingerprint.
	Labels map[string]string `json:"labels,omitempty"`
}

func encodeMetadata(m Metadata) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding the archive metadata: %w", err)
	}
	if len(b) > maxMetadata {
		return nil, fmt.Errorf("the archive metadata is %d bytes encoded; the limit is %d: shorten the labels", len(b), maxMetadata)
	}
	return b, nil
}

func decodeMetadata(b []byte) (Metadata, error) {
	var m Metadata
	if len(b) == 0 {
		return m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("the archive metadata is not valid JSON: %v", err)
	}
	return m, nil
}
