// Package labimages knows the lab's local images: the images lab/images/*.sh
// build and tag with the exact references the assets pin, so the installer
// runs unchanged against them where no registry is reachable. Most are real
// software from Debian trixie's packages; Fineract, the Mifos X web app,
// Keycloak, Kafka, Grafana and the Elastic stack (Elasticsearch, Logstash,
// Kibana, Filebeat) are stand-ins (see lab/README.md). Extras are the
// lab's other images, under lab-only references: the Fineract stand-in
// built as the releases the upgrade tests move to (upgrade.go).
//
// Tests that deploy the stack call Require first: it fails (CI=true or
// FINERACT_REQUIRE_DOCKER=1) or skips when an image is missing, naming the
// script that builds it. NewStack renders the installer's real assets for a
// test and prepares everything the installer's earlier steps would (PKI,
// secrets) so a test can start any subset of services.
package labimages

import (
	"context"
	"fmt"
	"testing"

	"github.com/containerd/errdefs"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// HashLabel is the image label that carries the hash of a lab image's
// inputs; the build scripts skip an image whose label matches.
const HashLabel = "org.fineract-installer.lab.hash"

// Image is one image the lab builds.
type Image struct {
	// Service is the service name in the assets (assets.ImagePins).
	Service string
	// Reference is the image's reference when it is not the one the
	// assets pin for Service (Extras).
	Reference string
	// Script builds the image, relative to the repository root.
	Script string
	// StandIn is true when the image does not run the real software.
	StandIn bool
}

// Images lists the images the lab builds for the assets' pins, one for
// every service the assets pin; Extras lists the others.
var Images = []Image{
	{Service: "vault", Script: "lab/images/vault.sh"},
	{Service: "postgres", Script: "lab/images/postgres.sh"},
	{Service: "fineract", Script: "lab/images/fineract.sh", StandIn: true},
	{Service: "web-app", Script: "lab/images/web-app.sh", StandIn: true},
	{Service: "gateway", Script: "lab/images/nginx.sh"},
	{Service: "keycloak", Script: "lab/images/keycloak.sh", StandIn: true},
	{Service: "redis", Script: "lab/images/redis.sh"},
	{Service: "prometheus", Script: "lab/images/prometheus.sh"},
	{Service: "postgres-exporter", Script: "lab/images/postgres-exporter.sh"},
	{Service: "kafka", Script: "lab/images/kafka.sh", StandIn: true},
	{Service: "grafana", Script: "lab/images/grafana.sh", StandIn: true},
	{Service: "elasticsearch", Script: "lab/images/elasticsearch.sh", StandIn: true},
	{Service: "logstash", Script: "lab/images/logstash.sh", StandIn: true},
	{Service: "kibana", Script: "lab/images/kibana.sh", StandIn: true},
	{Service: "filebeat", Script: "lab/images/filebeat.sh", StandIn: true},
}

// Ref returns the image reference the assets pin for a service.
func Ref(service string) string {
	for _, p := range assets.ImagePins() {
		if p.Service == service {
			return p.Image
		}
	}
	return ""
}

func imageOf(service string) (Image, bool) {
	for _, im := range Images {
		if im.Service == service {
			return im, true
		}
	}
	return Image{}, false
}

// Check reports, for one service, whether its lab image is present and was
// made by the lab (it carries HashLabel).
func Check(ctx context.Context, e *compose.Engine, service string) error {
	im, ok := imageOf(service)
	if !ok {
		return fmt.Errorf("the lab has no image for %s (not packaged by Debian)", service)
	}
	return im.check(ctx, e)
}

// CheckRef reports whether the lab image with the reference ref (one of
// Extras) is present and was made by the lab.
func CheckRef(ctx context.Context, e *compose.Engine, ref string) error {
	for _, im := range Extras {
		if im.Reference == ref {
			return im.check(ctx, e)
		}
	}
	return fmt.Errorf("the lab builds no image %s", ref)
}

// Ref returns the image's reference: its own, or the one the assets pin for
// its service.
func (im Image) Ref() string {
	if im.Reference != "" {
		return im.Reference
	}
	return Ref(im.Service)
}

func (im Image) check(ctx context.Context, e *compose.Engine) error {
	service := im.Service
	ref := im.Ref()
	if ref == "" {
		return fmt.Errorf("assets pin no image for %s", service)
	}
	insp, err := e.API().ImageInspect(ctx, ref)
	if errdefs.IsNotFound(err) {
		return fmt.Errorf("image %s for %s is missing: run `bash %s` (or lab/test.sh)", ref, service, im.Script)
	}
	if err != nil {
		return fmt.Errorf("inspect %s: %w", ref, err)
	}
	if insp.Config == nil || insp.Config.Labels[HashLabel] == "" {
		return fmt.Errorf("image %s has no %s label: it was not built by %s; remove it and run the script", ref, HashLabel, im.Script)
	}
	return nil
}

// Require stops the test unless every service's lab image is present:
// it fails when labtest.Required(), else skips.
func Require(t testing.TB, e *compose.Engine, services ...string) {
	t.Helper()
	for _, s := range services {
		requireOK(t, Check(context.Background(), e, s))
	}
}

// RequireRefs is Require for images of Extras, by reference.
func RequireRefs(t testing.TB, e *compose.Engine, refs ...string) {
	t.Helper()
	for _, ref := range refs {
		requireOK(t, CheckRef(context.Background(), e, ref))
	}
}

func requireOK(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if labtest.Required() {
		t.Fatalf("lab image: %v", err)
	}
	t.Skipf("lab image: %v", err)
}
