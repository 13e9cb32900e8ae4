package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/audit"
	"github.com/fineract-installer/fineract-installer/steps/event"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
)

func TestMain(m *testing.M) { labtest.KubeMain(m) }

// The Kubernetes target's commands against a real API server: plan says
// everything is to create (exit 5), install applies and then fails its
// wait with what to check (no node runs pods here), plan then says
// nothing changes (exit 0), status lists the workloads, uninstall
// deletes them.
func TestKubernetesTargetAgainstAnAPIServer(t *testing.T) {
	cp := labtest.SharedControlPlane(t)
	file := kubeAnswersFile(t, "cli-kube")
	unreachableVault(t, file)
	kc := []string{"--target", "kubernetes", "--answers", file, "--kubeconfig", cp.Kubeconfig}

	r := run(t, "", append([]string{"plan", "-o", "json"}, kc...)...)
	var plan kubePlanDoc
	if err := json.Unmarshal([]byte(r.out), &plan); err != nil || r.code != ExitChangesPending {
		t.Fatalf("plan before install: exit %d %v: %s %s", r.code, err, r.out, r.err)
	}
	if len(plan.Create) == 0 || len(plan.Change)+len(plan.Unchanged) > 0 {
		t.Errorf("plan before install: %d create, %d change, %d unchanged", len(plan.Create), len(plan.Change), len(plan.Unchanged))
	}

	// The Vault the answers name does not answer: install stops before
	// any object is applied, and so does a token file others may read.
	token := filepath.Join(t.TempDir(), "vault-token")
	if err := os.WriteFile(token, []byte("hvs.example\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", append([]string{"install", "--yes", "--vault-token-file", token}, kc...)...)
	if r.code != ExitUsage || !strings.Contains(r.err, "--vault-token-file") {
		t.Errorf("install with a token file others may read: exit %d: %s", r.code, r.err)
	}
	if err := os.Chmod(token, 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", append([]string{"install", "--yes", "--wait-timeout", "3s", "-o", "json", "--vault-token-file", token}, kc...)...)
	if r.code == 0 || !strings.Contains(r.out, "127.0.0.1:1") {
		t.Fatalf("install with Vault unreachable: exit %d: %s %s", r.code, r.out, r.err)
	}
	r = run(t, "", append([]string{"plan", "-o", "json"}, kc...)...)
	plan = kubePlanDoc{}
	if err := json.Unmarshal([]byte(r.out), &plan); err != nil || len(plan.Change)+len(plan.Unchanged) > 0 {
		t.Fatalf("plan after an install refused by Vault: %v: %d change, %d unchanged: some object was applied", err, len(plan.Change), len(plan.Unchanged))
	}

	// The rest needs the objects in place; steps/vault's
	// TestInstallKubernetesAgainstLabCluster runs the install with a real
	// Vault.
	c, err := kubeapply.Connect(t.Context(), kubeapply.Kubeconfig{File: cp.Kubeconfig})
	if err != nil {
		t.Fatal(err)
	}
	m := renderedManifests(t, file, "fineract")
	if _, err := c.Apply(t.Context(), m.Objects, nil); err != nil {
		t.Fatal(err)
	}

	r = run(t, "", append([]string{"plan"}, kc...)...)
	if r.code != 0 || !strings.Contains(r.out, "unchanged") || strings.Contains(r.out, "to change") {
		t.Errorf("plan after install: exit %d: %s %s", r.code, r.out, r.err)
	}

	r = run(t, "", append([]string{"status", "-o", "json"}, kc...)...)
	var st kubeStatusDoc
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || r.code != ExitFailed {
		t.Fatalf("status: exit %d %v: %s %s", r.code, err, r.out, r.err)
	}
	if st.State != stackDegraded || len(st.Workloads) == 0 {
		t.Errorf("status: %s with %d workloads", st.State, len(st.Workloads))
	}

	r = run(t, "", append([]string{"uninstall"}, kc...)...)
	if r.code != ExitUsage || !strings.Contains(r.err, "--yes") {
		t.Errorf("uninstall without a terminal or --yes: exit %d: %s", r.code, r.err)
	}
	r = run(t, "", append([]string{"uninstall", "--yes", "--purge"}, kc...)...)
	if r.code != 0 {
		t.Fatalf("uninstall: exit %d: %s", r.code, r.err)
	}
	r = run(t, "", append([]string{"status", "-o", "json"}, kc...)...)
	if err := json.Unmarshal([]byte(r.out), &st); err != nil || st.State != stackNotInstalled {
		t.Errorf("status after uninstall: %v %s", err, r.out)
	}

	// An unknown user is refused, with how to check the credentials.
	bad := filepath.Join(t.TempDir(), "kubeconfig")
	data, err := os.ReadFile(cp.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(strings.ReplaceAll(string(data), cp.Token, "not-a-token")), 0o600); err != nil {
		t.Fatal(err)
	}
	r = run(t, "", "plan", "--target", "kubernetes", "--answers", file, "--kubeconfig", bad)
	if r.code != ExitFailed || !strings.Contains(r.err, "refused the credentials") || !strings.Contains(r.err, "auth whoami") {
		t.Errorf("bad token: exit %d: %s", r.code, r.err)
	}
}

// unreachableVault points the answers' Vault at a port nothing listens on.
func unreachableVault(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.ReplaceAll(string(data), "https://10.20.0.5:8200", "https://127.0.0.1:1")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// renderedManifests renders the answers file as install does.
func renderedManifests(t *testing.T, file, project string) kube.Manifests {
	t.Helper()
	ans, err := answers.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	m, err := kube.Render(ans, assets.Options{Project: project, SecretsDir: installdir.SecretsDir(project)})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// labVault starts the lab Vault on the host, unsealed with KV v2 at
// banking/ (labtest.UnsealedVault), and returns its address, a file
// holding its CA and a file holding its root token.
func labVault(t *testing.T) (addr, caFile, tokenFile string) {
	t.Helper()
	addr, caPEM, root := labtest.UnsealedVault(t)
	dir := t.TempDir()
	caFile, tokenFile = filepath.Join(dir, "vault-ca.pem"), filepath.Join(dir, "vault-token")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(root+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return addr, caFile, tokenFile
}

// vaultKV reads one KV v2 secret's data with the token in tokenFile.
func vaultKV(t *testing.T, addr, caFile, tokenFile, path string) map[string]string {
	t.Helper()
	cfg := vaultapi.DefaultConfig()
	cfg.Address = addr
	if err := cfg.ConfigureTLS(&vaultapi.TLSConfig{CACert: caFile}); err != nil {
		t.Fatal(err)
	}
	cl, err := vaultapi.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	cl.SetToken(strings.TrimSpace(string(token)))
	mount, rest, _ := strings.Cut(path, "/")
	s, err := cl.KVv2(mount).Get(t.Context(), rest)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	out := map[string]string{}
	for k, v := range s.Data {
		out[k], _ = v.(string)
	}
	return out
}

// install --target kubernetes with a real Vault: the certificates are
// issued into the install dir (owned by the installer, not the services'
// uids: only Vault reads them there) and each service's certificate files
// reach its delivery secret exactly as the certificate directory holds
// them, the binary trust store base64; the run is recorded in the install
// dir's state and audit log. With certificates.source import the operator's
// CA signs what the pods get and the operator's gateway chain is the one
// delivered.
func TestKubernetesInstallDeliversCertificatesThroughVault(t *testing.T) {
	cp := labtest.SharedControlPlane(t)
	addr, caFile, tokenFile := labVault(t)
	operator := writeImportFiles(t, filepath.Join(t.TempDir(), "operator"), "bank.example.test")

	for _, tc := range []struct {
		name, ns string
		certs    answers.Certificates
	}{
		{"generated", "cli-kube-certs", answers.Certificates{}},
		{"imported", "cli-kube-import", answers.Certificates{Source: answers.CertImport,
			CACert: operator.caCert, CAKey: operator.caKey, GatewayChain: operator.gwChain, GatewayKey: operator.gwKey}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			installDir := filepath.Join(root, "install")
			a := labtest.KubernetesAnswers(t, answers.Demo, installDir, tc.ns)
			// A fresh install dir: the certificates step makes its CA.
			if err := os.RemoveAll(installDir); err != nil {
				t.Fatal(err)
			}
			a.Kubernetes.Vault = answers.KubernetesVault{Address: addr, CACert: caFile}
			if tc.certs.Source != "" {
				a.Certificates = tc.certs
			}
			file := filepath.Join(root, "answers.yaml")
			if err := answers.Save(file, a); err != nil {
				t.Fatal(err)
			}
			r := run(t, "", "install", "--target", "kubernetes", "--answers", file, "--kubeconfig", cp.Kubeconfig,
				"--yes", "--wait-timeout", "2s", "-o", "json", "--vault-token-file", tokenFile)
			// No node runs the pods here: the wait fails, after everything else.
			if r.code != ExitFailed || !strings.Contains(r.out, `"kube-wait"`) {
				t.Fatalf("install: exit %d, want %d with the wait failing\n%s%s", r.code, ExitFailed, r.out, r.err)
			}

			pkiDir := installation.New(installDir, "").PKIDir()
			entries, err := os.ReadDir(pkiDir)
			if err != nil || len(entries) == 0 {
				t.Fatalf("certificate directory: %v, %d files", err, len(entries))
			}
			for _, e := range entries {
				fi, err := os.Lstat(filepath.Join(pkiDir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != os.Getuid() || int(st.Gid) != os.Getgid() {
					t.Errorf("%s is owned by %d:%d, want the installer's %d:%d", e.Name(), st.Uid, st.Gid, os.Getuid(), os.Getgid())
				}
			}

			m := renderedManifests(t, file, "fineract")
			delivered := 0
			for _, d := range m.Deliveries {
				if len(d.PKI) == 0 {
					continue
				}
				held := vaultKV(t, addr, caFile, tokenFile, kube.DeliveryPath(d.Namespace, d.Service))
				for _, name := range d.PKI {
					want, err := os.ReadFile(filepath.Join(pkiDir, name))
					if err != nil {
						t.Fatal(err)
					}
					got := held[name]
					if slices.Contains(d.Base64, name) {
						b, err := base64.StdEncoding.DecodeString(got)
						if err != nil {
							t.Errorf("%s/%s: not base64: %v", d.Service, name, err)
						}
						got = string(b)
					}
					if got != string(want) {
						t.Errorf("%s/%s in Vault differs from %s", d.Service, name, filepath.Join(pkiDir, name))
					}
					delivered++
				}
			}
			if delivered == 0 {
				t.Fatal("no certificate file was delivered")
			}

			// The gateway's certificate in Vault chains to the CA the
			// answers chose: the installation's own, or the operator's.
			gw := vaultKV(t, addr, caFile, tokenFile, kube.DeliveryPath(tc.ns, "gateway"))
			anchor := filepath.Join(pkiDir, "ca.crt")
			if tc.certs.Source == answers.CertImport {
				anchor = operator.caCert
			}
			verifyChain(t, []byte(gw["gateway.crt"]), anchor, "bank.example.test")
			if tc.certs.Source == answers.CertImport {
				chain, err := os.ReadFile(operator.gwChain)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(gw["gateway.crt"], strings.TrimSpace(firstPEM(t, chain))) {
					t.Error("the gateway certificate in Vault is not the operator's")
				}
			}

			if _, err := os.Stat(filepath.Join(installDir, "state-install-kubernetes.json")); err != nil {
				t.Errorf("the run's state: %v", err)
			}
			log, err := audit.Read(installDir)
			if err != nil {
				t.Fatal(err)
			}
			var last audit.Entry
			for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
				if last, err = audit.ParseEntry([]byte(line)); err != nil {
					t.Fatal(err)
				}
			}
			if last.Command != "install" || !slices.Contains(last.Args, "--target=kubernetes") || last.Result != audit.ResultFailed {
				t.Errorf("audit log's last entry: %+v, want the failed install --target kubernetes", last)
			}
			// Each object the install created is in the entry.
			created := map[string]bool{}
			for _, c := range last.Changes {
				if c.Resource == string(event.ResourceKubeObject) && c.Action == string(event.ActionCreate) {
					created[c.Subject] = true
				}
			}
			for _, o := range m.Objects {
				if ref := kubeapply.RefOf(o).String(); !created[ref] {
					t.Errorf("the audit entry does not record %s as created", ref)
				}
			}

			// In a terminal the same plan runs in the deploy view (on the
			// terminal's stderr; here, with no screen to draw on, as its
			// lines); the rerun finds every object as it is and the
			// certificates issued.
			r = runInTerminal(t, "", "install", "--target", "kubernetes", "--answers", file, "--kubeconfig", cp.Kubeconfig,
				"--yes", "--wait-timeout", "2s", "--vault-token-file", tokenFile)
			for _, want := range []string{"✓ Check Vault, the token and the cluster", "↷ Issue certificates: already done",
				"Namespace " + tc.ns + ": kube-object apply done: unchanged", "✗ Wait for the workloads to become ready failed: not ready after 2s"} {
				if !strings.Contains(r.err, want) {
					t.Errorf("the deploy view lacks %q", want)
				}
			}
			if r.code != ExitFailed || strings.Contains(r.out, "Check Vault") || strings.Contains(r.out+r.err, `"kind"`) {
				t.Errorf("install in a terminal: exit %d, want %d, drawn, not as JSON:\n%s%s", r.code, ExitFailed, r.out, r.err)
			}
			if t.Failed() {
				t.Logf("the deploy view drew:\n%s", r.err)
			}
		})
	}
}

// runInTerminal is run with the standard streams said to be a terminal.
func runInTerminal(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	io := &Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb, InTTY: true, OutTTY: true}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Main(ctx, args, io, BuildInfo{Version: "v0.0.0-test", Go: "go"})
	return result{code, out.String(), errb.String()}
}

// verifyChain checks that the PEM chain verifies for host against the CA
// in anchorFile.
func verifyChain(t *testing.T, chainPEM []byte, anchorFile, host string) {
	t.Helper()
	anchor, err := os.ReadFile(anchorFile)
	if err != nil {
		t.Fatal(err)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AppendCertsFromPEM(anchor)
	var leaf *x509.Certificate
	for rest := chainPEM; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			break
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		if leaf == nil {
			leaf = c
		} else {
			inter.AddCert(c)
		}
	}
	if leaf == nil {
		t.Fatal("no certificate in the chain")
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots, Intermediates: inter}); err != nil {
		t.Errorf("%s's certificate does not verify against %s: %v", host, anchorFile, err)
	}
}

// firstPEM is the first PEM block of data, re-encoded.
func firstPEM(t *testing.T, data []byte) string {
	t.Helper()
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatal("no PEM block")
	}
	return string(pem.EncodeToMemory(b))
}
