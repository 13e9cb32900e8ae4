package pki

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestRotateReissuesOnlyTheNamedCertificates(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	before := snapshot(t, s.Dir)

	rep, err := s.Rotate(context.Background(), reqs, "redis", "kafka")
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Certificates) != 2 || rep.CA.Action != Reused {
		t.Fatalf("report: CA %s, %d certificates; want the CA reused and two rotated", rep.CA.Action, len(rep.Certificates))
	}
	for _, r := range rep.Certificates {
		if r.Action != Reissued || !slices.Equal(r.Reasons, []string{"rotation requested"}) {
			t.Errorf("%s: %s %q", r.Name, r.Action, r.Reasons)
		}
	}
	want := pairFiles("kafka", "redis")
	if got := rep.ChangedFiles(); !slices.Equal(sortCopy(got), want) {
		t.Errorf("reported files %v, want %v", got, want)
	}
	if changed := changedFiles(before, snapshot(t, s.Dir)); !slices.Equal(changed, want) {
		t.Errorf("changed on disk %v, want %v", changed, want)
	}
}

func TestRotateCAReissuesEverything(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org", hostIP)
	ensure(t, s, reqs)
	before := snapshot(t, s.Dir)

	rep, err := s.Rotate(context.Background(), reqs, "ca")
	if err != nil {
		t.Fatal(err)
	}
	if rep.CA.Action != Reissued || !rep.TrustChanged() || len(rep.Certificates) != len(reqs) {
		t.Fatalf("CA %s, trust changed %v, %d certificates", rep.CA.Action, rep.TrustChanged(), len(rep.Certificates))
	}
	if changed := changedFiles(before, snapshot(t, s.Dir)); len(changed) != len(before) {
		t.Errorf("changed %d of %d files, want all", len(changed), len(before))
	}
}

func TestRotateRefusesUnknownNames(t *testing.T) {
	s := newStore(t, CAOptions{})
	reqs := fullStack("bank.example.org")
	_, err := s.Rotate(context.Background(), reqs, "postgress")
	if err == nil || !strings.Contains(err.Error(), `no certificate named "postgress"; known: ca, elasticsearch,`) {
		t.Errorf("got %v", err)
	}
	if _, err := s.Rotate(context.Background(), reqs); err == nil {
		t.Error("rotating nothing succeeded")
	}
}

func sortCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}
