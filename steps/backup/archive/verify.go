package archive

import (
	"errors"
	"io"
)

// Verify reads the whole archive from r and writes nothing: it checks the
// header, unwraps the data key with passphrase, authenticates every chunk
// and the final-chunk marker, parses every entry and checks the manifest
// against the entries' names, types, modes, sizes and SHA-256. It is the
// check to run before a restore touches anything.
func Verify(r io.Reader, passphrase []byte) (Info, error) {
	return verify(r, passphrase, defaultLimits)
}

func verify(r io.Reader, passphrase []byte, limits kdfLimits) (Info, error) {
	rd, err := newReader(r, passphrase, limits)
	if err != nil {
		return Info{}, err
	}
	er, err := NewEntryReader(rd)
	if err != nil {
		return rd.Info(), err
	}
	for {
		_, err := er.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return rd.Info(), err
		}
	}
	info := rd.Info()
	info.Manifest = er.Manifest()
	return info, nil
}
