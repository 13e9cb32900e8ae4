package vault

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// headSetup sets up a lab Vault as the install does, keeping the audit
// head token in dir, and returns the options to run Setup again.
func headSetup(t *testing.T, v *labVault, dir string) (*Conn, SetupOptions) {
	t.Helper()
	keysFile := filepath.Join(dir, "vault-keys.enc")
	pass := []byte("audit head passphrase")
	opts := SetupOptions{
		Init:               DemoInit(),
		Custody:            FileCustody(keysFile, pass),
		Store:              FileRecordStore{Path: filepath.Join(dir, "record.json")},
		Shares:             CustodyFileShares(keysFile, pass),
		Audit:              DefaultAuditDevices(),
		Secrets:            testSpecs,
		AuditHeadTokenFile: installation.New(dir, "").AuditHeadTokenFile(),
	}
	if err := os.MkdirAll(filepath.Dir(opts.AuditHeadTokenFile), 0o700); err != nil {
		t.Fatal(err)
	}
	c := v.conn()
	rec := &recorder{}
	if err := c.Setup(testCtx(t), opts, rec.emitter()); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	if !strings.Contains(messages(rec.take()), "audit log's head") {
		t.Error("Setup did not report making the audit head token")
	}
	return c, opts
}

// appendKept appends an entry for command to the log in dir and keeps
// its head in Vault.
func appendKept(t *testing.T, c *Conn, token, dir, command string) audit.Head {
	t.Helper()
	h, err := audit.Append(dir, audit.Entry{Time: time.Now().UTC(), Command: command, Args: []string{}, Result: audit.ResultOK})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.KeepAuditHead(testCtx(t), token, h); err != nil {
		t.Fatalf("keeping head %d in Vault: %v", h.Seq, err)
	}
	return h
}

// verifyAgainstVault verifies log against every head Vault kept.
func verifyAgainstVault(t *testing.T, c *Conn, token string, log []byte) audit.Report {
	t.Helper()
	h, err := c.AuditHeads(testCtx(t), token)
	if err != nil {
		t.Fatalf("reading the heads kept in Vault: %v", err)
	}
	rep := audit.Verify(log, nil)
	rep.CheckKept(h)
	return rep
}

// wantProblem fails unless rep names a problem of kind whose detail
// holds every one of parts.
func wantProblem(t *testing.T, what string, rep audit.Report, kind string, parts ...string) {
	t.Helper()
	for _, p := range rep.Problems {
		if p.Kind != kind {
			continue
		}
		ok := true
		for _, s := range parts {
			ok = ok && strings.Contains(p.Detail, s)
		}
		if ok {
			if rep.OK() == (kind == audit.ProblemUnconfirmed) {
				return
			}
			t.Errorf("%s: report OK()=%v with problem %s", what, rep.OK(), kind)
			return
		}
	}
	t.Errorf("%s: no %s problem naming %q; problems: %+v", what, kind, parts, rep.Problems)
}

func TestAuditHeadKeptInVaultShowsTamperingTheChainCannot(t *testing.T) {
	v := startLabVault(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	c, opts := headSetup(t, v, dir)
	fi, err := os.Lstat(opts.AuditHeadTokenFile)
	if err != nil || fi.Mode().Perm() != 0o600 || !fi.Mode().IsRegular() {
		t.Fatalf("head token file: %v %v, want a regular file of mode 0600", fi, err)
	}
	token, err := ReadAuditHeadToken(opts.AuditHeadTokenFile)
	if err != nil {
		t.Fatal(err)
	}

	logDir := t.TempDir()
	var heads []audit.Head
	for _, cmd := range []string{"install", "backup", "certs rotate"} {
		heads = append(heads, appendKept(t, c, token, logDir, cmd))
	}
	kept, err := c.AuditHeads(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept.Versions) != len(heads) {
		t.Fatalf("Vault keeps %d versions of the head, want one per entry (%d): %+v", len(kept.Versions), len(heads), kept)
	}
	for i, h := range heads {
		if kept.Versions[i].Head != h || kept.Versions[i].Version != i+1 {
			t.Errorf("version %d kept %+v, want head %+v", i+1, kept.Versions[i], h)
		}
	}
	log, err := audit.Read(logDir)
	if err != nil {
		t.Fatal(err)
	}
	if rep := verifyAgainstVault(t, c, token, log); len(rep.Problems) != 0 {
		t.Fatalf("the untouched log does not verify against Vault: %+v", rep.Problems)
	}

	t.Run("the token cannot remove or change history", func(t *testing.T) {
		cl, err := c.withToken(token)
		if err != nil {
			t.Fatal(err)
		}
		key := KVMount + "/%s/" + AuditHeadKey
		attempts := []struct {
			what string
			do   func() error
		}{
			{"soft-delete the latest version", func() error {
				_, err := cl.Logical().DeleteWithContext(ctx, strings.Replace(key, "%s", "data", 1))
				return err
			}},
			{"delete versions", func() error {
				_, err := cl.Logical().WriteWithContext(ctx, strings.Replace(key, "%s", "delete", 1), map[string]interface{}{"versions": []int{1, 2}})
				return err
			}},
			{"destroy versions", func() error {
				_, err := cl.Logical().WriteWithContext(ctx, strings.Replace(key, "%s", "destroy", 1), map[string]interface{}{"versions": []int{1}})
				return err
			}},
			{"undelete versions", func() error {
				_, err := cl.Logical().WriteWithContext(ctx, strings.Replace(key, "%s", "undelete", 1), map[string]interface{}{"versions": []int{1}})
				return err
			}},
			{"lower max_versions", func() error {
				_, err := cl.Logical().WriteWithContext(ctx, strings.Replace(key, "%s", "metadata", 1), map[string]interface{}{"max_versions": 1})
				return err
			}},
			{"delete the key and all versions", func() error {
				_, err := cl.Logical().DeleteWithContext(ctx, strings.Replace(key, "%s", "metadata", 1))
				return err
			}},
			{"read a service secret", func() error {
				_, err := cl.Logical().ReadWithContext(ctx, KVMount+"/data/services/keycloak")
				return err
			}},
		}
		for _, a := range attempts {
			err := a.do()
			var re *api.ResponseError
			if !errors.As(err, &re) || re.StatusCode != 403 {
				t.Errorf("%s with the head token: got %v, want permission denied (403)", a.what, err)
			}
		}
		after, err := c.AuditHeads(ctx, token)
		if err != nil || len(after.Versions) != len(heads) || after.Versions[0].Head != heads[0] {
			t.Errorf("the history changed after the refused attempts: %+v %v", after, err)
		}
	})

	t.Run("the installer token of a ceremony cannot remove it either", func(t *testing.T) {
		keys, err := ReadCustodyFile(filepath.Join(dir, "vault-keys.enc"), []byte("audit head passphrase"))
		if err != nil {
			t.Fatal(err)
		}
		err = c.WithInstallerToken(ctx, keys.Keys, nil, func(ctx context.Context, installer string) error {
			cl, err := c.withToken(installer)
			if err != nil {
				return err
			}
			for _, p := range []string{"data", "metadata"} {
				_, err := cl.Logical().DeleteWithContext(ctx, KVMount+"/"+p+"/"+AuditHeadKey)
				var re *api.ResponseError
				if !errors.As(err, &re) || re.StatusCode != 403 {
					t.Errorf("deleting %s/%s/%s with the installer token: got %v, want permission denied (403)", KVMount, p, AuditHeadKey, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	lines := bytes.SplitAfter(log, []byte("\n"))
	lines = lines[:len(lines)-1] // the empty rest after the last newline

	t.Run("a log rewritten with fresh hashes", func(t *testing.T) {
		other := t.TempDir()
		for _, cmd := range []string{"install", "backup", "certs rotate"} {
			if _, err := audit.Append(other, audit.Entry{Time: time.Now().UTC().Add(time.Hour), Command: cmd, Args: []string{}, Result: audit.ResultOK}); err != nil {
				t.Fatal(err)
			}
		}
		forged, err := audit.Read(other)
		if err != nil {
			t.Fatal(err)
		}
		if rep := audit.Verify(forged, nil); !rep.OK() {
			t.Fatalf("the forged log's own chain should hold: %+v", rep.Problems)
		}
		rep := verifyAgainstVault(t, c, token, forged)
		wantProblem(t, "rewritten log", rep, audit.ProblemRewritten, "Vault kept entry 1 hash "+heads[0].Hash[:16], "(version 1, written ")
	})

	t.Run("entries cut off the end", func(t *testing.T) {
		cut := bytes.Join(lines[:1], nil)
		if rep := audit.Verify(cut, nil); !rep.OK() {
			t.Fatalf("the cut log's own chain should hold: %+v", rep.Problems)
		}
		rep := verifyAgainstVault(t, c, token, cut)
		wantProblem(t, "truncated log", rep, audit.ProblemTruncated, "the file ends at entry 1 but Vault kept entry 3 (version 3, written ", "entries 2 to 3 are missing from the end")
	})

	t.Run("the last entry rewritten", func(t *testing.T) {
		last := bytes.Replace(lines[2], []byte(`"command":"certs rotate"`), []byte(`"command":"certs rotatf"`), 1)
		edited := append(bytes.Join(lines[:2], nil), last...)
		if rep := audit.Verify(edited, nil); !rep.OK() {
			t.Fatalf("the edited log's own chain should hold: %+v", rep.Problems)
		}
		rep := verifyAgainstVault(t, c, token, edited)
		wantProblem(t, "rewritten last entry", rep, audit.ProblemRewritten, "Vault kept entry 3 hash "+heads[2].Hash[:16], "the file's entry 3 at line 3 hashes to "+audit.Hash(bytes.TrimSuffix(last, []byte("\n")))[:16])
	})

	t.Run("a forged newer head does not hide a cut", func(t *testing.T) {
		// Whoever reads the token can add a version naming the cut log's
		// head; the earlier versions still name the entries cut off.
		cut := bytes.Join(lines[:2], nil)
		forged := audit.Verify(cut, nil).Head
		if err := c.KeepAuditHead(ctx, token, forged); err != nil {
			t.Fatal(err)
		}
		rep := verifyAgainstVault(t, c, token, cut)
		wantProblem(t, "cut log with a forged newer head", rep, audit.ProblemTruncated, "the file ends at entry 2 but Vault kept entry 3")
		// The genuine log goes on from here: its head is written again.
		if err := c.KeepAuditHead(ctx, token, heads[2]); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("a sealed Vault defers the head and a later entry catches up", func(t *testing.T) {
		c = v.restart() // Vault comes back sealed
		h, err := audit.Append(logDir, audit.Entry{Time: time.Now().UTC(), Command: "backup", Args: []string{}, Result: audit.ResultOK})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.KeepAuditHead(ctx, token, h); err == nil {
			t.Fatal("keeping a head in a sealed Vault did not fail")
		}
		// Unsealing is a key holders' ceremony: the head token still
		// works, so it is kept, not replaced.
		if err := c.Setup(ctx, opts, nil); err != nil {
			t.Fatalf("Setup after the reboot: %v", err)
		}
		again, err := ReadAuditHeadToken(opts.AuditHeadTokenFile)
		if err != nil || again != token {
			t.Fatalf("the ceremony replaced a working head token (%v)", err)
		}
		log, err := audit.Read(logDir)
		if err != nil {
			t.Fatal(err)
		}
		rep := verifyAgainstVault(t, c, token, log)
		wantProblem(t, "entry written while sealed", rep, audit.ProblemUnconfirmed, "head not kept in Vault since entry 3", "entry 4 is not confirmed")
		appendKept(t, c, token, logDir, "unseal")
		if log, err = audit.Read(logDir); err != nil {
			t.Fatal(err)
		}
		if rep := verifyAgainstVault(t, c, token, log); len(rep.Problems) != 0 {
			t.Errorf("after the next entry the head should cover the log: %+v", rep.Problems)
		}
	})
}

// A ceremony finding the head token dead (expired or revoked) makes a new
// one, and the history kept with the old one stays.
func TestCeremonyReplacesADeadAuditHeadToken(t *testing.T) {
	v := startLabVault(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	c, opts := headSetup(t, v, dir)
	old, err := ReadAuditHeadToken(opts.AuditHeadTokenFile)
	if err != nil {
		t.Fatal(err)
	}
	logDir := t.TempDir()
	first := appendKept(t, c, old, logDir, "install")
	// The head token cannot revoke itself (its policy does not allow it):
	// the key holders revoke it.
	if err := c.RevokeToken(ctx, old); err == nil {
		t.Fatal("the head token revoked itself: its policy allows more than adding heads")
	}
	keys, err := ReadCustodyFile(filepath.Join(dir, "vault-keys.enc"), []byte("audit head passphrase"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.WithRootToken(ctx, keys.Keys, nil, func(ctx context.Context, root string) error {
		cl, err := c.withToken(root)
		if err != nil {
			return err
		}
		return cl.Auth().Token().RevokeOrphanWithContext(ctx, old)
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.KeepAuditHead(ctx, old, first); err == nil {
		t.Fatal("a revoked head token still writes")
	}
	if err := c.Setup(ctx, opts, nil); err != nil {
		t.Fatalf("Setup rerun (a ceremony): %v", err)
	}
	fresh, err := ReadAuditHeadToken(opts.AuditHeadTokenFile)
	if err != nil || fresh == old {
		t.Fatalf("the ceremony did not replace the dead head token (%v)", err)
	}
	second := appendKept(t, c, fresh, logDir, "backup")
	h, err := c.AuditHeads(ctx, fresh)
	if err != nil || len(h.Versions) != 2 || h.Versions[0].Head != first || h.Versions[1].Head != second {
		t.Fatalf("history across tokens: %+v %v", h, err)
	}

	// The key holders can erase the whole history: that is named, not
	// taken for a log whose head was never kept.
	if err := c.WithRootToken(ctx, keys.Keys, nil, func(ctx context.Context, root string) error {
		cl, err := c.withToken(root)
		if err != nil {
			return err
		}
		_, err = cl.Logical().DeleteWithContext(ctx, KVMount+"/metadata/"+AuditHeadKey)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	log, err := audit.Read(logDir)
	if err != nil {
		t.Fatal(err)
	}
	rep := verifyAgainstVault(t, c, fresh, log)
	wantProblem(t, "erased history", rep, audit.ProblemHistoryCut, "Vault holds no record of the audit head at all")
}
