// Command tuidemo runs the installer's screens without touching a host: the
// wizard with an injected list of preflight results, then the deploy view
// over a scripted pipeline (real steps.Event values, the real Vault custody
// hook). The tmux test drives it in a real terminal; it is also handy to
// look at the screens by hand. It prints what the screens returned on
// stdout when they end.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/fineract-installer/fineract-installer/steps/answers"
	"github.com/fineract-installer/fineract-installer/steps/install"
	"github.com/fineract-installer/fineract-installer/steps/installation"
	"github.com/fineract-installer/fineract-installer/steps/preflight"
	"github.com/fineract-installer/fineract-installer/steps/vault"
	"github.com/fineract-installer/fineract-installer/ui/tui"
)

func main() {
	os.Exit(run())
}

func run() int {
	var (
		answersPath = flag.String("answers", installation.Relative().AnswersFile(), "where the wizard saves the answers file")
		checks      = flag.String("preflight", "pass", "preflight results to show: pass or fail")
		mode        = flag.String("mode", "both", "wizard, deploy or both")
		failOnce    = flag.Bool("fail-once", false, "the services step fails on the first attempt")
		ceremony    = flag.Bool("ceremony", false, "run the Vault key ceremony (production custody) in the deploy")
		pace        = flag.Duration("pace", 150*time.Millisecond, "pause between scripted steps")
		noColor     = flag.Bool("no-color", false, "no colours")
		accessible  = flag.Bool("accessible", false, "line prompts for screen readers")
		profile     = flag.String("profile", "production", "profile of the answers in -mode deploy")
	)
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	term := tui.Terminal{NoColor: *noColor, Accessible: *accessible}

	start := *mode == "deploy"
	a := answers.Defaults(answers.Profile(*profile))
	if *mode != "deploy" {
		initial := answers.Defaults(answers.Production)
		initial.InstallDir = "/opt/fineract-stack"
		host := tui.HostFacts{Hostname: "bank-core-01", IPs: []string{"192.0.2.10"}, MemoryMiB: 15872}
		scratch, err := os.MkdirTemp("", "tuidemo-stack-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "tuidemo:", err)
			return 1
		}
		defer os.RemoveAll(scratch)
		res, err := tui.RunWizard(ctx, tui.WizardOptions{
			Terminal:  term,
			Initial:   initial,
			Host:      host,
			Preflight: func(context.Context, answers.Answers) []preflight.Result { return demoChecks(*checks == "fail") },
			// The install's own check of imported certificate files,
			// against a scratch install dir: nothing on the host is read.
			Certificates: func(ctx context.Context, a answers.Answers, now time.Time) install.ImportCheck {
				a.InstallDir = scratch
				return install.CheckImports(ctx, a, "fineract", now)
			},
			AnswersPath: *answersPath,
		})
		fmt.Printf("saved: %s\nstart: %t\n", res.Saved, res.Start)
		if err != nil {
			fmt.Fprintln(os.Stderr, "wizard:", err)
			return 1
		}
		a, start = res.Answers, res.Start
	}
	if !start || *mode == "wizard" {
		return 0
	}
	s := &script{pace: *pace, failOnce: *failOnce}
	opts := tui.DeployOptions{
		Terminal:      term,
		Title:         fmt.Sprintf("%s install of %s", a.Profile, a.Host.Hostname),
		Steps:         s.steps(),
		Run:           s.run,
		Summary:       summary,
		SupportBundle: func(context.Context) (string, error) { return "/tmp/fineract-support-demo.tar.gz", nil },
		ResumeCommand: "fineract-installer install --answers " + *answersPath,
	}
	if *ceremony || a.Vault.Custody == answers.CustodyShow {
		cer := tui.NewCeremony()
		opts.Ceremony = cer
		s.custody = vault.ShowAndConfirm(
			func(ctx context.Context, r *vault.InitResult) error { return cer.Show(ctx, r.Keys, r.Threshold) },
			cer.Ask)
		s.shares, s.threshold = a.Vault.KeyShares, a.Vault.KeyThreshold
	}
	out, err := tui.RunDeploy(ctx, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "deploy:", err)
		return 1
	}
	fmt.Printf("outcome: %s\n", out.Status)
	if out.SupportBundle != "" {
		fmt.Printf("bundle: %s\n", out.SupportBundle)
	}
	return 0
}

// shareValues makes key shares shaped like Vault's (base64 of 33 bytes).
func shareValues(n int) []string {
	out := make([]string, n)
	for i := range out {
		b := make([]byte, 33)
		_, _ = rand.Read(b)
		out[i] = base64.StdEncoding.EncodeToString(b)
	}
	return out
}

func demoChecks(fail bool) []preflight.Result {
	rs := []preflight.Result{
		{ID: "engine", Title: "Docker engine", Status: preflight.Pass, Observed: "Docker 27.5.1, API 1.47"},
		{ID: "storage", Title: "Storage driver", Status: preflight.Pass, Observed: "overlay2"},
		{ID: "memory", Title: "Memory", Status: preflight.Pass, Observed: "15872 MiB total, 12010 MiB available"},
		{ID: "disk", Title: "Disk for images (/var/lib/docker)", Status: preflight.Pass, Observed: "48211 MiB free"},
		{ID: "ports", Title: "Port 443", Status: preflight.Pass, Observed: "port 443 on every address is free"},
		{ID: "ports", Title: "Port 80", Status: preflight.Pass, Observed: "port 80 on every address is free"},
		{ID: "clock", Title: "Clock", Status: preflight.Pass, Observed: "synchronised by NTP"},
	}
	if fail {
		rs[4] = preflight.Result{ID: "ports", Title: "Port 443", Status: preflight.Fail,
			Observed: "port 443 on every address is held by nginx (pid 812)",
			Fix:      "stop that program, or choose another port with gateway.https_port in the answers file"}
	}
	return rs
}
