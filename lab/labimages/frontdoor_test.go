package labimages

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/frontdoor"
	"github.com/fineract-installer/fineract-installer/steps/validate"
)

// fineractTarget is identityTarget with the networks the installer names.
func fineractTarget(t *testing.T, s *Stack) *validate.Target {
	tg := identityTarget(t, s)
	tg.Networks = map[string]string{}
	for role, seg := range s.Answers.Network.Segments() {
		tg.Networks[role] = seg.Name
	}
	return tg
}

func runFineractChecks(t *testing.T, tg *validate.Target) map[string]validate.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out := map[string]validate.Result{}
	for _, r := range validate.Run(ctx, tg, validate.FineractChecks()) {
		t.Logf("%s: %s: %s (%s)", r.ID, r.Status, r.Evidence, r.Fix)
		out[r.ID] = r
	}
	return out
}

// TestFineractFrontDoorChecks runs the front-door checks on the core stack
// as rendered (Fineract stand-in behind the gateway): before the
// installer replaced the default password both login checks fail, after
// frontdoor.Secure through the gateway both pass; Fineract is reached only
// through the gateway.
func TestFineractFrontDoorChecks(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "postgres", "fineract", "web-app", "gateway")
	s := NewStack(t, e)
	s.Up(t, "gateway")
	waitGatewayFineract(t, s)
	tg := fineractTarget(t, s)

	rs := runFineractChecks(t, tg)
	wantStatus(t, rs, "fineract-default-login", validate.Fail, "basic authentication as")
	wantStatus(t, rs, "fineract-admin-login", validate.Fail, "401")
	wantStatus(t, rs, "fineract-gateway-only", validate.Pass, "control: gateway -> fineract")

	api, err := tg.FineractAPI()
	if err != nil {
		t.Fatal(err)
	}
	pw := map[string]string{}
	for _, u := range assets.FineractBuiltinUsers {
		pw[u] = s.VaultValue(t, assets.TenantVaultPath(assets.DefaultTenant), u)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := frontdoor.Secure(ctx, api, pw); err != nil {
		t.Fatal(err)
	}
	rs = runFineractChecks(t, tg)
	wantStatus(t, rs, "fineract-default-login", validate.Pass, "POST /authentication mifos / password: 401")
	wantStatus(t, rs, "fineract-admin-login", validate.Pass, "200")
	if t.Failed() {
		s.DumpLogs(t, 30)
	}
}

// TestFineractGatewayOnlyFailsOnARoutedNetwork renders the app network as
// an ordinary bridge (not internal, an address for the host): the host
// then connects to Fineract's port directly, and the check says so.
func TestFineractGatewayOnlyFailsOnARoutedNetwork(t *testing.T) {
	t.Parallel()
	e := labtest.Engine(t)
	Require(t, e, "postgres", "fineract", "web-app", "gateway")
	s := NewStack(t, e)
	app := s.Answers.Network.App.Name
	editRegexp(t, s, s.Bundle.ComposeFile, `(?s)(\n  app:\n    name: `+regexp.QuoteMeta(app)+`\n    driver: bridge\n).*?(    ipam:)`, "${1}${2}")
	s.Up(t, "gateway")
	waitGatewayFineract(t, s)
	rs := runFineractChecks(t, fineractTarget(t, s))
	wantStatus(t, rs, "fineract-gateway-only", validate.Fail, "the host connects to")
}

// waitGatewayFineract waits until Fineract answers UP through the gateway.
func waitGatewayFineract(t *testing.T, s *Stack) {
	t.Helper()
	hc, err := fineractTarget(t, s).GatewayClient()
	if err != nil {
		t.Fatal(err)
	}
	waitHealth(t, hc, assets.PublicURL(s.Answers)+"/fineract-provider/actuator/health", "UP", 2*time.Minute)
}

// editRegexp rewrites a rendered file of the stack with a regular
// expression that must match.
func editRegexp(t *testing.T, s *Stack, rel, expr, repl string) {
	t.Helper()
	p := filepath.Join(s.Dir, filepath.FromSlash(rel))
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(expr)
	if !re.Match(data) {
		t.Fatalf("%s does not match %q", rel, expr)
	}
	if err := writeInPlace(p, re.ReplaceAll(data, []byte(repl))); err != nil {
		t.Fatal(err)
	}
}
