package vault

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/passphrase"
)

// Environment of the child process that initialises and is then killed.
const (
	childEnvAddr   = "STEPS_VAULT_CHILD_ADDR"
	childEnvCA     = "STEPS_VAULT_CHILD_CA"
	childEnvRecord = "STEPS_VAULT_CHILD_RECORD"
	childReadyLine = "INIT-RETURNED-KEYS"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnvAddr) != "" {
		os.Exit(initThenHang())
	}
	if os.Getenv(attackEnvDir) != "" {
		os.Exit(swapLinks())
	}
	// Runs the tests, then stops the lab control plane if one started.
	labtest.KubeMain(m)
}

// initThenHang is the child: it initialises Vault and, inside the custody
// action (the keys exist only in its memory), says so and waits to be
// killed.
func initThenHang() int {
	ca, err := os.ReadFile(os.Getenv(childEnvCA))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	c, err := Connect(Config{Address: os.Getenv(childEnvAddr), CACertPEM: ca})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	store := FileRecordStore{Path: os.Getenv(childEnvRecord)}
	_, err = c.Initialize(context.Background(), ProductionInit(), store, func(_ context.Context, r *InitResult) error {
		// The shares as the operator may have seen them on screen.
		for _, k := range r.Keys {
			fmt.Println("SHARE " + k)
		}
		fmt.Println(childReadyLine)
		select {} // killed here, before custody completes
	}, nil)
	fmt.Fprintln(os.Stderr, "child: Initialize returned:", err)
	return 1
}

func TestKilledRightAfterInitStopsRerun(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, v.pki.caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	store := FileRecordStore{Path: filepath.Join(dir, "vault-record.json")}

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childEnvAddr+"="+c.Address(), childEnvCA+"="+caFile, childEnvRecord+"="+store.Path)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	var seen []string // written by the scanner goroutine before it signals ready
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if share, ok := strings.CutPrefix(sc.Text(), "SHARE "); ok {
				seen = append(seen, share)
			}
			if sc.Text() == childReadyLine {
				ready <- true
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			_ = child.Wait()
			t.Fatal("the child exited without initialising Vault")
		}
	case <-time.After(60 * time.Second):
		_ = child.Process.Kill()
		t.Fatal("the child did not initialise Vault within 60s")
	}
	if err := child.Process.Kill(); err != nil { // SIGKILL: no cleanup, no deferred saves
		t.Fatal(err)
	}
	_ = child.Wait()

	st, err := c.Status(ctx)
	if err != nil || st.State != StateSealed {
		t.Fatalf("after the killed init: state %v err %v, want initialised and sealed", st.State, err)
	}
	rec, err := store.Load(ctx)
	if err != nil || rec.InitStartedAt.IsZero() || rec.SharesRecorded() {
		t.Fatalf("record after the kill = %+v %v; want init started, shares not recorded", rec, err)
	}
	digest := v.storageDigest()

	custodyCalled := false
	for range 2 { // a second rerun must say the same
		res, err := c.Initialize(ctx, ProductionInit(), store, func(context.Context, *InitResult) error {
			custodyCalled = true
			return nil
		}, nil)
		var unrec *UnrecordedInitError
		if !errors.As(err, &unrec) || res != nil {
			t.Fatalf("rerun after the kill: res %v err %v; want UnrecordedInitError", res, err)
		}
		msg := err.Error()
		for _, want := range []string{"already initialised", "stopped before the key shares were recorded", "will not re-initialise", "What you can do"} {
			if !strings.Contains(msg, want) {
				t.Errorf("explanation lacks %q:\n%s", want, msg)
			}
		}
	}
	if custodyCalled {
		t.Error("custody ran on a rerun")
	}
	if got := v.storageDigest(); got != digest {
		t.Error("Vault's storage changed during the refused reruns")
	}
	if st, _ := c.Status(ctx); st.State != StateSealed || st.Shares != 5 {
		t.Errorf("Vault state changed: %+v", st)
	}

	// Way out (1): the operator did write the shares down. Marking them
	// recorded is refused until they are proven by unsealing.
	if err := c.MarkSharesRecorded(ctx, store, "show"); err == nil {
		t.Fatal("MarkSharesRecorded accepted a sealed Vault")
	}
	unsealAll(t, c, seen[1:4])
	if err := c.MarkSharesRecorded(ctx, store, "show"); err != nil {
		t.Fatal(err)
	}
	if res, err := c.Initialize(ctx, ProductionInit(), store, nil, nil); err != nil || res != nil {
		t.Fatalf("Initialize after the shares were marked recorded: %v %v", res, err)
	}
}

func TestWrongShareKeepsProgressAndReset(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)
	res := initProduction(t, c, FileRecordStore{Path: filepath.Join(t.TempDir(), "r.json")})
	rec := &recorder{}
	u := c.NewUnsealer(rec.emitter())

	mustProgress := func(st Status, want int) {
		t.Helper()
		if st.State != StateSealed || st.Progress != want {
			t.Fatalf("state %v progress %d, want sealed with progress %d", st.State, st.Progress, want)
		}
		if live, err := c.Status(ctx); err != nil || live.Progress != want {
			t.Fatalf("Vault reports progress %d (%v), want %d", live.Progress, err, want)
		}
	}

	st, err := u.Submit(ctx, res.Keys[0])
	if err != nil {
		t.Fatal(err)
	}
	mustProgress(st, 1)

	st, err = u.Reset(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mustProgress(st, 0)

	st, err = u.Submit(ctx, res.Keys[0])
	if err != nil {
		t.Fatal(err)
	}
	mustProgress(st, 1)

	for _, bad := range []string{"not-a-share", "", base64.StdEncoding.EncodeToString([]byte("short"))} {
		st, err = u.Submit(ctx, bad)
		var mal *MalformedShareError
		if !errors.As(err, &mal) {
			t.Fatalf("malformed share %q: err %v, want MalformedShareError", bad, err)
		}
		mustProgress(st, 1)
	}
	st, err = u.Submit(ctx, res.Keys[0])
	if !errors.Is(err, ErrDuplicateShare) {
		t.Fatalf("duplicate share: err %v", err)
	}
	mustProgress(st, 1)

	// A well-formed share from nowhere: Vault cannot tell until threshold.
	wrong := make([]byte, 33)
	if _, err := rand.Read(wrong); err != nil {
		t.Fatal(err)
	}
	st, err = u.Submit(ctx, base64.StdEncoding.EncodeToString(wrong))
	if err != nil {
		t.Fatal(err)
	}
	mustProgress(st, 2)
	st, err = u.Submit(ctx, res.Keys[1])
	var ws *WrongShareError
	if !errors.As(err, &ws) || ws.Threshold != 3 {
		t.Fatalf("threshold with a wrong share: err %v, want WrongShareError", err)
	}
	if st.State != StateSealed {
		t.Fatalf("state %v after a failed combination", st.State)
	}
	// One more good share: the unsealer retries with the kept shares.
	st, err = u.Submit(ctx, res.Keys[2])
	if err != nil || st.State != StateUnsealed {
		t.Fatalf("after one more share: state %v err %v, want unsealed", st.State, err)
	}
}

func TestDemoCustodyUnattendedUnseal(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)
	dir := t.TempDir()
	custodyPath := filepath.Join(dir, "vault-keys.enc")
	pass := []byte("classroom passphrase 42")
	store := FileRecordStore{Path: filepath.Join(dir, "r.json")}

	res, err := c.Initialize(ctx, DemoInit(), store, FileCustody(custodyPath, pass), nil)
	if err != nil || res == nil || len(res.Keys) != 1 {
		t.Fatalf("demo init: %+v %v", res, err)
	}
	if fi, err := os.Stat(custodyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("custody file: %v %v", fi, err)
	}
	if _, err := ReadCustodyFile(custodyPath, []byte("wrong passphrase!")); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("wrong passphrase: err %v", err)
	}

	// Unattended: passphrase from the environment, shares from the file.
	t.Setenv("TEST_VAULT_CUSTODY_PASSPHRASE", string(pass))
	p, err := passphrase.Source{What: "custody passphrase", Env: "TEST_VAULT_CUSTODY_PASSPHRASE"}.Existing()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := ReadCustodyFile(custodyPath, p)
	if err != nil {
		t.Fatal(err)
	}
	unsealAll(t, c, keys.Keys)
	if err := c.Configure(ctx, res.RootToken, DefaultAuditDevices(), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.RevokeRoot(ctx, res.RootToken, store, nil); err != nil {
		t.Fatal(err)
	}

	c = v.restart()
	unsealAll(t, c, keys.Keys)
	var leaked string
	err = c.WithRootToken(ctx, keys.Keys, nil, func(ctx context.Context, root string) error {
		leaked = root
		_, err := c.EnsureSecrets(ctx, root, testSpecs, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := c.withToken(leaked)
	if _, err := cl.Auth().Token().LookupSelfWithContext(ctx); !isForbidden(err) {
		t.Fatalf("the temporary root token still works after WithRootToken: %v", err)
	}
}
