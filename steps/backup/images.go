package backup

import "path/filepath"

// InstallDir is the backed-up install dir inside the unpacked backup, as it
// will be put in place: a restore checks the images against its image
// record before the current installation is touched.
func (u Unpacked) InstallDir() string { return filepath.Join(u.Dir, installPrefix) }
