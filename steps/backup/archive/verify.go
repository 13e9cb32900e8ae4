package archive

import (
	"errors"
	"io"

	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// Verify reads the whole archive from r and writes nothing: it checks the
// header, unwraps the data key with pass, authenticates every chunk
// and the final-chunk marker, parses every entry and checks the manifest
// against the entries' names, types, modes, sizes and SHA-256. It is the
// check to run before a restore touches anything.
func Verify(r io.Reader, pass []byte) (Info, error) {
	return verify(r, pass, passphrase.Limits)
}

func verify(r io.Reader, pass []byte, limits passphrase.KDFLimits) (Info, error) {
	rd, err := newReader(r, pass, limits)
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
