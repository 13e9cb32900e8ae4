package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fineract-installer/fineract-installer/assets"
	"github.com/fineract-installer/fineract-installer/assets/kube"
	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/atomicfile"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installdir"
	"github.com/fineract-installer/fineract-installer/steps/kubeapply"
	"github.com/fineract-installer/fineract-installer/steps/vault"
	"github.com/fineract-installer/fineract-installer/ui/tui"
)

// Targets a command can work on.
const (
	targetDocker     = "docker"
	targetKubernetes = "kubernetes"
)

// targetFlags are --target, --kubeconfig and --context, shared by every
// command that works on both targets.
type targetFlags struct {
	target     string
	kubeconfig string
	context    string
}

func (t *targetFlags) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&t.target, "target", targetDocker, "`ENGINE` to work on: docker or kubernetes")
	f.StringVar(&t.kubeconfig, "kubeconfig", "", "kubeconfig `FILE` for --target kubernetes (default: $KUBECONFIG, else ~/.kube/config)")
	f.StringVar(&t.context, "context", "", "kubeconfig context `NAME` for --target kubernetes (default: the file's current context)")
}

// kubernetes says whether the command works on Kubernetes; a target it
// does not know, or a Kubernetes flag with the Docker target, is bad input.
func (t *targetFlags) kubernetes() (bool, error) {
	switch t.target {
	case targetKubernetes:
		return true, nil
	case targetDocker:
		if t.kubeconfig != "" || t.context != "" {
			return false, usageError("--kubeconfig and --context are for --target kubernetes")
		}
		return false, nil
	}
	return false, usageError("--target %q is not known; use docker or kubernetes", t.target)
}

// cluster connects to the cluster the flags name. A kubeconfig that
// cannot be used is bad input (exit 2); a cluster that does not answer is
// a host that is not ready (exit 3), as an unreachable Docker engine is.
func (t *targetFlags) cluster(cmd *cobra.Command) (*kubeapply.Cluster, error) {
	c, err := kubeapply.Connect(cmd.Context(), kubeapply.Kubeconfig{File: t.kubeconfig, Context: t.context})
	switch {
	case errors.Is(err, kubeapply.ErrKubeconfig):
		return nil, withCode(ExitUsage, err)
	case errors.Is(err, kubeapply.ErrUnreachable):
		return nil, withCode(ExitHostNotOK, err)
	case err != nil:
		return nil, withCode(ExitFailed, err)
	}
	return c, nil
}

// kubeStack is what the Kubernetes commands on an installed stack start
// from: its answers (the installation's, or --answers), checked, the
// manifests they render, and the cluster the flags name.
func kubeStack(cmd *cobra.Command, a *app, src answersSource, t targetFlags) (answers.Answers, kube.Manifests, *kubeapply.Cluster, error) {
	var m kube.Manifests
	ans, err := planAnswers(a, src, cmd.Flags().Changed("dir"))
	if err != nil {
		return ans, m, nil, err
	}
	if err := ans.Validate(); err != nil {
		return ans, m, nil, withCode(ExitUsage, err)
	}
	if m, err = renderKube(a, src, ans); err != nil {
		return ans, m, nil, err
	}
	c, err := t.cluster(cmd)
	return ans, m, c, err
}

// renderKube renders the answers as Kubernetes manifests.
func renderKube(a *app, src answersSource, ans answers.Answers) (kube.Manifests, error) {
	m, err := kube.Render(ans, assets.Options{Project: a.project, SecretsDir: installdir.SecretsDir(a.project)})
	if err != nil {
		return m, src.renderError(err)
	}
	return m, nil
}

// kubeRenderDoc is `render --target kubernetes -o json`.
type kubeRenderDoc struct {
	Dir        string          `json:"dir"`
	Namespaces []string        `json:"namespaces"`
	Files      []string        `json:"files"`
	Objects    []kubeapply.Ref `json:"objects"`
}

// renderMarker is the file a Kubernetes render leaves in its directory, so
// a later render knows the directory is its own and may replace the files.
const renderMarker = ".fineract-installer-manifests"

// writeManifests writes the manifests' files into dir. A directory that
// holds files and no marker of an earlier render is someone else's: it is
// refused untouched. Files of an earlier render that this one no longer
// has are left where they are and named, never deleted: the directory may
// have been edited by hand since.
func writeManifests(dir string, files []assets.File) (stale []string, err error) {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", dir, err)
	case len(entries) > 0:
		if _, err := os.Stat(filepath.Join(dir, renderMarker)); err != nil {
			return nil, usageHint(fmt.Errorf("%s is not empty and holds no earlier render of the manifests", dir),
				"give --out an empty or new directory, or one an earlier `render --target kubernetes` wrote; nothing in "+dir+" was changed")
		}
	}
	want := map[string]bool{renderMarker: true}
	for _, f := range files {
		want[filepath.FromSlash(f.Path)] = true
	}
	for _, e := range entries {
		if !want[e.Name()] && strings.HasSuffix(e.Name(), ".yaml") {
			stale = append(stale, e.Name())
		}
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, renderMarker), []byte("manifests rendered by fineract-installer; a rerun of render --target kubernetes may replace the files here\n"), 0o644); err != nil {
		return nil, err
	}
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := atomicfile.WriteFile(path, f.Data, mode); err != nil {
			return nil, err
		}
	}
	return stale, nil
}

func runRenderKube(cmd *cobra.Command, a *app, src answersSource, out string) error {
	ans, err := src.load()
	if err != nil {
		return err
	}
	m, err := renderKube(a, src, ans)
	if err != nil {
		return err
	}
	files := m.Files()
	stale, err := writeManifests(out, files)
	if err != nil {
		return err
	}
	p := a.printer()
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Path
	}
	if p.json() {
		objs := make([]kubeapply.Ref, len(m.Objects))
		for i, o := range m.Objects {
			objs[i] = kubeapply.RefOf(o)
		}
		return p.record(typeKubeRender, kubeRenderDoc{Dir: out, Namespaces: m.Namespaces, Files: names, Objects: objs})
	}
	fmt.Fprintf(a.io.Out, "Wrote %d manifests for namespaces %s to %s\n", len(files), strings.Join(m.Namespaces, ", "), out)
	for _, n := range names {
		fmt.Fprintf(a.io.Out, "  %s\n", n)
	}
	for _, s := range stale {
		fmt.Fprintf(a.io.Out, "%s %s is from an earlier render and not part of this one; it was left in place: remove it before applying the directory\n", a.printer().warn.Render("!"), s)
	}
	fmt.Fprintf(a.io.Out, "Apply them with: kubectl apply --server-side --field-manager %s -f %s\n", kube.FieldManager, out)
	return nil
}

// kubeInstallCommand names the Kubernetes install's record in the install
// dir (state-install-kubernetes.json), apart from a Docker install's.
const kubeInstallCommand = "install kubernetes"

// defaultWaitTimeout bounds install's wait for the workloads: Fineract's
// first start migrates its schemas, which takes minutes.
const defaultWaitTimeout = 15 * time.Minute

func runInstallKube(cmd *cobra.Command, a *app, o installOptions, t targetFlags) error {
	ctx := cmd.Context()
	ans, err := o.src.load()
	if err != nil {
		return err
	}
	if cmd.Flags().Changed("dir") {
		ans.InstallDir = a.dir
	}
	if err := ans.Validate(); err != nil {
		return withCode(ExitUsage, err)
	}
	// The install dir keeps the certificates, the run's state and the
	// audit log; a directory holding someone else's files is refused
	// before anything runs.
	if err := installdir.Claimable(ans.InstallDir); err != nil {
		return withCode(ExitUsage, err)
	}
	a.dir = ans.InstallDir
	m, err := renderKube(a, o.src, ans)
	if err != nil {
		return err
	}
	kv, err := kubeVaultOf(a, o, t, ans)
	if err != nil {
		return err
	}
	// An imported CA or gateway certificate is checked before anything
	// changes, as on Docker.
	if err := loadCertImports(ctx, kv.env); err != nil {
		return err
	}
	c, err := t.cluster(cmd)
	if err != nil {
		return err
	}
	where := c.Server
	if c.Context != "" {
		where = "context " + c.Context + " (" + c.Server + ")"
	}
	if err := confirm(a, o.yes, "install changes the cluster", fmt.Sprintf("Apply %d objects into namespaces %s on %s?", len(m.Objects), strings.Join(m.Namespaces, ", "), where)); err != nil {
		return err
	}
	unlock, err := lockInstallDir(ans.InstallDir)
	if err != nil {
		return err
	}
	defer unlock()
	params := vault.KubernetesInstall{
		Token: kv.token, Cluster: c, Host: kv.host, CACertPEM: kv.caPEM, Manifests: m,
		Secrets: kv.env.SecretSpecs(), Deliveries: kv.env.Deliveries(), PKIDir: kv.env.PKIDir(),
	}
	plan := (&steps.Plan{}).Then(&vault.KubernetesCheckStep{Conn: kv.conn, Params: params})
	plan.Then(install.CertificatesStep{Env: kv.env})
	plan.Then(&vault.KubernetesInstallStep{Conn: kv.conn, Params: params})
	plan.Then(&kubeapply.WaitStep{Cluster: c, Workloads: kubeapply.Workloads(m.Objects), Timeout: o.waitTimeout})
	if a.io.CanPrompt() && !a.printer().json() {
		return kubeDeployView(ctx, a, o, ans, plan, fmt.Sprintf("Installing %s into namespaces %s on %s", a.project, strings.Join(m.Namespaces, ", "), where))
	}
	if err := runDay2(ctx, a, kubeInstallCommand, ans.InstallDir, plan); err != nil {
		return err
	}
	if !a.printer().json() {
		fmt.Fprintf(a.io.Out, "\n%s\n", a.printer().ok.Render("The stack is applied and every workload is ready."))
	}
	return nil
}

// kubeDeployView runs the install's plan in the deploy view, as the
// wizard runs a Docker install: the steps, each object applied and each
// workload waited for drawn live, a failure with its cause and hint, and
// the command that resumes. The caller holds the install dir's lock.
func kubeDeployView(ctx context.Context, a *app, o installOptions, ans answers.Answers, plan *steps.Plan, title string) error {
	resume := "fineract-installer install --target kubernetes --vault-token-file FILE"
	if o.src.file != "" {
		resume += " --answers " + o.src.file
	}
	out, err := tui.RunDeploy(ctx, tui.DeployOptions{
		Terminal: tui.Terminal{In: a.io.In, Out: a.io.Err, NoColor: !a.color(a.io.ErrTTY)},
		Title:    title,
		Steps:    tui.StepInfos(plan),
		Run: func(ctx context.Context, emit func(steps.Event)) error {
			return runDay2To(ctx, a, kubeInstallCommand, ans.InstallDir, plan, emit)
		},
		ResumeCommand: resume,
	})
	return deployOutcome(out, err)
}

// kubePlanDoc is `plan --target kubernetes -o json`.
type kubePlanDoc struct {
	Server     string   `json:"server"`
	Namespaces []string `json:"namespaces"`
	kubeapply.Plan
}

func runPlanKube(cmd *cobra.Command, a *app, src answersSource, t targetFlags) error {
	_, m, c, err := kubeStack(cmd, a, src, t)
	if err != nil {
		return err
	}
	pl, err := c.Plan(cmd.Context(), m.Objects)
	if err != nil {
		return err
	}
	p := a.printer()
	if p.json() {
		if err := p.record(typeKubePlan, kubePlanDoc{Server: c.Server, Namespaces: m.Namespaces, Plan: pl}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.io.Out, "%s %d objects in namespaces %s on %s (server-side dry run)\n", p.bold.Render("Plan:"), len(m.Objects), strings.Join(m.Namespaces, ", "), c.Server)
		for _, g := range []struct {
			title string
			mark  string
			refs  []kubeapply.Ref
		}{{"create", p.ok.Render("+"), pl.Create}, {"change", p.warn.Render("~"), pl.Change}} {
			if len(g.refs) == 0 {
				continue
			}
			fmt.Fprintf(a.io.Out, "  %d to %s:\n", len(g.refs), g.title)
			for _, r := range g.refs {
				fmt.Fprintf(a.io.Out, "    %s %s\n", g.mark, r)
			}
		}
		fmt.Fprintf(a.io.Out, "  %d unchanged\n", len(pl.Unchanged))
	}
	if pl.Pending() {
		return &silentError{code: ExitChangesPending}
	}
	return nil
}

// kubeStatusDoc is `status --target kubernetes -o json`.
type kubeStatusDoc struct {
	Server     string               `json:"server"`
	Namespaces []string             `json:"namespaces"`
	State      string               `json:"state"`
	Workloads  []kubeapply.Workload `json:"workloads"`
}

func runStatusKube(cmd *cobra.Command, a *app, src answersSource, t targetFlags) error {
	_, m, c, err := kubeStack(cmd, a, src, t)
	if err != nil {
		return err
	}
	ws, err := c.Status(cmd.Context(), m.Namespaces)
	if err != nil {
		return err
	}
	state := stackRunning
	switch {
	case len(ws) == 0:
		state = stackNotInstalled
	case len(ws) < len(kubeapply.Workloads(m.Objects)):
		state = stackDegraded
	}
	for _, w := range ws {
		if !w.IsReady() && state == stackRunning {
			state = stackDegraded
		}
	}
	p := a.printer()
	if ws == nil {
		ws = []kubeapply.Workload{}
	}
	if p.json() {
		if err := p.record(typeKubeStatus, kubeStatusDoc{Server: c.Server, Namespaces: m.Namespaces, State: state, Workloads: ws}); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(a.io.Out, "Stack %s on %s (namespaces %s)\n", state, c.Server, strings.Join(m.Namespaces, ", "))
		for _, w := range ws {
			mark := p.ok.Render("✓")
			if !w.IsReady() {
				mark = p.bad.Render("✗")
			}
			fmt.Fprintf(a.io.Out, "  %s %-40s %d/%d ready\n", mark, w.Ref.String(), w.Ready, w.Desired)
		}
	}
	if state != stackRunning {
		return &silentError{code: ExitFailed}
	}
	return nil
}

func runUninstallKube(cmd *cobra.Command, a *app, src answersSource, t targetFlags, purge, yes bool) error {
	ctx := cmd.Context()
	ans, m, c, err := kubeStack(cmd, a, src, t)
	if err != nil {
		return err
	}
	scope := kubeapply.ScopeOf(m.Namespaces, m.Objects)
	scope.KeepData = !purge
	objs, err := c.Managed(ctx, scope)
	if err != nil {
		return err
	}
	if err := confirmKubeUninstall(a, len(objs), m.Namespaces, purge, yes); err != nil {
		return err
	}
	// An install dir the Kubernetes install recorded into gets this run in
	// its audit log too; the certificates in it are kept.
	record := ""
	if ok, err := installdir.Exists(ans.InstallDir); err == nil && ok {
		unlock, err := lockInstallDir(ans.InstallDir)
		if err != nil {
			return err
		}
		defer unlock()
		record = ans.InstallDir
	}
	step := &kubeapply.UninstallStep{Cluster: c, Scope: scope}
	if err := runDay2(ctx, a, "uninstall kubernetes", record, (&steps.Plan{}).Then(step)); err != nil {
		return err
	}
	if !a.printer().json() {
		if purge {
			fmt.Fprintf(a.io.Out, "The stack's objects and namespaces %s are deleted, data included; each namespace is gone once the cluster has emptied it.\n", strings.Join(m.Namespaces, ", "))
		} else {
			fmt.Fprintf(a.io.Out, "The stack's objects are deleted; its PersistentVolumeClaims and namespaces %s are kept, so a later install finds its data. `uninstall --target kubernetes --purge` deletes them too.\n", strings.Join(m.Namespaces, ", "))
		}
	}
	return nil
}

// confirmKubeUninstall asks as the Docker target's uninstall asks: purging
// deletes the bank's data, so it needs the project name typed back.
func confirmKubeUninstall(a *app, objects int, namespaces []string, purge, yes bool) error {
	if yes {
		return nil
	}
	if !a.io.CanPrompt() {
		return usageError("uninstall removes the running stack: pass --yes to confirm when not running in a terminal")
	}
	ns := strings.Join(namespaces, ", ")
	if purge {
		fmt.Fprintf(a.io.Out, "This deletes project %s for good: %d objects and the namespaces %s with their PersistentVolumeClaims (the database and Vault's storage).\nType the project name to confirm: ", a.project, objects, ns)
		answer, err := a.io.ReadLine()
		if err != nil || strings.TrimSpace(answer) != a.project {
			return usageError("not confirmed; nothing was removed")
		}
		return nil
	}
	return confirm(a, false, "uninstall removes the running stack", fmt.Sprintf("Delete the %d objects of project %s in namespaces %s? Data (PersistentVolumeClaims) is kept.", objects, a.project, ns))
}

// refuseDockerOnly refuses flags of the Docker target given with
// --target kubernetes: silently ignored, they would promise what does not
// happen.
func refuseDockerOnly(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return usageError("--%s is for the Docker target; it does nothing with --target kubernetes", n)
		}
	}
	return nil
}

// refuseKubeOnly refuses flags of the Kubernetes target given with the
// Docker target.
func refuseKubeOnly(cmd *cobra.Command, names ...string) error {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return usageError("--%s is for --target kubernetes here", n)
		}
	}
	return nil
}

// kubeVault is what an install on Kubernetes needs to configure Vault.
type kubeVault struct {
	conn  *vault.Conn
	token string
	// host and caPEM are the API server's address and CA from the
	// kubeconfig: Vault sends the pods' tokens there for review.
	host  string
	caPEM []byte
	// env gives the services' secrets and files, as the Docker target
	// makes them.
	env *install.Env
}

// kubeVaultOf reads the Vault token file, connects to the Vault the
// answers name (trusting only their CA, or the installation's own) and
// reads the API server's address and CA from the kubeconfig. It changes
// nothing; InstallKubernetes checks Vault and the token before it does.
func kubeVaultOf(a *app, o installOptions, t targetFlags, ans answers.Answers) (kubeVault, error) {
	var kv kubeVault
	token, err := readCredentialFile("--vault-token-file", o.vaultTokenFile)
	if err != nil {
		return kv, err
	}
	env, err := install.NewEnv(ans, a.project, ans.InstallDir, installdir.SecretsDir(a.project), nil)
	if err != nil {
		return kv, err
	}
	env.CertsForVault = true
	caFile := ans.Kubernetes.Vault.CACert
	if caFile == "" {
		caFile = filepath.Join(env.PKIDir(), "ca.crt")
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return kv, usageHint(fmt.Errorf("vault CA: %w", err),
			"set kubernetes.vault.ca_cert in the answers to the PEM file of the CA Vault's certificate chains to")
	}
	conn, err := vault.Connect(vault.Config{Address: ans.Kubernetes.Vault.Address, CACertPEM: ca})
	if err != nil {
		return kv, withCode(ExitUsage, fmt.Errorf("vault at %s: %w", ans.Kubernetes.Vault.Address, err))
	}
	cfg, _, err := kubeapply.Kubeconfig{File: t.kubeconfig, Context: t.context}.RESTConfig()
	if err != nil {
		return kv, withCode(ExitUsage, err)
	}
	caPEM := cfg.CAData
	if len(caPEM) == 0 && cfg.CAFile != "" {
		if caPEM, err = os.ReadFile(cfg.CAFile); err != nil {
			return kv, withCode(ExitUsage, fmt.Errorf("the kubeconfig's CA: %w", err))
		}
	}
	if len(caPEM) == 0 {
		return kv, usageHint(errors.New("the kubeconfig names no CA for the API server"),
			"Vault checks the pods' tokens with the API server and must trust only its CA: give a kubeconfig with certificate-authority-data")
	}
	return kubeVault{conn: conn, token: token, host: cfg.Host, caPEM: caPEM, env: env}, nil
}
