package compose

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"slices"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"github.com/docker/docker/api/types/container"
)

// A container made by a release that did not write per-part labels can
// only be compared by its whole hash: the reason says so rather than
// guessing a part, and still names an image change the labels show.
func TestDecideOnContainerWithoutPartLabels(t *testing.T) {
	p, s := pinnedProject(t, t.TempDir())
	want, err := serviceFingerprint(p, s, "sha256:2222222222222222")
	if err != nil {
		t.Fatal(err)
	}
	old := container.Summary{ID: "c1", State: "running", Labels: map[string]string{
		LabelConfigHash: "0123", LabelImageRef: "nginx:1", LabelImage: "sha256:1111111111111111",
	}}
	d := decide("gw", "nginx", "sha256:2222222222222222", want, []container.Summary{old})
	wantReasons := []string{"image nginx:1 → nginx (sha256:222222222222)", "created before per-part labels; config hash differs"}
	if d.Action != ServiceRecreate || !slices.Equal(d.Reasons, wantReasons) {
		t.Errorf("got %s %q, want recreate %q", d.Action, d.Reasons, wantReasons)
	}

	// The same container with a matching hash is left alone, labels or not.
	old.Labels[LabelConfigHash] = want.Hash
	if d := decide("gw", "nginx", "sha256:2222222222222222", want, []container.Summary{old}); d.Action != ServiceUnchanged || d.keep == nil {
		t.Errorf("matching hash without part labels: got %s, want unchanged", d.Action)
	}
}

// Each kind of part is named by what it is, with added and removed told
// apart from changed.
func TestChangeReasonsNameEachPart(t *testing.T) {
	have := fingerprint{Hash: "old", Parts: map[string]string{
		"setting:environment": "1", "setting:user": "1", "secret:pw": "1", "config:site": "1", "file:/etc/x": "1", "image-id": "a",
	}}
	want := fingerprint{Hash: "new", Parts: map[string]string{
		"setting:environment": "2", "setting:user": "1", "secret:pw": "2", "config:site": "1", "config:extra": "1", "image-id": "a",
	}}
	label, err := partsLabel(have)
	if err != nil {
		t.Fatal(err)
	}
	got := changeReasons(map[string]string{LabelConfigParts: label, LabelImageRef: "img", LabelImage: "sha256:a"}, "img", "sha256:a", want)
	wantReasons := []string{"config extra added", "file /etc/x removed", "secret pw changed", "setting environment changed"}
	if !slices.Equal(got, wantReasons) {
		t.Errorf("got %q, want %q", got, wantReasons)
	}
}

// A part of a container's labels never is the plain SHA-256 of a file it
// mounts: for a secret that digest is a form of the secret (Redis keeps
// passwords as `#<sha256>`), and labels are not secret.
func TestPartLabelsAreNotPlainDigestsOfSecrets(t *testing.T) {
	p, s := pinnedProject(t, t.TempDir())
	secret := []byte("correct-horse-battery-staple-0042")
	file := filepath.Join(t.TempDir(), "redis_password")
	p.Secrets = types.Secrets{"redis_password": types.SecretConfig{File: file}}
	s.Secrets = []types.ServiceSecretConfig{{Source: "redis_password"}}
	fp, err := fingerprintWith(p, s, "sha256:1", map[string][]byte{file: secret})
	if err != nil {
		t.Fatal(err)
	}
	plain := sha256.Sum256(secret)
	got, ok := fp.Parts[partSecret+"redis_password"]
	if !ok {
		t.Fatalf("no part for the secret: %v", fp.Parts)
	}
	if got == hex.EncodeToString(plain[:]) {
		t.Errorf("the secret's part is its plain SHA-256 %s", got)
	}
	other, err := fingerprintWith(p, s, "sha256:1", map[string][]byte{file: []byte("another value")})
	if err != nil {
		t.Fatal(err)
	}
	if other.Parts[partSecret+"redis_password"] == got {
		t.Error("a changed secret gives the same part")
	}
}
