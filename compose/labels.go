package compose

import "github.com/compose-spec/compose-go/v2/loader"

// Labels docker compose puts on what it creates. Using the same ones lets
// `docker compose -p PROJECT ps|logs|down` see the installer's containers.
const (
	LabelProject     = "com.docker.compose.project"
	LabelService     = "com.docker.compose.service"
	LabelNumber      = "com.docker.compose.container-number"
	LabelOneoff      = "com.docker.compose.oneoff"
	LabelConfigHash  = "com.docker.compose.config-hash"
	LabelWorkingDir  = "com.docker.compose.project.working_dir"
	LabelConfigFiles = "com.docker.compose.project.config_files"
	LabelDependsOn   = "com.docker.compose.depends_on"
	LabelImage       = "com.docker.compose.image"
	LabelNetwork     = "com.docker.compose.network"
	LabelVolume      = "com.docker.compose.volume"
	// LabelImageRef is the image reference a container was made for; the
	// container itself is made from the image ID the reference resolved to.
	LabelImageRef = "org.fineract-installer.image"
	// LabelConfigParts holds the per-part hashes behind LabelConfigHash
	// (a JSON object), so a plan can say which part changed.
	LabelConfigParts = "org.fineract-installer.config-parts"
	// LabelManagedBy marks objects this program created.
	LabelManagedBy = "org.fineract-installer.managed-by"
)

const managedBy = "fineract-installer"

func projectFilter(project string) string { return LabelProject + "=" + project }

// CheckProjectName refuses a project name docker compose would refuse. The
// name also becomes part of host paths (the secrets directory) and unit
// names, so nothing else may pass.
func CheckProjectName(name string) error {
	if name == "" || loader.NormalizeProjectName(name) != name {
		return loader.InvalidProjectNameErr(name)
	}
	return nil
}
