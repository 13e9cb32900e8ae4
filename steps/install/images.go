package install

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/containerd/errdefs"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

const (
	imageRecordVersion = 1
	maxImageRecord     = 1 << 20
)

// ImageRecord maps each service to its recorded image.
type ImageRecord struct {
	Version int `json:"version"`
	// Stack is the stack version (assets.StackVersion) the services'
	// references are the pins of; empty when they are not one release's
	// pins (an accepted image change) or the record predates it. Only a
	// whole install or a successful upgrade sets it.
	Stack    string                   `json:"stack,omitempty"`
	Services map[string]RecordedImage `json:"services"`
}

// RecordedImage is the image a service was installed (or last accepted) with.
type RecordedImage struct {
	Image string `json:"image"`
	ID    string `json:"id"`
	// Release is the upstream release the pin declared for the image
	// (assets.ImagePin.Release), for the upgrade path; empty when none.
	Release  string    `json:"release,omitempty"`
	Recorded time.Time `json:"recorded"`
}

// The image record (installation.ImageRecordFile) is the record, in the
// install dir, of the image each service runs: the reference and the image
// ID the installation was made with. The images step writes it; every
// later command that creates a container checks the images against it
// first. Being in the install dir, it travels in backups and comes back
// with a restore.

// LoadImageRecord reads the record in dir; ok is false when there is none.
func LoadImageRecord(dir string) (rec ImageRecord, ok bool, err error) {
	name := installation.New(dir, "").ImageRecordFile()
	f, err := os.Open(name)
	if errors.Is(err, os.ErrNotExist) {
		return ImageRecord{Version: imageRecordVersion, Services: map[string]RecordedImage{}}, false, nil
	}
	if err != nil {
		return ImageRecord{}, false, fmt.Errorf("read the image record: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImageRecord+1))
	if err != nil {
		return ImageRecord{}, false, fmt.Errorf("read the image record %s: %w", name, err)
	}
	if len(data) > maxImageRecord {
		return ImageRecord{}, false, fmt.Errorf("image record %s is larger than %d bytes", name, maxImageRecord)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rec); err != nil {
		return ImageRecord{}, false, fmt.Errorf("image record %s: %w", name, err)
	}
	if rec.Version != imageRecordVersion {
		return ImageRecord{}, false, fmt.Errorf("image record %s: version %d is not known (this installer reads version %d)", name, rec.Version, imageRecordVersion)
	}
	for svc, img := range rec.Services {
		if img.Image == "" || !strings.HasPrefix(img.ID, "sha256:") {
			return ImageRecord{}, false, fmt.Errorf("image record %s: service %s has no image reference or ID", name, svc)
		}
	}
	if rec.Services == nil {
		rec.Services = map[string]RecordedImage{}
	}
	return rec, true, nil
}

// Save writes the record into dir atomically.
func (r ImageRecord) Save(dir string) error {
	r.Version = imageRecordVersion
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the image record: %w", err)
	}
	return atomicfile.WriteFile(installation.New(dir, "").ImageRecordFile(), append(data, '\n'), 0o640)
}

// ImageChange is a service whose image is not the recorded one.
type ImageChange struct {
	Service string
	// RecordedImage and RecordedID are empty when the service has no record.
	RecordedImage string
	RecordedID    string
	// Image is the reference the stack names now; ID what it resolves to
	// on this host (empty when the image is not here).
	Image string
	ID    string
}

func (c ImageChange) String() string {
	switch {
	case c.RecordedID == "":
		return fmt.Sprintf("service %s has no recorded image (%s is %s here)", c.Service, c.Image, c.ID)
	case c.RecordedImage != c.Image:
		return fmt.Sprintf("service %s was installed with %s (%s); the stack now names %s (%s here)", c.Service, c.RecordedImage, c.RecordedID, c.Image, c.ID)
	}
	return fmt.Sprintf("service %s: %s is %s on this host, but the installation was made with %s", c.Service, c.Image, c.ID, c.RecordedID)
}

// ImageChangedError refuses images that are not the recorded ones. It
// matches compose.ErrUntrustedImage.
type ImageChangedError struct {
	Changes []ImageChange
}

func (e *ImageChangedError) Error() string {
	parts := make([]string, len(e.Changes))
	for i, c := range e.Changes {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ") + "; no container was changed"
}

// Is makes errors.Is(err, compose.ErrUntrustedImage) hold.
func (e *ImageChangedError) Is(target error) bool { return target == compose.ErrUntrustedImage }

// Hint says how to go on.
func (e *ImageChangedError) Hint() string {
	var changed, unrecorded []string
	var restore []string
	for _, c := range e.Changes {
		if c.RecordedID == "" {
			unrecorded = append(unrecorded, c.Service)
			continue
		}
		changed = append(changed, "--accept-image-change "+c.Service)
		restore = append(restore, fmt.Sprintf("docker tag %s %s", c.RecordedID, c.RecordedImage))
	}
	var hints []string
	if len(changed) > 0 {
		hints = append(hints, fmt.Sprintf("if the change is intended, run the install again with the same answers and %s (restore takes the same flag); if not, give the reference its recorded image back (`%s`, while that image is on this host) and find out who changed it",
			strings.Join(changed, " "), strings.Join(restore, "; ")))
	}
	if len(unrecorded) > 0 {
		hints = append(hints, fmt.Sprintf("run `fineract-installer install` with this installation's answers to record the images of %s (the installation predates image records, or the service was added since)", strings.Join(unrecorded, ", ")))
	}
	return strings.Join(hints, "; ")
}

// compare lists the services of found whose image differs from the record.
func (r ImageRecord) compare(found []compose.ServiceImage) []ImageChange {
	var changes []ImageChange
	for _, f := range found {
		rec, ok := r.Services[f.Service]
		if ok && rec.Image == f.Image && rec.ID == f.ID {
			continue
		}
		changes = append(changes, ImageChange{Service: f.Service, RecordedImage: rec.Image, RecordedID: rec.ID, Image: f.Image, ID: f.ID})
	}
	return changes
}

// Verify checks found against the record: every service must have an entry
// naming the same reference and image ID.
func (r ImageRecord) Verify(found []compose.ServiceImage) error {
	if changes := r.compare(found); len(changes) > 0 {
		return &ImageChangedError{Changes: changes}
	}
	return nil
}

// update returns the record for the stack's services as found: services
// without an entry are recorded as they are, accepted services get their
// new image recorded, services no longer in the stack are dropped. Any
// other change is an *ImageChangedError, and r is left as it was.
func (r ImageRecord) update(found []compose.ServiceImage, accept map[string]bool, now time.Time) (next ImageRecord, recorded []ImageChange, err error) {
	next = ImageRecord{Version: imageRecordVersion, Stack: r.Stack, Services: map[string]RecordedImage{}}
	var refused []ImageChange
	for _, f := range found {
		if rec, ok := r.Services[f.Service]; ok && rec.Image == f.Image && rec.ID == f.ID {
			next.Services[f.Service] = rec
			continue
		}
		c := ImageChange{Service: f.Service, Image: f.Image, ID: f.ID}
		if rec, ok := r.Services[f.Service]; ok {
			c.RecordedImage, c.RecordedID = rec.Image, rec.ID
			if !accept[f.Service] {
				refused = append(refused, c)
				continue
			}
		}
		next.Services[f.Service] = RecordedImage{Image: f.Image, ID: f.ID, Release: assets.ReleaseOf(f.Service, f.Image), Recorded: now.UTC()}
		recorded = append(recorded, c)
	}
	if len(refused) > 0 {
		return r, nil, &ImageChangedError{Changes: refused}
	}
	return next, recorded, nil
}

// stackOf is the stack version the record's references are the pins of:
// stack when every service runs its pin, else none.
func (r ImageRecord) stackOf(pins []assets.ImagePin, stack string) string {
	for _, p := range pins {
		if rec, ok := r.Services[p.Service]; ok && rec.Image != p.Image {
			return ""
		}
	}
	return stack
}

// References maps each recorded service to its image reference.
func (r ImageRecord) References() map[string]string {
	out := make(map[string]string, len(r.Services))
	for svc, img := range r.Services {
		out[svc] = img.Image
	}
	return out
}

// Upgraded is the record after an upgrade to stack: the services of found
// with their new images, recorded at now.
func (r ImageRecord) Upgraded(found []compose.ServiceImage, stack string, now time.Time) ImageRecord {
	next := ImageRecord{Version: imageRecordVersion, Stack: stack, Services: map[string]RecordedImage{}}
	for _, f := range found {
		if rec, ok := r.Services[f.Service]; ok && rec.Image == f.Image && rec.ID == f.ID {
			next.Services[f.Service] = rec
			continue
		}
		next.Services[f.Service] = RecordedImage{Image: f.Image, ID: f.ID, Release: assets.ReleaseOf(f.Service, f.Image), Recorded: now.UTC()}
	}
	return next
}

// recordVerifier checks images against the record in an install dir. It
// reads the record on every call, so the one written by the images step of
// the same run, or put back by a restore, is the one that counts.
type recordVerifier struct{ dir string }

// VerifyImages implements compose.ImageVerifier.
func (v recordVerifier) VerifyImages(_ context.Context, found []compose.ServiceImage) error {
	rec, _, err := LoadImageRecord(v.dir)
	if err != nil {
		return err
	}
	return rec.Verify(found)
}

// ImageFailure gives an image refusal its hint, for the step failure or
// the command's error.
func ImageFailure(err error) error {
	var changed *ImageChangedError
	if errors.As(err, &changed) {
		return &steps.Failure{Cause: changed.Error(), Hint: changed.Hint(), Err: err}
	}
	return err
}

// serviceRefs lists each service of the stack with the reference it uses.
func (env *Env) serviceRefs() []compose.ServiceImage {
	out := make([]compose.ServiceImage, 0, len(env.Bundle.Services))
	for _, svc := range env.Bundle.Services {
		out = append(out, compose.ServiceImage{Service: svc.Name, Image: svc.Image})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Service < out[j].Service })
	return out
}

// LocalImages resolves each service's reference on this host, without
// pulling: ID is empty for an image that is not here.
func (env *Env) LocalImages(ctx context.Context) ([]compose.ServiceImage, error) {
	out := env.serviceRefs()
	for i := range out {
		img, err := env.Engine.API().ImageInspect(ctx, out[i].Image)
		switch {
		case err == nil:
			out[i].ID = img.ID
		case errdefs.IsNotFound(err):
		default:
			return nil, fmt.Errorf("inspect image %s: %w", out[i].Image, err)
		}
	}
	return out, nil
}

// ImagePlan says what the images step will do with one service's image.
type ImagePlan struct {
	Service  string
	Recorded *RecordedImage
	// Found is the image on this host now (ID empty when it is not here:
	// it will be pulled or loaded, then checked).
	Found  compose.ServiceImage
	Accept bool
}

// Changed reports whether the image here differs from the record.
func (p ImagePlan) Changed() bool {
	return p.Recorded != nil && p.Found.ID != "" && (p.Recorded.ID != p.Found.ID || p.Recorded.Image != p.Found.Image)
}

// PlanImages compares the images on this host with the record, for the
// plan shown before an install.
func (env *Env) PlanImages(ctx context.Context) ([]ImagePlan, error) {
	rec, _, err := LoadImageRecord(env.Dir)
	if err != nil {
		return nil, err
	}
	found, err := env.LocalImages(ctx)
	if err != nil {
		return nil, err
	}
	accept := env.acceptSet()
	out := make([]ImagePlan, 0, len(found))
	for _, f := range found {
		p := ImagePlan{Service: f.Service, Found: f, Accept: accept[f.Service]}
		if r, ok := rec.Services[f.Service]; ok {
			p.Recorded = &r
		}
		out = append(out, p)
	}
	return out, nil
}

func (env *Env) acceptSet() map[string]bool {
	set := map[string]bool{}
	for _, s := range env.AcceptImageChange {
		set[s] = true
	}
	return set
}

// ImagesStep makes every image present (skipped when there, loaded from the
// offline bundle after it is checked against its manifest, or pulled), then
// checks each service's image against the image record: a service without
// a record is recorded as found (the first install), a changed image stops
// the install unless the operator accepted the change for that service.
type ImagesStep struct {
	Env *Env
	// RecordDir holds the image record to check and write; the install dir
	// when empty. A restore checks the record of the install dir it is
	// about to put in place, before the current one is touched.
	RecordDir string
}

// ID implements steps.Step.
func (s ImagesStep) ID() string { return "images" }

// Title implements steps.Step.
func (s ImagesStep) Title() string { return "Make the container images available" }

func (s ImagesStep) recordDir() string {
	if s.RecordDir != "" {
		return s.RecordDir
	}
	return s.Env.Dir
}

// Check is true when the record covers exactly the stack's services and
// every image here is the recorded one.
func (s ImagesStep) Check(ctx context.Context) (bool, error) {
	rec, ok, err := LoadImageRecord(s.recordDir())
	if err != nil || !ok {
		return false, nil
	}
	found, err := s.Env.LocalImages(ctx)
	if err != nil {
		return false, nil
	}
	for _, f := range found {
		if f.ID == "" {
			return false, nil
		}
	}
	return len(rec.Services) == len(found) && rec.Verify(found) == nil, nil
}

// Run implements steps.Step.
func (s ImagesStep) Run(ctx context.Context, emit steps.Emitter) error {
	// The record is read first: a damaged one stops the step before any
	// image is pulled or loaded.
	rec, _, err := LoadImageRecord(s.recordDir())
	if err != nil {
		return steps.Fail(err, "move the file aside only if you can check every image by hand; it is what guards the installation against changed images")
	}
	opts := compose.ImageOptions{}
	if s.Env.Answers.Images.Source == answers.ImagesBundle {
		opts.Bundle = s.Env.Answers.Images.Bundle
	}
	refs := s.Env.serviceRefs()
	list := make([]string, 0, len(refs))
	for _, r := range refs {
		list = append(list, r.Image)
	}
	ids, err := s.Env.Engine.EnsureImages(ctx, list, opts, emit)
	if err != nil {
		return err
	}
	for i := range refs {
		refs[i].ID = ids[refs[i].Image]
	}
	next, recorded, err := rec.update(refs, s.Env.acceptSet(), time.Now())
	if err != nil {
		return ImageFailure(err)
	}
	next.Stack = next.stackOf(assets.ImagePins(), assets.StackVersion())
	if len(recorded) == 0 && len(next.Services) == len(rec.Services) && next.Stack == rec.Stack {
		return nil
	}
	if err := next.Save(s.recordDir()); err != nil {
		return steps.Fail(err, "free some space in the install dir and run the same command again")
	}
	for _, c := range recorded {
		if c.RecordedID == "" {
			emit.Info(c.Service, fmt.Sprintf("recorded %s as %s", c.Image, c.ID))
		} else {
			emit.Warn(fmt.Sprintf("accepted the image change of %s: %s %s -> %s %s", c.Service, c.RecordedImage, c.RecordedID, c.Image, c.ID))
		}
	}
	return nil
}
