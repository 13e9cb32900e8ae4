package tui

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// lines is input for line prompts, read one byte at a time so each prompt
// gets exactly its own line.
func lineInput(ls ...string) *strings.Reader {
	return strings.NewReader(strings.Join(ls, "\n") + "\n")
}

func TestRunWizardNeedsATerminal(t *testing.T) {
	opts := testWizardOptions(t, passingChecks())
	opts.Terminal = Terminal{In: strings.NewReader(""), Out: &bytes.Buffer{}}
	if _, err := RunWizard(context.Background(), opts); !errors.Is(err, ErrNoTerminal) {
		t.Fatalf("RunWizard without a terminal returned %v, want ErrNoTerminal", err)
	}
	if Interactive(opts.Terminal) {
		t.Fatal("a buffer is not a terminal")
	}
	opts.Preflight = nil
	if _, err := RunWizard(context.Background(), opts); err == nil {
		t.Fatal("RunWizard without a preflight must fail")
	}
}

func TestAccessibleWizardAsksLinePrompts(t *testing.T) {
	opts := testWizardOptions(t, passingChecks())
	var out bytes.Buffer
	in := lineInput(
		"n",    // run the checks again?
		"1",    // profile: production
		"", "", // host name, IPs: detected defaults
		"3", "2", // shares, threshold
		"1",            // custody: show
		"1",            // certificates: generate
		"", "", "", "", // the four subnets
		"3", "0", // services: toggle monitoring, done
		"1", // review: save and install
	)
	opts.Terminal = Terminal{Accessible: true, In: iotest.OneByteReader(in), Out: &out}
	done := make(chan struct{})
	var res WizardResult
	var err error
	go func() { res, err = RunWizard(context.Background(), opts); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		t.Fatalf("the accessible wizard did not finish; output so far:\n%s", out.String())
	}
	if err != nil {
		t.Fatalf("accessible wizard: %v\n%s", err, out.String())
	}
	text := out.String()
	if strings.Contains(text, "\x1b[") {
		t.Fatal("line prompts must not contain escape sequences")
	}
	for _, s := range []string{"Step 2 of 9: Preflight", "7 pass, 0 warning, 0 failing", "Which profile?",
		"3 shares, 2 needed", "Step 9 of 9: Review", "The answers are valid."} {
		if !strings.Contains(text, s) {
			t.Errorf("the accessible wizard never said %q", s)
		}
	}
	a := res.Answers
	if !res.Start || res.Saved != opts.AnswersPath || a.Vault.KeyShares != 3 || a.Vault.KeyThreshold != 2 ||
		a.Host.Hostname != "bank-core-01" || !a.HasGroup(answers.GroupMonitoring) {
		t.Fatalf("result %+v", res)
	}
	if back, err := answers.Load(res.Saved); err != nil || back.Vault.KeyThreshold != 2 {
		t.Fatalf("saved answers: %v %+v", err, back.Vault)
	}
	if t.Failed() {
		t.Log(text)
	}
}

func TestAccessibleWizardChecksFieldsAndScreens(t *testing.T) {
	opts := testWizardOptions(t, passingChecks())
	var out bytes.Buffer
	in := lineInput("n", "1", "", "",
		"2", "2", "1", // vault
		"1",
		"", "10.231.10.0/24", // app overlaps dmz: asked again at once
		"10.231.99.0/24", "", "", // app clashes with the host's eth1: the screen comes back
		"", "10.231.20.0/24", "", "",
		"0", "4") // services: none; review: leave without saving
	opts.Terminal = Terminal{Accessible: true, In: iotest.OneByteReader(in), Out: &out}
	_, err := RunWizard(context.Background(), opts)
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("leaving without saving returned %v\n%s", err, out.String())
	}
	text := out.String()
	if !strings.Contains(text, "app         network.app.subnet 10.231.10.0/24 overlaps network.dmz.subnet") {
		t.Fatalf("the overlap was not reported at its prompt:\n%s", text)
	}
	if !strings.Contains(text, "Please fix: network.app.subnet 10.231.99.0/24 overlaps interface eth1") ||
		strings.Count(text, "Step 7 of 9: Networks") != 2 {
		t.Fatalf("the clash with the host must bring the screen back once:\n%s", text)
	}
}

func TestRunDeployPrintsLinesWithoutATerminal(t *testing.T) {
	var out bytes.Buffer
	run := func(ctx context.Context, emit func(steps.Event)) error {
		for _, e := range midRunEvents() {
			emit(e)
		}
		emit(steps.Event{Kind: steps.KindProgress, Step: "images", Subject: "apache/fineract:1.10.1", Current: 742 << 20, Total: 742 << 20, Unit: "bytes"})
		emit(done("images", "Make the container images available", 83))
		return nil
	}
	res, err := RunDeploy(context.Background(), DeployOptions{
		Terminal: Terminal{Out: &out, In: strings.NewReader("")}, Steps: planSteps(), Run: run,
		Summary: func(context.Context) Summary { return finalSummary() },
	})
	if err != nil || res.Status != Installed {
		t.Fatalf("outcome %+v, %v", res, err)
	}
	text := out.String()
	if strings.Contains(text, "\x1b") {
		t.Fatalf("plain output has escape sequences:\n%q", text)
	}
	for _, s := range []string{"✓ Check the host (0.4s)", "↷ : already done", "  apache/fineract:1.10.1: 742 MiB",
		"  vault ! 2025-03-14T09:25:07.000Z", "  vault | 2025-03-14T09:25:01.000Z", "! image hashicorp/vault:1.18",
		"Web app: https://bank-core-01/", "Host\n  ✗ Swap is off or limited", "swappiness 60 with 8 GiB swap\n", "fix: set vm.swappiness=1"} {
		if !strings.Contains(text, s) {
			t.Errorf("plain output lacks %q", s)
		}
	}
	if strings.Count(text, "apache/fineract:1.10.1") != 1 {
		t.Errorf("byte progress must print once per download:\n%s", text)
	}
	if t.Failed() {
		t.Log(text)
	}
}

func TestRunDeployPlainRefusesToShowKeyShares(t *testing.T) {
	cer := NewCeremony()
	var showErr error
	run := func(ctx context.Context, emit func(steps.Event)) error {
		showErr = cer.Show(ctx, ceremonyShares(), 3)
		emit(steps.Event{Kind: steps.KindFailed, Step: "vault", Title: "Initialise Vault and deliver secrets", Cause: showErr.Error()})
		return showErr
	}
	var out bytes.Buffer
	res, err := RunDeploy(context.Background(), DeployOptions{Terminal: Terminal{Plain: true, Out: &out}, Steps: planSteps(), Run: run, Ceremony: cer})
	if err != nil || res.Status != Failed || res.FailedStep != "vault" {
		t.Fatalf("outcome %+v, %v", res, err)
	}
	if showErr == nil || !strings.Contains(showErr.Error(), "only be shown to a person at a terminal") {
		t.Fatalf("Show without a person returned %v", showErr)
	}
	if strings.Contains(out.String(), ceremonyShares()[0]) {
		t.Fatal("a share was printed without a person to read it")
	}
}

func TestRunDeployAccessibleCeremonyAndRetry(t *testing.T) {
	cer := NewCeremony()
	attempts := 0
	shares := ceremonyShares()
	run := func(ctx context.Context, emit func(steps.Event)) error {
		attempts++
		if attempts == 1 {
			emit(steps.Event{Kind: steps.KindFailed, Step: "images", Title: "Make the container images available", Cause: "registry unreachable",
				Hint: "load the images from a bundle", Logs: []string{"dial tcp: i/o timeout"}})
			return errors.New("images failed")
		}
		if err := cer.Show(ctx, shares, 3); err != nil {
			return err
		}
		got, err := cer.Ask(ctx, 1)
		if err != nil {
			return err
		}
		if got != shares[1] {
			return errors.New("wrong share " + got)
		}
		emit(done("vault", "Initialise Vault and deliver secrets", 2))
		return nil
	}
	var out bytes.Buffer
	in := lineInput("1", "y", shares[1]) // retry; recorded; share #2
	res, err := RunDeploy(context.Background(), DeployOptions{
		Terminal: Terminal{Accessible: true, In: iotest.OneByteReader(in), Out: &out},
		Steps:    planSteps(), Run: run, Ceremony: cer,
	})
	if err != nil || res.Status != Installed || attempts != 2 {
		t.Fatalf("outcome %+v, %v after %d attempts\n%s", res, err, attempts, out.String())
	}
	text := out.String()
	for _, s := range []string{"✗ Make the container images available failed: registry unreachable", "hint: load the images",
		"dial tcp: i/o timeout", "shown ONCE", "Share 5: " + shares[4], "Type share #2", "✓ Initialise Vault"} {
		if !strings.Contains(text, s) {
			t.Errorf("accessible output lacks %q", s)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}

func TestRunDeployStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var out bytes.Buffer
	run := func(ctx context.Context, emit func(steps.Event)) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
	go func() { <-started; cancel() }()
	res, err := RunDeploy(ctx, DeployOptions{Terminal: Terminal{Plain: true, Out: &out}, Steps: planSteps(), Run: run})
	if err != nil || res.Status != Interrupted {
		t.Fatalf("outcome %+v, %v", res, err)
	}
}

// At line prompts (--accessible) the deploy asks the pipeline's other
// questions too: passwords handed out once are shown and confirmed, and a
// secret the pipeline needs (a share of a sealed Vault) is read as a line.
func TestRunDeployAccessibleAsksForCredentialsAndSecrets(t *testing.T) {
	cer := NewCeremony()
	const password, share = "Shown-0nce.9xQ", "c2hhcmUtb25l"
	var got string
	run := func(ctx context.Context, emit func(steps.Event)) error {
		if err := cer.ShowCredentials(ctx, "Fineract administrator\n  user:     mifos\n  password: "+password); err != nil {
			return err
		}
		b, err := cer.Secret(ctx, "Key share 1 of 3:")
		if err != nil {
			return err
		}
		got = string(b)
		emit(done("vault", "Initialise Vault and deliver secrets", 2))
		return nil
	}
	var out bytes.Buffer
	in := lineInput("y", " "+share+" ")
	res, err := RunDeploy(context.Background(), DeployOptions{
		Terminal: Terminal{Accessible: true, In: iotest.OneByteReader(in), Out: &out},
		Steps:    planSteps(), Run: run, Ceremony: cer,
	})
	if err != nil || res.Status != Installed || got != share {
		t.Fatalf("outcome %+v, %v, secret %q\n%s", res, err, got, out.String())
	}
	text := out.String()
	for _, s := range []string{"password: " + password, "Have you recorded them?", "Key share 1 of 3:"} {
		if !strings.Contains(text, s) {
			t.Errorf("accessible output lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "unseal key shares are shown ONCE") {
		t.Errorf("passwords were announced as key shares:\n%s", text)
	}
}
