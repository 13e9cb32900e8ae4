package validate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/delivered"
	"github.com/fineract-installer/fineract-installer/steps/fineractapi"
	"github.com/fineract-installer/fineract-installer/steps/signin"
)

// FineractChecks prove Fineract's own front door: its built-in users'
// default password no longer signs in, the administrator's password the
// installer set does, and nothing but the gateway reaches Fineract.
func FineractChecks() []Check {
	creds := []Control{ControlCredentials, ControlSecrets}
	return []Check{
		{ID: "fineract-default-login", Area: AreaFineract, Title: "Fineract's default login (mifos / password) is refused through the gateway", Controls: creds, Run: checkDefaultLogin},
		{ID: "fineract-admin-login", Area: AreaFineract, Title: "The administrator's password the installer set signs in through the gateway", Controls: creds, Run: checkAdminLogin,
			// With identity Fineract has no password sign-in of its own:
			// identity-fineract-accepts signs the administrator in through Keycloak.
			Unless: answers.GroupIdentity},
		{ID: "fineract-gateway-only", Area: AreaFineract, Title: "Fineract's API is reached only through the gateway", Controls: []Control{ControlSegmentation}, Run: checkFineractGatewayOnly},
	}
}

// FineractAPI is the default tenant's API through the gateway.
func (t *Target) FineractAPI() (fineractapi.Client, error) {
	hc, err := t.GatewayClient()
	if err != nil {
		return fineractapi.Client{}, err
	}
	return fineractapi.Client{HTTP: hc, BaseURL: assets.PublicURL(t.Answers) + "/fineract-provider/api/v1", Tenant: assets.DefaultTenant}, nil
}

// adminPassword is the administrator's password the installer set, as
// delivered to the installer's own directory.
func (t *Target) adminPassword(ctx context.Context) (string, error) {
	p, err := delivered.Value(ctx, t.Expect.Installer, t.SecretsDir, assets.TenantVaultPath(assets.DefaultTenant), assets.FineractAdminUser)
	if err != nil {
		return "", fmt.Errorf("read the administrator's password the installer delivered: %w", err)
	}
	return p, nil
}

const frontDoorHint = "run `fineract-installer install` again: it replaces the built-in users' default password through Fineract's API"

func checkDefaultLogin(ctx context.Context, t *Target) Finding {
	api, err := t.FineractAPI()
	if err != nil {
		return fail(err.Error(), "")
	}
	var evidence []string
	// HTTP Basic on an API call: what any script tries first. With the
	// identity group Fineract has basic authentication off altogether.
	for _, u := range assets.FineractBuiltinUsers {
		ok, err := api.Accepts(ctx, u, assets.FineractDefaultPassword)
		if err != nil {
			return fail("GET /users with basic authentication: "+err.Error(), "see `fineract-installer logs gateway fineract`")
		}
		if ok {
			return Finding{Status: Fail, Evidence: fmt.Sprintf("basic authentication as %s with the default password accepted", u), Fix: frontDoorHint, Subject: "fineract"}
		}
	}
	evidence = append(evidence, "basic with the default password refused for "+strings.Join(assets.FineractBuiltinUsers, ", "))
	if t.has(answers.GroupIdentity) {
		return t.defaultLoginThroughKeycloak(ctx, evidence)
	}
	// The web app's sign-in form posts here (in the gateway's sign-in rate
	// limit, so once).
	ok, err := api.Authenticate(ctx, assets.FineractAdminUser, assets.FineractDefaultPassword)
	if err != nil {
		return fail("POST /authentication: "+err.Error(), "see `fineract-installer logs gateway fineract`")
	}
	if ok {
		return Finding{Status: Fail, Evidence: fmt.Sprintf("POST /authentication as %s / %s: 200", assets.FineractAdminUser, assets.FineractDefaultPassword), Fix: frontDoorHint, Subject: "fineract"}
	}
	evidence = append(evidence, "POST /authentication "+assets.FineractAdminUser+" / "+assets.FineractDefaultPassword+": 401")
	return pass(strings.Join(evidence, "; "))
}

// defaultLoginThroughKeycloak signs in through the web app's client with
// the default password: Keycloak's login form must answer without letting
// the user in (a refusal at any other stage proves nothing).
func (t *Target) defaultLoginThroughKeycloak(ctx context.Context, evidence []string) Finding {
	_, err := t.WebAppSignIn(ctx, assets.FineractAdminUser, assets.FineractDefaultPassword)
	if err == nil {
		return Finding{Status: Fail, Evidence: fmt.Sprintf("Keycloak signed %s in with the default password", assets.FineractAdminUser), Fix: "set a password for the realm's user " + assets.FineractAdminUser + " in Keycloak's admin console", Subject: "keycloak"}
	}
	// Keycloak answers a wrong password with its login form again (200).
	var se *signin.Error
	if !errors.As(err, &se) || se.Step != signin.StepLogin || se.Status != http.StatusOK {
		return fail("sign-in with the default password did not get as far as the login form's answer: "+err.Error(), "see `fineract-installer logs gateway keycloak`")
	}
	return pass(strings.Join(append(evidence, "Keycloak's login form refused "+assets.FineractAdminUser+" with the default password"), "; "))
}

// WebAppSignIn signs in through the web app's client as a browser does.
func (t *Target) WebAppSignIn(ctx context.Context, user, password string) (signin.Token, error) {
	hc, err := t.GatewayClient()
	if err != nil {
		return signin.Token{}, err
	}
	issuer := assets.IssuerURL(t.Answers)
	return signin.Client{HTTP: hc, AuthorizeURL: issuer + "/protocol/openid-connect/auth", TokenURL: issuer + "/protocol/openid-connect/token",
		ClientID: assets.WebAppClientID, RedirectURI: assets.SignInRedirectURI(t.Answers), Scope: "openid"}.SignIn(ctx, user, password)
}

func checkAdminLogin(ctx context.Context, t *Target) Finding {
	password, err := t.adminPassword(ctx)
	if err != nil {
		return fail(err.Error(), "run as root; after a reboot run `fineract-installer unseal`")
	}
	api, err := t.FineractAPI()
	if err != nil {
		return fail(err.Error(), "")
	}
	ok, err := api.Authenticate(ctx, assets.FineractAdminUser, password)
	if err != nil {
		return fail("POST /authentication: "+err.Error(), "see `fineract-installer logs gateway fineract`")
	}
	if !ok {
		return fail(fmt.Sprintf("POST /authentication as %s with the password in Vault: 401", assets.FineractAdminUser),
			"the password was changed after the install, or never set: "+frontDoorHint+"; if someone changed it on purpose, set it back to the one in Vault (`fineract-installer credentials`)")
	}
	if _, err := api.Users(ctx, fineractapi.Basic(assets.FineractAdminUser, password)); err != nil {
		return fail(fmt.Sprintf("GET /users as %s: %v", assets.FineractAdminUser, err), "see `fineract-installer logs fineract`")
	}
	return pass(fmt.Sprintf("POST /authentication as %s: 200; GET /users with basic authentication: 200", assets.FineractAdminUser))
}

// checkFineractGatewayOnly proves Fineract publishes nothing and that the
// host (and so anything routed through it) cannot open a connection to
// Fineract's port on any of its addresses, while the gateway can.
func checkFineractGatewayOnly(ctx context.Context, t *Target) Finding {
	cs, err := t.inspectAll(ctx)
	if err != nil {
		return fail("cannot inspect the containers: "+err.Error(), "check that the Docker engine runs")
	}
	fin, ok := cs["fineract"]
	if !ok || fin.State == nil || !fin.State.Running {
		return fail("Fineract is not running", "start the stack: `fineract-installer install`")
	}
	if fin.HostConfig != nil && len(fin.HostConfig.PortBindings) > 0 {
		return Finding{Status: Fail, Evidence: fmt.Sprintf("fineract publishes %v", fin.HostConfig.PortBindings), Fix: "only the gateway may publish ports; reinstall to recreate Fineract", Subject: "fineract"}
	}
	var evidence, open []string
	for name, ep := range fin.NetworkSettings.Networks {
		if ep.IPAddress == "" {
			continue
		}
		addr := net.JoinHostPort(ep.IPAddress, "8443")
		// The host's namespace as this thread has it: /proc/self is the
		// first thread's, which another probe may have moved into a
		// container's for a moment.
		err := probe(ctx, "/proc/thread-self/ns/net", addr)
		if err == nil {
			open = append(open, fmt.Sprintf("the host connects to %s (network %s)", addr, name))
			continue
		}
		evidence = append(evidence, fmt.Sprintf("host -> %s (%s): %s", addr, name, probeOutcome(err)))
	}
	gw, ok := cs["gateway"]
	if !ok || gw.State == nil || gw.State.Pid == 0 {
		return fail("the gateway is not running", "start the stack: `fineract-installer install`")
	}
	if ep, ok := fin.NetworkSettings.Networks[t.Networks["app"]]; ok {
		addr := net.JoinHostPort(ep.IPAddress, "8443")
		if err := probe(ctx, fmt.Sprintf("/proc/%d/ns/net", gw.State.Pid), addr); err != nil {
			return fail(fmt.Sprintf("control probe gateway -> fineract %s failed (%v): the probe cannot tell", addr, err), "check that Fineract runs: `fineract-installer status`")
		}
		evidence = append(evidence, "control: gateway -> fineract "+addr+" connects")
	}
	if len(open) > 0 {
		return Finding{Status: Fail, Evidence: strings.Join(open, "; "),
			Fix: "Fineract's networks must be internal with no host address on their bridges (the installer renders them so); reinstall to recreate them", Subject: "fineract"}
	}
	return pass(strings.Join(evidence, "; "))
}
