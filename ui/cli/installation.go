package cli

import (
	"errors"

	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

// open opens the installation in --dir. Its project is the one its state
// records, so a command finds the containers of an installation made with
// another --project; --project names it only while nothing is recorded,
// and a --project naming another project is refused. a.project becomes the
// installation's, for everything the command names after this.
func (a *app) open() (*installation.Installation, error) {
	inst, err := installation.Open(a.dir)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	switch {
	case inst.Project == "":
		inst.Project = a.project
	case a.projectSet && inst.Project != a.project:
		return nil, usageError("--project %s: the installation in %s is project %s; leave --project out or pass --project %s", a.project, a.dir, inst.Project, inst.Project)
	}
	a.project = inst.Project
	return inst, nil
}

// adoptProject is open for commands that also work where --dir holds no
// installation (status, logs, uninstall): there nothing is recorded and
// --project stands.
func (a *app) adoptProject() error {
	_, err := a.open()
	if errors.Is(err, installdir.ErrNotInstallDir) {
		return nil
	}
	return err
}
