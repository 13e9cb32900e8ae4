package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
)

func newAuditCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show and verify the record of every command that changed the installation",
		Long: `Every command that changes the installation (install, unseal, certs rotate,
backup, restore, tenants, demo, uninstall) appends one entry to
INSTALL_DIR/` + installation.Relative().AuditLogFile() + `: when, which host user, the command and its
arguments (values of secret-bearing flags are never recorded), what it
changed, the result, and the SHA-256 of the previous entry.`,
		Args: noArgs,
	}
	cmd.AddCommand(newAuditShowCmd(a), newAuditVerifyCmd(a))
	return cmd
}

// auditEntryRecord is one entry in JSON (audit show).
type auditEntryRecord = audit.Recorded

// auditVerifyDoc is the result of audit verify in JSON.
type auditVerifyDoc struct {
	OK       bool        `json:"ok"`
	Entries  int         `json:"entries"`
	Head     audit.Head  `json:"head"`
	Expected *audit.Head `json:"expected_head,omitempty"`
	// VaultVersions is the number of heads kept in Vault that the log
	// was compared with.
	VaultVersions int             `json:"vault_versions,omitempty"`
	Problems      []audit.Problem `json:"problems"`
}

// readAuditLog reads the installation's audit log; --dir must name an
// installation.
func readAuditLog(a *app) ([]byte, error) {
	ok, err := installdir.Exists(a.dir)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	if !ok {
		return nil, usageError("%s is not an installation: name one with --dir", a.dir)
	}
	data, err := audit.Read(a.dir)
	if err != nil {
		return nil, withCode(ExitFailed, err)
	}
	return data, nil
}

func newAuditShowCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "show",
		Short: "List the audit log's entries",
		Example: `  fineract-installer audit show
  fineract-installer audit show -o json | jq 'select(.entry.changed)'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			data, err := readAuditLog(a)
			if err != nil {
				return err
			}
			rep := audit.Verify(data, nil)
			p := a.printer()
			for _, r := range rep.Entries {
				if p.json() {
					if err := p.record(typeAuditEntry, auditEntryRecord(r)); err != nil {
						return err
					}
					continue
				}
				fmt.Fprintln(a.io.Out, describeEntry(r.Entry))
			}
			if !p.json() {
				if len(rep.Entries) == 0 {
					fmt.Fprintln(a.io.Out, "The audit log has no entries yet.")
				} else {
					fmt.Fprintf(a.io.Out, "head: entry %d, %s\n", rep.Head.Seq, rep.Head.Hash)
				}
				if !rep.OK() {
					fmt.Fprintf(a.io.Out, "%s the log does not verify: run `fineract-installer audit verify`\n", p.bad.Render("✗"))
				}
			}
			return nil
		},
	}
}

// describeEntry is one entry in a line of text.
func describeEntry(e audit.Entry) string {
	var b strings.Builder
	who := e.User.Name
	if who == "" {
		who = "uid " + strconv.Itoa(e.User.UID)
	}
	if e.User.SudoUser != "" {
		who += " (sudo " + e.User.SudoUser + ")"
	}
	fmt.Fprintf(&b, "%4d  %s  %s  %s", e.Seq, e.Time.UTC().Format("2006-01-02T15:04:05Z"), who, e.Command)
	if len(e.Args) > 0 {
		b.WriteString(" " + strings.Join(e.Args, " "))
	}
	fmt.Fprintf(&b, "  %s", e.Result)
	if e.Cause != "" {
		fmt.Fprintf(&b, " (%s)", e.Cause)
	}
	if !e.Changed {
		b.WriteString("; nothing changed")
		return b.String()
	}
	var cs []string
	for _, c := range e.Changes {
		s := c.Resource + " " + c.Subject + " " + c.Action
		if c.Failed {
			s += " (failed)"
		}
		cs = append(cs, s)
	}
	b.WriteString("; changed: " + strings.Join(cs, ", "))
	return b.String()
}

// parseHead reads a head as audit verify prints it: SEQ:HASH.
func parseHead(s string) (*audit.Head, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil || n == 0 || len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return nil, usageError("--expect-head %q: want SEQ:HASH as `audit verify` prints it (e.g. 12:3f5c…, 64 lower-case hex digits)", s)
	}
	return &audit.Head{Seq: n, Hash: hash}, nil
}

func newAuditVerifyCmd(a *app) *cobra.Command {
	var expect string
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that no entry of the audit log was edited, deleted, inserted, reordered or cut off",
		Long: `Check the audit log's hash chain: every line an entry, sequence numbers from 1
without gap, repeat or reordering, and every entry holding the hash of the
one before it. Each problem names the line and the entry.

The chain alone cannot show entries cut off the end, a rewritten last
entry, or a log rewritten from scratch. Where the installation keeps its
head in Vault (a version per entry, written with a token that cannot
remove versions), every head Vault kept must still be in the chain, with
its hash. A head kept elsewhere (printed by an earlier verify, kept in a
ticket or by the auditors) is compared with --expect-head SEQ:HASH.
Exit 1 when the log does not verify.`,
		Example: `  fineract-installer audit verify
  fineract-installer audit verify --expect-head 12:3f5c0a…`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var kept *audit.Head
			if expect != "" {
				var err error
				if kept, err = parseHead(expect); err != nil {
					return err
				}
			}
			data, err := readAuditLog(a)
			if err != nil {
				return err
			}
			rep := audit.Verify(data, kept)
			vc := checkVaultHeads(cmd.Context(), a, &rep)
			p := a.printer()
			if p.json() {
				doc := auditVerifyDoc{OK: rep.OK(), Entries: len(rep.Entries), Head: rep.Head, Expected: kept, VaultVersions: vc.Versions, Problems: rep.Problems}
				if doc.Problems == nil {
					doc.Problems = []audit.Problem{}
				}
				if err := p.record(typeAuditVerify, doc); err != nil {
					return err
				}
			} else {
				for _, pr := range rep.Problems {
					mark := p.bad.Render("✗")
					if !pr.Tampering() {
						mark = p.warn.Render("!")
					}
					fmt.Fprintf(a.io.Out, "%s %s: %s\n", mark, pr.Kind, pr.Detail)
				}
				switch {
				case !rep.OK():
					fmt.Fprintf(a.io.Out, "The audit log was changed after it was written (%d entries read). Keep the file as it is for review.\n", len(rep.Entries))
				case len(rep.Entries) == 0:
					fmt.Fprintln(a.io.Out, "The audit log has no entries yet.")
				default:
					fmt.Fprintf(a.io.Out, "%s %d entries, chain intact; head %d:%s\n", p.ok.Render("✓"), len(rep.Entries), rep.Head.Seq, rep.Head.Hash)
					switch {
					case vc.Versions > 0:
						fmt.Fprintf(a.io.Out, "  every one of the %d heads kept in Vault is in the chain\n", vc.Versions)
					case kept == nil && !vc.Kept:
						fmt.Fprintln(a.io.Out, "  entries cut off the end cannot be seen without a head kept elsewhere: keep this head and pass it with --expect-head next time")
					}
				}
			}
			if !rep.OK() {
				return &silentError{code: ExitFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&expect, "expect-head", "", "`SEQ:HASH` of a head kept elsewhere that the log must still lead through")
	return cmd
}
