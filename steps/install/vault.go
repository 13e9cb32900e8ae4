package install

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/compose/nsdial"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

// Custody is how this run keeps and finds Vault's unseal key shares.
type Custody struct {
	// Keep makes fresh shares durable (the production ceremony, or the demo
	// custody file). It is called once, right after initialisation.
	Keep vault.Custody
	// Shares provides shares when Vault is sealed or admin work needs a
	// temporary root token.
	Shares vault.SharesSource
}

// RecordStore is where the installer records Vault's initialisation.
func (env *Env) RecordStore() vault.FileRecordStore {
	return vault.FileRecordStore{Path: env.VaultRecordFile()}
}

// VaultConn connects to Vault from inside its container's network
// namespace: Vault listens only on the stack's internal networks.
func (env *Env) VaultConn() (*vault.Conn, error) {
	return VaultConnOf(env.Installation, env.Engine)
}

// VaultConnOf connects to the Vault of inst, as Env.VaultConn does, for
// work that needs no answers (keeping the audit log's head).
func VaultConnOf(inst *installation.Installation, engine *compose.Engine) (*vault.Conn, error) {
	ca, err := os.ReadFile(filepath.Join(inst.PKIDir(), "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("read the stack's CA: %w", err)
	}
	dial := nsdial.Dialer(func(ctx context.Context) (int, error) {
		return engine.ServicePID(ctx, inst.Project, vaultService)
	})
	return vault.Connect(vault.Config{Address: "https://127.0.0.1:8200", ServerName: vaultService, CACertPEM: ca, Dial: dial})
}

// SecretSpecs lists every secret the services need, grouped by KV path.
func (env *Env) SecretSpecs() []vault.SecretSpec {
	byPath := map[string]map[string]vault.KeySpec{}
	for _, svc := range env.Bundle.SecretHolders() {
		for _, n := range svc.Secrets {
			if byPath[n.VaultPath] == nil {
				byPath[n.VaultPath] = map[string]vault.KeySpec{}
			}
			byPath[n.VaultPath][n.Key] = vault.KeySpec{Name: n.Key, Length: n.Generate.Length, Charset: charsetOf(n.Generate.Charset)}
		}
	}
	var specs []vault.SecretSpec
	for _, path := range slices.Sorted(maps.Keys(byPath)) {
		spec := vault.SecretSpec{Path: path}
		for _, k := range slices.Sorted(maps.Keys(byPath[path])) {
			spec.Keys = append(spec.Keys, byPath[path][k])
		}
		specs = append(specs, spec)
	}
	return specs
}

func charsetOf(c string) vault.Charset {
	switch c {
	case assets.CharsetAlnum, "":
		return vault.Alphanumeric
	case assets.CharsetPassword:
		return vault.Password
	case assets.CharsetRandomBytes:
		return vault.RandomBytes
	}
	return vault.Charset(c)
}

// Deliveries lists the secret files each service reads.
func (env *Env) Deliveries() []vault.Delivery {
	var ds []vault.Delivery
	for _, svc := range env.Bundle.SecretHolders() {
		if len(svc.Secrets) == 0 {
			continue
		}
		d := vault.Delivery{Service: svc.Name, UID: svc.UID, GID: svc.GID}
		for _, n := range svc.Secrets {
			d.Files = append(d.Files, vault.SecretFile{Name: n.File, Path: n.VaultPath, Key: n.Key, Format: n.Content})
		}
		ds = append(ds, d)
	}
	return ds
}

// VaultSetupStep initialises and unseals Vault, configures it, generates
// the services' secrets and delivers them as files on a tmpfs.
type VaultSetupStep struct {
	Env     *Env
	Custody Custody
}

// ID implements steps.Step.
func (s VaultSetupStep) ID() string { return "vault" }

// Title implements steps.Step.
func (s VaultSetupStep) Title() string { return "Initialise Vault and deliver secrets" }

// Check is true when Vault is unsealed, its first setup finished (the root
// token was revoked), and every service's secret files are in place.
func (s VaultSetupStep) Check(ctx context.Context) (bool, error) {
	rec, err := s.Env.RecordStore().Load(ctx)
	if err != nil || rec.RootRevokedAt.IsZero() {
		return false, nil
	}
	conn, err := s.Env.VaultConn()
	if err != nil {
		return false, nil
	}
	st, err := conn.Status(ctx)
	if err != nil || st.State != vault.StateUnsealed {
		return false, nil
	}
	return vault.CheckDelivered(s.Env.SecretsDir, s.Env.Deliveries()) == nil, nil
}

// Run implements steps.Step.
func (s VaultSetupStep) Run(ctx context.Context, emit steps.Emitter) error {
	if _, err := installdir.EnsureSecretsTmpfs(s.Env.Project); err != nil {
		return steps.Fail(err, "secrets are only ever written to memory; run the installer as root")
	}
	if err := os.MkdirAll(s.Env.VaultDir(), 0o700); err != nil {
		return err
	}
	conn, err := s.Env.VaultConn()
	if err != nil {
		return err
	}
	waitCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	_, err = conn.WaitResponding(waitCtx)
	cancel()
	if err != nil {
		return steps.Fail(err, "Vault does not answer: see `fineract-installer logs vault`")
	}
	init := vault.ProductionInit()
	if s.Env.Answers.Profile == answers.Demo {
		init = vault.DemoInit()
	}
	init.Shares, init.Threshold = s.Env.Answers.Vault.KeyShares, s.Env.Answers.Vault.KeyThreshold
	init.Custody, init.PGPKeys = s.Env.Answers.Vault.Custody, s.Env.Answers.Vault.PGPKeys
	err = conn.Setup(ctx, vault.SetupOptions{
		Init: init, Custody: s.Custody.Keep, Store: s.Env.RecordStore(), Shares: s.Custody.Shares,
		Audit: vault.DefaultAuditDevices(), Secrets: s.Env.SecretSpecs(),
		Deliveries: s.Env.Deliveries(), SecretsDir: s.Env.SecretsDir,
		AuditHeadTokenFile: s.Env.AuditHeadTokenFile(),
	}, emit)
	var unrecorded *vault.UnrecordedInitError
	if errors.As(err, &unrecorded) {
		return &steps.Failure{Cause: err.Error(), Hint: "nothing was wiped; if you do hold the key shares, run `fineract-installer unseal` with them", Err: err}
	}
	return err
}
