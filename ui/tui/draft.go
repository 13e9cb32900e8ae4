package tui

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// draft is what the wizard's fields edit: the answers as the text a person
// types, plus the demo custody passphrase, which is a secret and therefore
// never part of the answers. The forms bind to its fields by pointer, so a
// draft lives behind one pointer for the whole wizard.
type draft struct {
	base       answers.Answers // fields no screen edits (gateway, install dir, images)
	profile    answers.Profile
	hostname   string
	ips        string
	shares     string
	threshold  string
	custody    string
	passphrase string
	repeat     string
	certSource string
	caCert     string
	caKey      string
	gwChain    string
	gwKey      string
	subnets    [4]string // in segmentRoles order
	optional   []string  // selected groups other than core
}

// segmentRoles is the order of the four networks on screen and in answers.
var segmentRoles = [4]string(installation.NetworkRoles())

func newDraft(a answers.Answers) *draft {
	d := &draft{base: a}
	d.load(a)
	return d
}

// load copies answers into the fields.
func (d *draft) load(a answers.Answers) {
	d.profile = a.Profile
	d.hostname = a.Host.Hostname
	d.ips = strings.Join(a.Host.IPs, ", ")
	d.shares = strconv.Itoa(a.Vault.KeyShares)
	d.threshold = strconv.Itoa(a.Vault.KeyThreshold)
	d.custody = a.Vault.Custody
	d.certSource = a.Certificates.Source
	d.caCert, d.caKey = a.Certificates.CACert, a.Certificates.CAKey
	d.gwChain, d.gwKey = a.Certificates.GatewayChain, a.Certificates.GatewayKey
	segs := a.Network.Segments()
	for i, role := range segmentRoles {
		d.subnets[i] = segs[role].Subnet
	}
	d.optional = nil
	for _, g := range a.Groups {
		if g != answers.GroupCore {
			d.optional = append(d.optional, g)
		}
	}
}

// applyProfile resets what a profile decides (Vault key sharing and the
// default service groups) after the profile changed.
func (d *draft) applyProfile(p answers.Profile) {
	def := answers.Defaults(p)
	d.profile = p
	d.shares = strconv.Itoa(def.Vault.KeyShares)
	d.threshold = strconv.Itoa(def.Vault.KeyThreshold)
	d.custody = def.Vault.Custody
	d.passphrase, d.repeat = "", ""
	d.optional = nil
	for _, g := range def.Groups {
		if g != answers.GroupCore {
			d.optional = append(d.optional, g)
		}
	}
}

// answers converts the fields; text that is not a number becomes 0, which
// validation reports.
func (d *draft) answers() answers.Answers {
	a := d.base
	if d.profile != d.base.Profile {
		// Archiving is a profile default: production on, demo off.
		a.Backup.WALArchiving = answers.Defaults(d.profile).Backup.WALArchiving
	}
	a.Profile = d.profile
	a.Host.Hostname = strings.TrimSpace(d.hostname)
	a.Host.IPs = splitList(d.ips)
	a.Vault.KeyShares = atoi(d.shares)
	a.Vault.KeyThreshold = atoi(d.threshold)
	a.Vault.Custody = d.custody
	a.Certificates = answers.Certificates{Source: d.certSource}
	if d.certSource == answers.CertImport {
		a.Certificates.CACert, a.Certificates.CAKey = strings.TrimSpace(d.caCert), strings.TrimSpace(d.caKey)
		a.Certificates.GatewayChain, a.Certificates.GatewayKey = strings.TrimSpace(d.gwChain), strings.TrimSpace(d.gwKey)
	}
	segs := []*answers.Segment{&a.Network.DMZ, &a.Network.App, &a.Network.Data, &a.Network.Monitoring}
	for i, s := range segs {
		s.Subnet = strings.TrimSpace(d.subnets[i])
		if s.Name == "" {
			s.Name = segmentRoles[i]
		}
	}
	a.Groups = []string{answers.GroupCore}
	for _, g := range answers.Groups {
		if g != answers.GroupCore && slices.Contains(d.optional, g) {
			a.Groups = append(a.Groups, g)
		}
	}
	return a
}

// problems returns the validation messages for one answers path (such as
// "vault.key_threshold"), using the same rules as an answers file. It does
// no I/O: the certificate files are checked separately, off the UI loop.
func (d *draft) problems(path string) []string {
	var out []string
	switch path {
	case "vault.key_shares":
		if _, err := strconv.Atoi(strings.TrimSpace(d.shares)); err != nil {
			return []string{"vault.key_shares must be a whole number between 1 and 10"}
		}
	case "vault.key_threshold":
		if _, err := strconv.Atoi(strings.TrimSpace(d.threshold)); err != nil {
			return []string{"vault.key_threshold must be a whole number"}
		}
	case "vault.passphrase", "vault.passphrase_repeat":
		return passphraseProblems(d.custody, d.passphrase, d.repeat, path == "vault.passphrase_repeat")
	}
	a := d.answers()
	a.Certificates = answers.Certificates{Source: answers.CertGenerate}
	a.Images = answers.Images{Source: answers.ImagesRegistry}
	err := a.Validate()
	errs, _ := err.(answers.Errors)
	for _, e := range errs {
		if strings.HasPrefix(e.Msg, path) {
			out = append(out, e.Msg)
		}
	}
	return out
}

// passphraseProblems checks the custody passphrase with the installer's
// rule for new passphrases (the one the custody file itself applies), so
// the wizard refuses it before Vault is initialised, not after; withRepeat
// also checks that the second entry matches.
func passphraseProblems(custody, pass, repeat string, withRepeat bool) []string {
	if custody != answers.CustodyFile {
		return nil
	}
	if err := passphrase.CheckNew([]byte(pass)); err != nil {
		return []string{"custody " + err.Error()}
	}
	switch {
	case withRepeat && repeat != pass:
		return []string{"the two passphrases differ; type the same passphrase twice"}
	}
	return nil
}

// validator adapts problems to a huh field validator for the field bound
// to *field: the first message for the path, or nil. The value being
// validated is put in the field for the check (the full-screen form has
// already put it there; a line prompt validates before it stores, and an
// empty line there keeps the value shown as the default).
func (d *draft) validator(path string, field *string) func(string) error {
	return func(v string) error {
		if v == "" {
			v = *field
		}
		return with(field, v, func() error { return firstProblem(d.problems(path)) })
	}
}

// with runs check with *field set to v, then restores the field.
func with(field *string, v string, check func() error) error {
	old := *field
	*field = v
	defer func() { *field = old }()
	return check()
}

// fieldError is a validation message shown under a field.
type fieldError string

func (e fieldError) Error() string { return string(e) }

// clashes lists the overlaps of the draft's subnets with address ranges the
// host already uses, as one message per clash.
func (d *draft) clashes(taken []TakenSubnet) map[int][]string {
	out := map[int][]string{}
	for i, s := range d.subnets {
		p, err := netip.ParsePrefix(strings.TrimSpace(s))
		if err != nil {
			continue
		}
		for _, t := range taken {
			if t.Prefix.Overlaps(p) {
				out[i] = append(out[i], fmt.Sprintf("network.%s.subnet %s overlaps %s (%s), which this host already uses",
					segmentRoles[i], p, t.By, t.Prefix))
			}
		}
	}
	return out
}

// splitList splits a comma- or space-separated list.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0
	}
	return n
}

// networkProblems is every problem with the four networks: the answers'
// rules and clashes with ranges the host uses.
func (d *draft) networkProblems(taken []TakenSubnet) []string {
	var ps []string
	clashes := d.clashes(taken)
	for i, role := range segmentRoles {
		ps = append(ps, d.problems("network."+role)...)
		ps = append(ps, clashes[i]...)
	}
	return ps
}
