package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// install --target kubernetes in a real terminal runs in the deploy view,
// full screen on the alternate screen: each step as it runs, the wait that
// fails (the lab's API server has no node to run pods) with its cause and
// hint, and the command that resumes; q leaves it, exit 1. The binary is
// the real one, the API server and Vault the lab's real ones.
func TestKubernetesInstallDrawsTheDeployView(t *testing.T) {
	bin := binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cp, err := labtest.StartControlPlane(ctx, t.TempDir())
	if err != nil {
		t.Fatalf("the lab control plane did not start: %v", err)
	}
	t.Cleanup(cp.Stop)
	addr, caPEM, root := labtest.UnsealedVault(t)

	work := t.TempDir()
	caFile, tokenFile := filepath.Join(work, "vault-ca.pem"), filepath.Join(work, "vault-token")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tokenFile, []byte(root+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	installDir := filepath.Join(work, "install")
	a := labtest.KubernetesAnswers(t, answers.Demo, installDir, "e2e-kube-deploy")
	if err := os.RemoveAll(installDir); err != nil { // fresh: the install makes its CA
		t.Fatal(err)
	}
	a.Kubernetes.Vault = answers.KubernetesVault{Address: addr, CACert: caFile}
	file := filepath.Join(work, "answers.yaml")
	if err := answers.Save(file, a); err != nil {
		t.Fatal(err)
	}

	run := exec.Command(bin, "install", "--target", "kubernetes", "--answers", file, "--kubeconfig", cp.Kubeconfig,
		"--yes", "--wait-timeout", "3s", "--vault-token-file", tokenFile)
	run.Dir = work
	run.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + work, "TERM=xterm-256color",
		"DOCKER_HOST=unix://" + filepath.Join(work, "no-engine.sock")}
	term := labtest.StartRawTerminal(t, run)
	term.WaitFor("Wait for the workloads")
	screen := term.WaitFor("resumes")
	term.Type("q")
	out, exit := term.Wait()
	if exit != 1 {
		t.Errorf("leaving the failed install exited %d, want 1", exit)
	}
	if !strings.Contains(screen, "\x1b[?1049h") {
		t.Error("the deploy view did not take the alternate screen")
	}
	plain := ansi.Strip(screen)
	for _, want := range []string{
		"Installing fineract into namespaces e2e-kube-deploy",
		"Check Vault, the token and the cluster", "Issue certificates",
		"Wait for the workloads to become ready", "not ready after 3s",
		"`fineract-installer install --target kubernetes", "resumes at",
	} {
		if !strings.Contains(plain, want) {
			t.Errorf("the deploy view never showed %q", want)
		}
	}
	if t.Failed() {
		t.Logf("everything it wrote: %q", out)
	}
}
