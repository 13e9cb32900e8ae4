package tui

import (
	"fmt"
	"strings"

	"charm.land/huh/v2"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// formGroup is one group of fields and whether it applies right now; the
// accessible wizard asks only the groups that apply.
type formGroup struct {
	group *huh.Group
	shown func() bool
	// secret groups ask for a passphrase: at a line prompt the terminal's
	// echo is off while they are asked.
	secret bool
}

func always() bool { return true }

// groupDescriptions say in a few words what each optional group brings.
var groupDescriptions = map[string]string{
	answers.GroupIdentity:   "Keycloak single sign-on",
	answers.GroupMessaging:  "Kafka and Redis for business events",
	answers.GroupMonitoring: "Prometheus, Grafana, PostgreSQL exporter",
	answers.GroupLogging:    "Elasticsearch, Logstash, Kibana, Filebeat",
}

// segmentDescriptions say who lives on each network.
var segmentDescriptions = [4]string{
	"the gateway's outside network, the only one with published ports",
	"gateway, web app, Fineract, Keycloak, Grafana, Kibana",
	"internal, no way out: PostgreSQL, Vault, Kafka, Redis",
	"internal, no way out: Prometheus, exporters, the logging stack",
}

// formHooks connect the fields to what the wizard knows beyond them: the
// live certificate checks (every problem that keeps the screen open) and
// whether last fields check the whole screen.
// The accessible wizard checks the screen after its prompts instead: a line
// prompt re-asks until its validator passes, and at the end of input a
// select would ask forever about a problem it cannot fix.
type formHooks struct {
	certs func() []string
	cross bool
	// lines says the fields are asked at line prompts, which read a
	// passphrase as a plain line with the terminal's echo turned off
	// (formGroup.secret): huh would read it from the terminal itself, out
	// of reach of Ctrl-C.
	lines bool
}

// nothing is a field's own validator when only the whole screen is checked.
func nothing(string) error { return nil }

// all joins validators: the first error wins.
func all(vs ...func(string) error) func(string) error {
	return func(s string) error {
		for _, v := range vs {
			if err := v(s); err != nil {
				return err
			}
		}
		return nil
	}
}

// problemsOf is a validator reporting the first of some problems.
func problemsOf(f func() []string) func(string) error {
	return func(string) error { return firstProblem(f()) }
}

// groupsFor builds the questions of a form screen, bound to the draft. The
// last field of each group also checks what ties the fields together (an
// overlap, a key pair), so the form cannot be completed with a problem on
// screen.
func groupsFor(s screenID, d *draft, host HostFacts, hooks formHooks) []formGroup {
	// screen adds a whole-screen check to a last field's own validator.
	screen := func(own func(string) error, whole func(string) error) func(string) error {
		if !hooks.cross {
			return own
		}
		return all(own, whole)
	}
	secret := huh.EchoModePassword
	if hooks.lines {
		secret = huh.EchoModeNormal
	}
	switch s {
	case screenProfile:
		return []formGroup{{huh.NewGroup(
			huh.NewSelect[answers.Profile]().Key("profile").
				Title("Which profile?").
				Description("Production is the safe default. Demo trades key custody for convenience: never use it for real customers. "+
					"Production also archives the database's write-ahead log continuously, so losing the disk costs at most "+
					fmt.Sprintf("%.0f minutes", answers.DefaultArchiveTimeout.Minutes())+" of changes (backup.archive_timeout); demo relies on daily backups.").
				Options(
					huh.NewOption("production  for real money: keys split among key holders, shown once", answers.Production),
					huh.NewOption("demo        for classrooms: one key kept encrypted on this host", answers.Demo),
				).Value(&d.profile)), always, false}}
	case screenHost:
		return []formGroup{{huh.NewGroup(
			huh.NewInput().Key("hostname").Title("Host name").
				Description("The name people type in the browser; the gateway certificate carries it."+detected(host.Hostname)).
				Value(&d.hostname).Validate(d.validator("host.hostname", &d.hostname)),
			huh.NewInput().Key("ips").Title("IP addresses (optional, comma-separated)").
				Description("Addresses clients use to reach this host; the certificate carries them too."+detected(strings.Join(host.IPs, ", "))).
				Value(&d.ips).Validate(screen(d.validator("host.ips", &d.ips), d.validator("host.hostname", &d.ips))),
		), always, false}}
	case screenVault:
		custody := []huh.Option[string]{huh.NewOption("show   shown once on screen; you record them and type one back", answers.CustodyShow)}
		if d.profile == answers.Demo {
			custody = append([]huh.Option[string]{huh.NewOption("file   kept on this host, encrypted with a passphrase (demo only)", answers.CustodyFile)}, custody...)
		}
		return []formGroup{
			{huh.NewGroup(
				huh.NewInput().Key("shares").Title("Key shares (1-10)").
					Description("Vault is locked at every start; unseal key shares unlock it. Give them to different people.").
					Value(&d.shares).Validate(d.validator("vault.key_shares", &d.shares)).CharLimit(2),
				huh.NewInput().Key("threshold").Title("Shares needed to unseal").
					Value(&d.threshold).Validate(d.validator("vault.key_threshold", &d.threshold)).CharLimit(2),
				huh.NewSelect[string]().Key("custody").Title("Key custody").Options(custody...).Value(&d.custody).
					Validate(screen(d.validator("vault.custody", &d.custody),
						problemsOf(func() []string {
							return append(d.problems("vault.key_shares"), d.problems("vault.key_threshold")...)
						}))),
			), always, false},
			{huh.NewGroup(
				huh.NewInput().Key("passphrase").Title("Custody file passphrase (12 or more characters)").
					Description("Needed to unseal after a reboot. It is not stored anywhere.").
					EchoMode(secret).Value(&d.passphrase).
					Validate(d.validator("vault.passphrase", &d.passphrase)),
				huh.NewInput().Key("repeat").Title("Repeat the passphrase").
					EchoMode(secret).Value(&d.repeat).
					Validate(d.validator("vault.passphrase_repeat", &d.repeat)),
			).WithHideFunc(func() bool { return d.custody != answers.CustodyFile }),
				func() bool { return d.custody == answers.CustodyFile }, true},
		}
	case screenCerts:
		return []formGroup{
			{huh.NewGroup(
				huh.NewSelect[string]().Key("source").Title("Where do the certificates come from?").
					Options(
						huh.NewOption("generate  the installer's own CA, limited to this stack's names", answers.CertGenerate),
						huh.NewOption("import    your CA, and/or a public certificate for the gateway", answers.CertImport),
					).Value(&d.certSource),
			), always, false},
			{huh.NewGroup(
				// The files are checked together, as the install checks
				// them (a CA need not permit the names of an imported
				// gateway certificate), so no field holds the person back:
				// the last one keeps the screen open while one is refused.
				huh.NewInput().Key("ca_cert").Title("CA certificate file (PEM; empty to skip)").Value(&d.caCert),
				huh.NewInput().Key("ca_key").Title("CA key file").Value(&d.caKey),
				huh.NewInput().Key("gateway_chain").Title("Gateway certificate chain file (PEM; empty to skip)").Value(&d.gwChain),
				huh.NewInput().Key("gateway_key").Title("Gateway key file").Value(&d.gwKey).
					Validate(screen(nothing, problemsOf(hooks.certs))),
			).WithHideFunc(func() bool { return d.certSource != answers.CertImport }),
				func() bool { return d.certSource == answers.CertImport }, false},
		}
	case screenNetwork:
		var fields []huh.Field
		for i, role := range segmentRoles {
			v := d.validator("network."+role+".subnet", &d.subnets[i])
			if i == len(segmentRoles)-1 {
				v = screen(v, problemsOf(func() []string { return d.networkProblems(host.Taken) }))
			}
			fields = append(fields, huh.NewInput().Key(role).Inline(true).
				Title(fmt.Sprintf("%-11s", role)).
				Value(&d.subnets[i]).Validate(v))
		}
		return []formGroup{{huh.NewGroup(fields...), always, false}}
	case screenServices:
		var opts []huh.Option[string]
		for _, g := range answers.Groups {
			if g == answers.GroupCore {
				continue
			}
			label := fmt.Sprintf("%-11s %-42s %s", g, groupDescriptions[g], mib(assets.GroupMemoryMiB(g, d.profile)))
			opts = append(opts, huh.NewOption(label, g))
		}
		return []formGroup{{huh.NewGroup(
			huh.NewMultiSelect[string]().Key("groups").Title("Optional service groups (space to select)").
				// Options before Value: pre-selected options would scroll
				// the list to the first of them and hide the ones above.
				// The height is the title and every option: without one,
				// huh counts the title against the options and shows one
				// option too few.
				Options(opts...).Value(&d.optional).Filterable(false).Height(len(opts) + 1),
		), always, false}}
	}
	return nil
}

// buildForm makes the huh form of the current screen.
func (m *wizardModel) buildForm() *huh.Form {
	fgs := groupsFor(m.screen, m.d, m.opts.Host, formHooks{certs: m.certScreenProblems, cross: true})
	gs := make([]*huh.Group, len(fgs))
	for i, g := range fgs {
		gs[i] = g.group
	}
	return huh.NewForm(gs...).WithShowHelp(false).WithTheme(m.st.Form).WithKeyMap(m.formKeys)
}

// certScreenProblems is everything that keeps the certificates screen open.
func (m *wizardModel) certScreenProblems() []string { return m.problemsOn(screenCerts) }

func detected(v string) string {
	if v == "" {
		return ""
	}
	return " Detected: " + v + "."
}

func firstProblem(ps []string) error {
	if len(ps) == 0 {
		return nil
	}
	return fieldError(ps[0])
}

// mib formats a memory size for people.
func mib(n int) string {
	if n >= 1024 {
		return fmt.Sprintf("%.1f GiB", float64(n)/1024)
	}
	return fmt.Sprintf("%d MiB", n)
}
