package assets

import (
	"fmt"
	"regexp"
	"strings"
)

// defaultStack names the set of pins imagePins holds: the stack version
// this installer release installs and upgrades to. It changes with any
// pin.
const defaultStack = "2026.12"

// releasePins is empty in a release. A build of another release (the lab's
// "newer installer", to test upgrade against stand-in images) sets it at
// link time, never at run time:
//
//	go build -ldflags "-X 'github.com/fineract-installer/fineract-installer/assets.releasePins=stack=lab-2;fineract=lab.fineract-installer.invalid/fineract-standin:v2;release.fineract=1.15.0'"
//
// It names the stack version and replaces the pins (and the releases they
// are builds of) of the services it lists. No flag, environment variable or file can change a pin: an
// upgrade moves an installation only to the references compiled into the
// binary that runs it.
var releasePins string

// stackVersion is the stack version of this build.
var stackVersion = defaultStack

func init() {
	if releasePins == "" {
		return
	}
	stack, pins, err := parseReleasePins(releasePins, imagePins)
	if err != nil {
		// Only a build can set releasePins: a wrong one is a broken build,
		// which must not install anything.
		panic("assets.releasePins: " + err.Error())
	}
	stackVersion, imagePins = stack, pins
}

// StackVersion names the stack version this installer carries.
func StackVersion() string { return stackVersion }

var (
	stackName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	// imageRef is a reference with an explicit tag and no digest syntax
	// games: what the compose file and the image record carry.
	imageRef = regexp.MustCompile(`^[a-z0-9][a-z0-9._/:-]{0,254}:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)
)

// parseReleasePins reads "stack=NAME;SERVICE=REF;release.SERVICE=X.Y.Z;..."
// and returns the stack name and base with the listed services' references
// (and releases) replaced. A replaced reference drops the release the base
// pin declared: it is another build. Every service must be one of base's,
// named once; the stack name is required, so that two builds with
// different pins never share a name.
func parseReleasePins(spec string, base []ImagePin) (string, []ImagePin, error) {
	pins := append([]ImagePin(nil), base...)
	stack := ""
	seen := map[string]bool{}
	releases := map[int]string{}
	for _, part := range strings.Split(spec, ";") {
		key, value, ok := strings.Cut(part, "=")
		if !ok || key == "" || value == "" {
			return "", nil, fmt.Errorf("%q is not key=value", part)
		}
		if seen[key] {
			return "", nil, fmt.Errorf("%s is given twice", key)
		}
		seen[key] = true
		if key == "stack" {
			if !stackName.MatchString(value) {
				return "", nil, fmt.Errorf("stack name %q: use letters, digits, '.', '_' and '-'", value)
			}
			stack = value
			continue
		}
		service, isRelease := strings.CutPrefix(key, "release.")
		i := pinIndex(pins, service)
		if i < 0 {
			return "", nil, fmt.Errorf("service %s is not in the stack", service)
		}
		if isRelease {
			if _, err := parseRelease(value); err != nil {
				return "", nil, fmt.Errorf("%s: %w", key, err)
			}
			releases[i] = value
			continue
		}
		if !imageRef.MatchString(value) || strings.Contains(value, "..") || strings.Contains(value, "//") {
			return "", nil, fmt.Errorf("service %s: %q is not an image reference with a tag", key, value)
		}
		pins[i].Image, pins[i].Release = value, ""
		pins[i].Note = "set at build time (assets.releasePins)"
	}
	for i, r := range releases {
		pins[i].Release = r
	}
	if stack == "" {
		return "", nil, fmt.Errorf("no stack=NAME: a build with other pins needs a stack version of its own")
	}
	if stack == defaultStack {
		return "", nil, fmt.Errorf("stack %s is this release's own name; a build with other pins needs another", stack)
	}
	return stack, pins, nil
}

func pinIndex(pins []ImagePin, service string) int {
	for i, p := range pins {
		if p.Service == service {
			return i
		}
	}
	return -1
}
