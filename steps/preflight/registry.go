package preflight

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/system"
	"github.com/docker/go-units"
	"golang.org/x/sync/errgroup"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// The registry check asks each registry once per reference, a few at a
// time, and gives up on one that does not answer in time: a registry
// behind a broken proxy hangs rather than fails.
const (
	registryTimeout  = 30 * time.Second
	registryParallel = 4
)

// bundleFix is the way around any registry.
const bundleFix = "or install offline from an images bundle (images.source: bundle, made on a connected host with `fineract-installer images bundle --out stack-images.tar`)"

// registryFix says what to do about a reference that does not resolve:
// a registry that answered has no such tag (or refuses it to an anonymous
// pull); any other failure is the engine not reaching the registry.
func registryFix(err error) string {
	msg := err.Error()
	if errdefs.IsNotFound(err) || errdefs.IsUnauthorized(err) || errdefs.IsPermissionDenied(err) ||
		strings.Contains(msg, "manifest unknown") || strings.Contains(msg, "not found") || strings.Contains(msg, "denied") {
		return "the registry answered but gives no image for this reference: fix the image tag in the answers or the installer's pins (the engine pulls anonymously, so the image must be public or on a registry mirror); " + bundleFix
	}
	return "the engine did not reach the registry: check the engine's proxy (systemctl show docker --property=Environment), its \"registry-mirrors\" in /etc/docker/daemon.json and the firewall, then run the same command again; " + bundleFix
}

// resolved is what the registry said about one reference.
type resolved struct {
	ref    string
	digest string
	layers map[string]int64 // compressed layer digest -> size, for this platform
	// sizeErr says why the layers could not be read (the reference still
	// resolved through the engine).
	sizeErr error
	err     error
}

// checkRegistry asks, through the engine, whether every image the
// installation will have to pull resolves at its registry, and shows how
// much there is to download. The engine's DistributionInspect is what a
// pull does first, so the engine's proxy and registry mirrors apply.
func checkRegistry(ctx context.Context, in Input, info *system.Info) []Result {
	if in.Engine == nil || info == nil {
		return nil // the engine check says why
	}
	title := "Images at their registries"
	if in.Answers.Images.Source == answers.ImagesBundle {
		return []Result{{ID: "registry", Title: title, Status: Pass,
			Observed: fmt.Sprintf("skipped: the images come from the bundle %s, so no registry is asked", in.Answers.Images.Bundle)}}
	}
	if len(in.Services) == 0 {
		return nil
	}
	need, here, err := imagesToPull(ctx, in)
	if err != nil {
		return []Result{{ID: "registry", Title: title, Status: Fail, Observed: err.Error(),
			Fix: "check that the Docker engine answers (docker image ls) and run the same command again"}}
	}
	if len(need) == 0 {
		return []Result{{ID: "registry", Title: title, Status: Pass,
			Observed: fmt.Sprintf("the %d images are already on this host; no registry is needed", here)}}
	}
	plat := enginePlatform(info)
	rs := resolveAll(ctx, in, need, plat)

	var out []Result
	var ok []resolved
	for _, r := range rs {
		if r.err != nil {
			out = append(out, Result{ID: "registry", Title: "Image " + r.ref, Status: Fail,
				Observed: fmt.Sprintf("does not resolve through the Docker engine: %v", r.err), Fix: registryFix(r.err)})
			continue
		}
		ok = append(ok, r)
	}
	if len(ok) > 0 {
		out = append(out, downloadSummary(title, ok, len(need), here, plat))
	}
	return out
}

// imagesToPull lists the rendered services' images that need the registry:
// those not on this host, which the images step pulls. An image here is
// never pulled, whatever its ID: the images step compares it with the
// installation's record and refuses a change (exit 4) unless accepted, so
// the registry has no say in it. here counts the images on this host.
func imagesToPull(ctx context.Context, in Input) (need []string, here int, err error) {
	seen := map[string]bool{}
	for _, svc := range in.Services {
		if svc.Image == "" || seen[svc.Image] {
			continue
		}
		seen[svc.Image] = true
		_, err := in.Engine.API().ImageInspect(ctx, svc.Image)
		switch {
		case errdefs.IsNotFound(err):
			need = append(need, svc.Image)
		case err != nil:
			return nil, 0, fmt.Errorf("inspect image %s: %w", svc.Image, err)
		default:
			here++
		}
	}
	sort.Strings(need)
	return need, here, nil
}

// resolveAll resolves refs a few at a time, each within registryTimeout.
func resolveAll(ctx context.Context, in Input, refs []string, plat platform) []resolved {
	out := make([]resolved, len(refs))
	var g errgroup.Group
	g.SetLimit(registryParallel)
	for i, ref := range refs {
		g.Go(func() error {
			rctx, cancel := context.WithTimeout(ctx, registryTimeout)
			defer cancel()
			out[i] = resolve(rctx, in, ref, plat)
			return nil
		})
	}
	_ = g.Wait() // every worker reports through out
	return out
}

func resolve(ctx context.Context, in Input, ref string, plat platform) resolved {
	r := resolved{ref: ref}
	// The engine pulls without credentials (compose.Engine.pull sends no
	// X-Registry-Auth), so the check asks the same way: a reference that
	// resolves here is one the pull can fetch.
	d, err := in.Engine.API().DistributionInspect(ctx, ref, "")
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s: %w", registryTimeout, err)
		}
		r.err = err
		return r
	}
	r.digest = d.Descriptor.Digest.String()
	r.layers, r.sizeErr = layerSizes(ctx, ref, r.digest, plat)
	return r
}

// downloadSummary is the passing result for the references that resolved,
// with their compressed layer sizes added up once per layer.
func downloadSummary(title string, ok []resolved, needed, here int, plat platform) Result {
	layers := map[string]int64{}
	var unsized []string
	for _, r := range ok {
		if r.sizeErr != nil {
			unsized = append(unsized, fmt.Sprintf("%s (%v)", r.ref, r.sizeErr))
			continue
		}
		for dg, n := range r.layers {
			layers[dg] = n
		}
	}
	var total int64
	for _, n := range layers {
		total += n
	}
	refs := make([]string, 0, len(ok))
	for _, r := range ok {
		refs = append(refs, r.ref+"@"+r.digest)
	}
	obs := fmt.Sprintf("%d of %d images to pull resolve through the Docker engine (%s)", len(ok), needed, strings.Join(refs, ", "))
	if here > 0 {
		obs += fmt.Sprintf("; %d already here", here)
	}
	if len(ok) > len(unsized) {
		obs += fmt.Sprintf("; download up to %s (%d bytes): the compressed layers of their %s images, read from the registries' manifests by digest (layers the engine already has are not downloaded again)",
			units.HumanSize(float64(total)), total, plat)
	}
	r := Result{ID: "registry", Title: title, Status: Pass, Observed: obs}
	if len(unsized) > 0 {
		r.Observed += "; size not measured for " + strings.Join(unsized, ", ")
	}
	return r
}

// platform is the engine's, in the OCI spelling registries use.
type platform struct{ os, arch, variant string }

func (p platform) String() string {
	if p.variant != "" {
		return p.os + "/" + p.arch + "/" + p.variant
	}
	return p.os + "/" + p.arch
}

// enginePlatform turns the engine's uname-style architecture into the
// OCI one (the mapping of containerd's platforms.Normalize).
func enginePlatform(info *system.Info) platform {
	p := platform{os: info.OSType, arch: info.Architecture}
	if p.os == "" {
		p.os = "linux"
	}
	switch strings.ToLower(p.arch) {
	case "x86_64", "x86-64", "amd64":
		p.arch = "amd64"
	case "aarch64", "arm64":
		p.arch = "arm64"
	case "armv7l", "armhf", "arm":
		p.arch, p.variant = "arm", "v7"
	case "armv6l", "armel":
		p.arch, p.variant = "arm", "v6"
	case "i386", "i686", "386":
		p.arch = "386"
	}
	return p
}
