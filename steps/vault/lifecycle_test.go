package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/steps/event"
)

var testSpecs = []SecretSpec{
	{Path: "banking/databases/fineract", Keys: []KeySpec{
		{Name: "username", Length: 16, Charset: Alphanumeric},
		{Name: "password", Length: 32, Charset: URLSafe},
	}},
	{Path: "banking/services/keycloak", Keys: []KeySpec{{Name: "admin-password", Length: 40, Charset: Alphanumeric}}},
}

// initProduction initialises with 5/3 and show-and-confirm custody, the
// operator re-entering the share asked for.
func initProduction(t *testing.T, c *Conn, store RecordStore) *InitResult {
	t.Helper()
	var shown *InitResult
	custody := ShowAndConfirm(
		func(_ context.Context, r *InitResult) error { shown = r; return nil },
		func(_ context.Context, i int) (string, error) { return shown.Keys[i], nil },
	)
	res, err := c.Initialize(testCtx(t), ProductionInit(), store, custody, nil)
	if err != nil {
		t.Fatalf("Initialize: %v", err)
	}
	if res == nil || len(res.Keys) != 5 || res.RootToken == "" {
		t.Fatalf("Initialize returned %+v, want 5 shares and a root token", res)
	}
	return res
}

func unsealAll(t *testing.T, c *Conn, keys []string) {
	t.Helper()
	st, err := c.UnsealWithShares(testCtx(t), keys, nil)
	if err != nil || st.State != StateUnsealed {
		t.Fatalf("unseal: state %v, err %v", st.State, err)
	}
}

func TestProductionLifecycle(t *testing.T) {
	v := startLabVault(t)
	c := v.conn()
	ctx := testCtx(t)
	store := FileRecordStore{Path: filepath.Join(t.TempDir(), "vault-record.json")}
	rec := &recorder{}

	st, err := c.Status(ctx)
	if err != nil || st.State != StateUninitialized {
		t.Fatalf("fresh Vault: state %v err %v, want not initialised", st.State, err)
	}

	res := initProduction(t, c, store)
	saved, err := store.Load(ctx)
	if err != nil || !saved.SharesRecorded() || saved.Shares != 5 || saved.Threshold != 3 {
		t.Fatalf("record after init = %+v, %v", saved, err)
	}
	if fi, err := os.Stat(store.Path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record file mode: %v %v", fi, err)
	}

	t.Run("rerun of init does nothing", func(t *testing.T) {
		again, err := c.Initialize(ctx, ProductionInit(), store, func(context.Context, *InitResult) error {
			t.Fatal("custody called on rerun")
			return nil
		}, nil)
		if err != nil || again != nil {
			t.Fatalf("rerun Initialize = %v, %v; want nil, nil", again, err)
		}
	})

	t.Run("unseal reports threshold progress", func(t *testing.T) {
		u := c.NewUnsealer(rec.emitter())
		for i, want := range []State{StateSealed, StateSealed, StateUnsealed} {
			st, err := u.Submit(ctx, res.Keys[i])
			if err != nil || st.State != want {
				t.Fatalf("share %d: state %v err %v, want %v", i+1, st.State, err, want)
			}
		}
		var got []int
		for _, e := range rec.take() {
			if e.Unit == unitShares {
				if e.Total != 3 {
					t.Errorf("progress event total %d, want 3", e.Total)
				}
				got = append(got, int(e.Current))
			}
		}
		if len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
			t.Errorf("progress events %v, want [1 2 3]", got)
		}
	})

	t.Run("configure, then again changes nothing", func(t *testing.T) {
		if err := c.Configure(ctx, res.RootToken, DefaultAuditDevices(), rec.emitter()); err != nil {
			t.Fatal(err)
		}
		if n := len(rec.take()); n != 4 { // 2 audit devices, kv, policy
			t.Errorf("first Configure emitted %d events, want 4", n)
		}
		if err := c.Configure(ctx, res.RootToken, DefaultAuditDevices(), rec.emitter()); err != nil {
			t.Fatal(err)
		}
		if ev := rec.take(); len(ev) != 0 {
			t.Errorf("second Configure changed things: %+v", ev)
		}
	})

	installer, err := c.CreateInstallerToken(ctx, res.RootToken, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var firstPassword string
	t.Run("secrets generated once, kept on rerun", func(t *testing.T) {
		ch, err := c.EnsureSecrets(ctx, installer, testSpecs, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(ch) != 2 || len(ch[0].Added) != 2 || len(ch[1].Added) != 1 {
			t.Fatalf("first EnsureSecrets changes %+v", ch)
		}
		firstPassword = readSecret(t, c, installer, "databases/fineract")["password"].(string)
		if len(firstPassword) != 32 {
			t.Fatalf("password %q has length %d, want 32", firstPassword, len(firstPassword))
		}
		ch, err = c.EnsureSecrets(ctx, installer, testSpecs, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ch {
			if len(x.Added) != 0 {
				t.Errorf("rerun regenerated %s: %v", x.Path, x.Added)
			}
		}
		if v := secretVersion(t, c, installer, "databases/fineract"); v != 1 {
			t.Errorf("rerun wrote a new version: current version %d, want 1", v)
		}
		// A new key in the spec is added without touching the others.
		more := append([]SecretSpec(nil), testSpecs...)
		more[0].Keys = append(append([]KeySpec(nil), more[0].Keys...), KeySpec{Name: "replica-password", Length: 24, Charset: Hex})
		ch, err = c.EnsureSecrets(ctx, installer, more, nil)
		if err != nil || len(ch[0].Added) != 1 || ch[0].Added[0] != "replica-password" {
			t.Fatalf("adding a key: %+v %v", ch, err)
		}
		if got := readSecret(t, c, installer, "databases/fineract")["password"]; got != firstPassword {
			t.Errorf("adding a key changed the existing password")
		}
	})

	t.Run("installer policy: banking yes, sys no", func(t *testing.T) {
		cl, err := c.withToken(installer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cl.KVv2(KVMount).Put(ctx, "services/probe", map[string]interface{}{"k": "v"}); err != nil {
			t.Errorf("installer token cannot write under banking/: %v", err)
		}
		if _, err := cl.KVv2(KVMount).Get(ctx, "services/probe"); err != nil {
			t.Errorf("installer token cannot read under banking/: %v", err)
		}
		denied := map[string]func() error{
			"list mounts": func() error { _, err := cl.Sys().ListMountsWithContext(ctx); return err },
			"write policy": func() error {
				return cl.Sys().PutPolicyWithContext(ctx, "evil", `path "*" { capabilities = ["sudo"] }`)
			},
			"disable audit": func() error { return cl.Sys().DisableAuditWithContext(ctx, "file") },
			"seal":          func() error { return cl.Sys().SealWithContext(ctx) },
			"mount engine":  func() error { return cl.Sys().MountWithContext(ctx, "other", &api.MountInput{Type: "kv"}) },
			"sys/tools/hash": func() error {
				_, err := cl.Logical().WriteWithContext(ctx, "sys/tools/hash", map[string]interface{}{"input": "aGk="})
				return err
			},
			"new token": func() error {
				_, err := cl.Auth().Token().CreateWithContext(ctx, &api.TokenCreateRequest{Policies: []string{"root"}})
				return err
			},
		}
		for name, op := range denied {
			if err := op(); !isForbidden(err) {
				t.Errorf("%s with the installer token: err %v, want permission denied", name, err)
			}
		}
	})

	deliverRoot := t.TempDir()
	uid, gid := serviceIDs()
	setting := func(key string) func(string) ([]byte, error) {
		return func(v string) ([]byte, error) { return []byte(key + "=" + v + "\n"), nil }
	}
	deliveries := []Delivery{{Service: "fineract", UID: uid, GID: gid, Files: []SecretFile{
		{Name: "db_password", Path: "banking/databases/fineract", Key: "password"},
		{Name: "db_user", Path: "banking/databases/fineract", Key: "username"},
		// Two parts of one configuration file, in order.
		{Name: "app.conf", Path: "banking/databases/fineract", Key: "username", Format: setting("user")},
		{Name: "app.conf", Path: "banking/databases/fineract", Key: "password", Format: setting("password")},
	}}}
	t.Run("deliver secrets as files", func(t *testing.T) {
		if err := c.Deliver(ctx, installer, deliverRoot, deliveries, rec.emitter()); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(deliverRoot, "fineract", "db_password")
		body, err := os.ReadFile(p)
		if err != nil || string(body) != firstPassword {
			t.Fatalf("delivered file: %q %v", body, err)
		}
		assertOwnerMode(t, p, uid, gid, 0o400)
		conf, err := os.ReadFile(filepath.Join(deliverRoot, "fineract", "app.conf"))
		user := readSecret(t, c, installer, "databases/fineract")["username"]
		if err != nil || string(conf) != fmt.Sprintf("user=%s\npassword=%s\n", user, firstPassword) {
			t.Errorf("a file made of two parts holds %q (%v)", conf, err)
		}
		// The directory stays the installer's: a service able to change it
		// could swap its files for links between a write and a chown.
		assertOwnerMode(t, filepath.Dir(p), os.Geteuid(), os.Getegid(), 0o700)
		before, _ := os.Stat(p)
		rec.take()
		if err := c.Deliver(ctx, installer, deliverRoot, deliveries, rec.emitter()); err != nil {
			t.Fatal(err)
		}
		after, _ := os.Stat(p)
		if !os.SameFile(before, after) || len(rec.take()) != 0 {
			t.Errorf("second delivery rewrote files that were up to date")
		}
	})

	t.Run("installer token revokes itself", func(t *testing.T) {
		if err := c.RevokeToken(ctx, installer); err != nil {
			t.Fatal(err)
		}
		cl, _ := c.withToken(installer)
		if _, err := cl.KVv2(KVMount).Get(ctx, "databases/fineract"); !isForbidden(err) {
			t.Fatalf("the installer token works after revoking itself: %v", err)
		}
	})

	t.Run("root token revoked", func(t *testing.T) {
		if err := c.RevokeRoot(ctx, res.RootToken, store, nil); err != nil {
			t.Fatal(err)
		}
		cl, _ := c.withToken(res.RootToken)
		if _, err := cl.Auth().Token().LookupSelfWithContext(ctx); !isForbidden(err) {
			t.Fatalf("root token still works after revocation: err %v", err)
		}
		if r, _ := store.Load(ctx); r.RootRevokedAt.IsZero() {
			t.Error("record does not note the root revocation")
		}
	})

	t.Run("audit log written, values hashed", func(t *testing.T) {
		log := v.readFile("/vault/logs/audit.log")
		if len(log) == 0 || !strings.Contains(string(log), "banking/") {
			t.Fatalf("audit log is empty or lacks the banking/ requests (%d bytes)", len(log))
		}
		if strings.Contains(string(log), firstPassword) {
			t.Error("the audit log contains a secret in clear")
		}
	})

	t.Run("restart: sealed, unseal recovers, secrets intact, rerun changes nothing", func(t *testing.T) {
		c = v.restart()
		st, err := c.Status(ctx)
		if err != nil || st.State != StateSealed {
			t.Fatalf("after restart: state %v err %v, want sealed", st.State, err)
		}
		unsealAll(t, c, res.Keys[2:5])
		again, err := c.Initialize(ctx, ProductionInit(), store, FileCustody(filepath.Join(t.TempDir(), "x"), []byte("never-used-passphrase")), nil)
		if err != nil || again != nil {
			t.Fatalf("Initialize on an unsealed, recorded Vault = %v, %v", again, err)
		}
		err = c.WithRootToken(ctx, res.Keys[0:3], rec.emitter(), func(ctx context.Context, root string) error {
			if err := c.Configure(ctx, root, DefaultAuditDevices(), rec.emitter()); err != nil {
				return err
			}
			ch, err := c.EnsureSecrets(ctx, root, testSpecs, rec.emitter())
			if err != nil {
				return err
			}
			for _, x := range ch {
				if len(x.Added) != 0 {
					t.Errorf("rerun after restart regenerated %s %v", x.Path, x.Added)
				}
			}
			if got := readSecret(t, c, root, "databases/fineract")["password"]; got != firstPassword {
				t.Errorf("secret changed across restart")
			}
			return c.Deliver(ctx, root, deliverRoot, deliveries, rec.emitter())
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rec.take() {
			if e.Kind == event.KindProgress && e.Unit == "" && !strings.Contains(e.Message, "root token") {
				t.Errorf("rerun on an unsealed Vault changed something: %q", e.Message)
			}
		}
	})

	t.Run("plain HTTP refused, TLS needs the CA", func(t *testing.T) {
		plain := strings.Replace(v.addr(), "https://", "http://", 1)
		resp, err := http.Get(plain + "/v1/sys/seal-status")
		if err == nil {
			defer resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatalf("plain HTTP got 200 from Vault")
			}
		}
		if _, err := Connect(Config{Address: plain, CACertPEM: v.pki.caPEM}); err == nil {
			t.Error("Connect accepted an http:// address")
		}
		other := newTestPKI(t, "127.0.0.1")
		wrong, err := Connect(Config{Address: v.addr(), CACertPEM: other.caPEM})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wrong.Status(ctx); err == nil {
			t.Error("a client trusting another CA reached Vault")
		}
		if _, err := c.Status(ctx); err != nil {
			t.Errorf("the client trusting the installer's CA failed: %v", err)
		}
	})
}

func readSecret(t *testing.T, c *Conn, token, path string) map[string]interface{} {
	t.Helper()
	cl, err := c.withToken(token)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cl.KVv2(KVMount).Get(testCtx(t), path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return s.Data
}

func secretVersion(t *testing.T, c *Conn, token, path string) int {
	t.Helper()
	cl, _ := c.withToken(token)
	m, err := cl.KVv2(KVMount).GetMetadata(testCtx(t), path)
	if err != nil {
		t.Fatal(err)
	}
	return m.CurrentVersion
}

func isForbidden(err error) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == http.StatusForbidden
}

// serviceIDs picks a service uid/gid: a foreign one as root, our own
// otherwise (only root can give files away).
func serviceIDs() (int, int) {
	if os.Getuid() == 0 {
		return 4242, 4343
	}
	return os.Getuid(), os.Getgid()
}

func assertOwnerMode(t *testing.T, p string, uid, gid int, mode os.FileMode) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if int(st.Uid) != uid || int(st.Gid) != gid || fi.Mode().Perm() != mode {
		t.Errorf("%s: owner %d:%d mode %v, want %d:%d %v", p, st.Uid, st.Gid, fi.Mode().Perm(), uid, gid, mode)
	}
}
