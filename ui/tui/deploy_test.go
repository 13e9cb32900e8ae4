package tui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/fineract-installer/fineract-installer/steps"
	"github.com/fineract-installer/fineract-installer/steps/vault"
)

func pressDeploy(t *testing.T, m deployModel, names ...string) deployModel {
	t.Helper()
	for _, n := range names {
		next, _ := m.Update(keyMsg(n))
		m = next.(deployModel)
	}
	return m
}

func feedEvents(t *testing.T, m deployModel, evs ...steps.Event) deployModel {
	t.Helper()
	next, _ := m.Update(runEventsMsg{events: evs})
	return next.(deployModel)
}

func TestDeployAppliesEvents(t *testing.T) {
	m := newTestDeploy(t, DeployOptions{Steps: planSteps()}, 120, 40)
	m = feedEvents(t, m, midRunEvents()...)
	want := map[string]stepStatus{"preflight": stepDone, "install-dir": stepSkipped, "render": stepDone, "images": stepRunning, "certificates": stepPending}
	for id, st := range want {
		if got := m.rows[m.index[id]].status; got != st {
			t.Errorf("step %s is %d, want %d", id, got, st)
		}
	}
	img := m.rows[m.index["images"]]
	if f := img.fraction(); f < 0.5 || f > 0.52 {
		t.Fatalf("images progress %.3f, want (318+151+12)/(742+151+48) ≈ 0.511", f)
	}
	if frac, finished := overall(m.rows); finished != 3 || frac < 0.35 || frac > 0.36 {
		t.Fatalf("overall %.3f with %d finished, want 0.351 and 3", frac, finished)
	}
	v := screen(m.View())
	for _, s := range []string{"✓ Check the host", "0.4s", "↷ Prepare the install directory", "1m23s",
		"318 MiB / 742 MiB", "! image hashicorp/vault:1.18 has no digest pin", "35%  3 of 10 steps", "Logs ‹ vault ›"} {
		if !strings.Contains(v, s) {
			t.Errorf("the deploy view lacks %q", s)
		}
	}
	m = feedEvents(t, m, steps.Event{Kind: steps.KindStarted, Step: "extra", Title: "A step the plan did not list", Time: fixedNow})
	if i, ok := m.index["extra"]; !ok || m.rows[i].status != stepRunning {
		t.Fatal("an event for an unlisted step must add a row")
	}
	if t.Failed() {
		t.Log(v)
	}
}

func TestDeployLogTailKeys(t *testing.T) {
	m := newTestDeploy(t, DeployOptions{Steps: planSteps()}, 80, 24)
	m = feedEvents(t, m, midRunEvents()...)
	for i := 1; i <= 5; i++ {
		m = feedEvents(t, m, steps.Event{Kind: steps.KindLog, Subject: "postgres", Stream: "stderr", Message: fmt.Sprintf("pg line %d", i)})
	}
	if m.tail.Selected() != "postgres" {
		t.Fatalf("the service that started last must be shown, got %q", m.tail.Selected())
	}
	m = pressDeploy(t, m, "left")
	if m.tail.Selected() != "vault" {
		t.Fatalf("← must show the previous service, got %q", m.tail.Selected())
	}
	m = pressDeploy(t, m, "up", "up")
	if m.tail.Following() || m.tail.Offset() != 2 {
		t.Fatalf("↑↑ must pause 2 lines up (follow %v, offset %d)", m.tail.Following(), m.tail.Offset())
	}
	m = feedEvents(t, m, steps.Event{Kind: steps.KindLog, Subject: "vault", Message: "new line while paused"})
	if strings.Contains(screen(m.View()), "new line while paused") || m.tail.Offset() != 3 {
		t.Fatalf("a paused tail must stay where it is (offset %d):\n%s", m.tail.Offset(), screen(m.View()))
	}
	m = pressDeploy(t, m, "f")
	if !m.tail.Following() || !strings.Contains(screen(m.View()), "new line while paused") {
		t.Fatalf("f must follow again and show the newest line:\n%s", screen(m.View()))
	}
	m = pressDeploy(t, m, "f")
	if m.tail.Following() {
		t.Fatal("f must toggle following off")
	}
	m = pressDeploy(t, m, "G")
	if !m.tail.Following() {
		t.Fatal("G must jump to the newest line and follow")
	}
	if strings.Contains(screen(m.View()), "log line 14 of the vault server") {
		t.Fatal("the test needs line 14 hidden in the running view")
	}
	m = pressDeploy(t, m, "l")
	if m.mode != modeLogs || !strings.Contains(screen(m.View()), "log line 14 of the vault server") {
		t.Fatalf("l must show the full-screen log (mode %s):\n%s", m.mode, screen(m.View()))
	}
	m = pressDeploy(t, m, "g")
	if !strings.Contains(screen(m.View()), "log line 1 of the vault server") {
		t.Fatalf("g must show the oldest line:\n%s", screen(m.View()))
	}
	m = pressDeploy(t, m, "esc")
	if m.mode != modeRunning {
		t.Fatalf("esc must leave the full-screen log, mode %s", m.mode)
	}
	m = pressDeploy(t, m, "?")
	if !strings.Contains(screen(m.View()), "previous service") {
		t.Fatalf("? must show every key:\n%s", screen(m.View()))
	}
}

// runProgram runs a deploy model in a test program.
func runProgram(t *testing.T, opts DeployOptions, w, h int) program {
	t.Helper()
	if opts.Now == nil {
		opts.Now = clock
	}
	pipe := newPipeline(context.Background(), opts.Run)
	t.Cleanup(pipe.close)
	return runTest(t, newDeploy(context.Background(), opts, false, pipe), w, h)
}

func TestDeployStopAsksThenCancelsTheRunningStep(t *testing.T) {
	var cancelled atomic.Bool
	runCtx := make(chan context.Context, 1)
	run := func(ctx context.Context, emit func(steps.Event)) error {
		runCtx <- ctx
		emit(steps.Event{Kind: steps.KindStarted, Step: "images", Title: "Make the container images available", Time: fixedNow})
		<-ctx.Done()
		cancelled.Store(true)
		emit(steps.Event{Kind: steps.KindFailed, Step: "images", Title: "Make the container images available", Cause: "interrupted"})
		return fmt.Errorf("install: %w", context.Canceled)
	}
	p := runProgram(t, DeployOptions{Steps: planSteps(), Run: run}, 80, 24)
	p.waitFor(t, "Make the container images available")
	ctx := <-runCtx
	p.send(keyMsg("q"))
	p.waitFor(t, "Stop the install?")
	p.send(keyMsg("n"))
	// Once a frame drawn after the answer is shown, Update has handled
	// it, and Update is where a stop cancels the attempt's context: were
	// it cancelled, it would be cancelled by now.
	p.waitUntil(t, func(m tea.Model) bool { return !m.(deployModel).quitAsk }, "q stop")
	if ctx.Err() != nil || p.w.last.Load().model.(deployModel).stopping {
		t.Fatal("n must not stop the install")
	}
	p.send(keyMsg("ctrl+c"))
	p.waitFor(t, "Stop the install?")
	p.send(keyMsg("y"))
	final := finalModel[deployModel](t, p)
	if !cancelled.Load() {
		t.Fatal("y must cancel the running step")
	}
	if final.outcome.Status != Interrupted || final.outcome.FailedStep != "images" {
		t.Fatalf("outcome %+v, want interrupted at images", final.outcome)
	}
	if final.rows[final.index["images"]].status != stepStopped {
		t.Fatal("the cancelled step must show as stopped, not failed")
	}
}

func TestDeployRetryResumesAfterAFailure(t *testing.T) {
	var attempts atomic.Int32
	run := func(ctx context.Context, emit func(steps.Event)) error {
		n := attempts.Add(1)
		emit(steps.Event{Kind: steps.KindSkipped, Step: "preflight", Title: "Check the host", Message: "already done"})
		emit(steps.Event{Kind: steps.KindStarted, Step: "services", Title: "Start the services", Time: fixedNow})
		emit(steps.Event{Kind: steps.KindLog, Step: "services", Subject: "fineract", Stream: "stderr", Message: "connection refused"})
		if n == 1 {
			emit(steps.Event{Kind: steps.KindFailed, Step: "services", Title: "Start the services", Subject: "fineract",
				Cause: "service fineract did not become healthy", Hint: "check postgres"})
			return &steps.StepError{Step: "services", Err: errors.New("unhealthy")}
		}
		emit(done("services", "Start the services", 12))
		return nil
	}
	var bundles atomic.Int32
	p := runProgram(t, DeployOptions{Steps: planSteps(), Run: run,
		SupportBundle: func(context.Context) (string, error) { bundles.Add(1); return "/tmp/bundle-1.tar.gz", nil },
		Summary:       func(context.Context) Summary { return finalSummary() }}, 120, 40)
	p.waitFor(t, "Cause  service fineract did not become healthy")
	p.send(keyMsg("b"))
	p.waitFor(t, "Support bundle written to /tmp/bundle-1.tar.gz")
	p.send(keyMsg("r"))
	p.waitFor(t, "Where to log in")
	p.send(keyMsg("q"))
	final := finalModel[deployModel](t, p)
	if attempts.Load() != 2 || bundles.Load() != 1 {
		t.Fatalf("%d attempts and %d bundles, want 2 and 1", attempts.Load(), bundles.Load())
	}
	if final.outcome.Status != Installed || final.outcome.SupportBundle != "/tmp/bundle-1.tar.gz" || final.outcome.Err != nil {
		t.Fatalf("outcome %+v", final.outcome)
	}
}

func TestDeployQuitFromTheFailureScreenKeepsState(t *testing.T) {
	run := func(ctx context.Context, emit func(steps.Event)) error {
		emit(steps.Event{Kind: steps.KindFailed, Step: "vault", Title: "Initialise Vault and deliver secrets", Cause: "vault sealed"})
		return &steps.StepError{Step: "vault", Err: errors.New("vault sealed")}
	}
	p := runProgram(t, DeployOptions{Steps: planSteps(), Run: run, ResumeCommand: "fineract-installer install"}, 120, 40)
	out := p.waitFor(t, "resumes at this step")
	if !strings.Contains(out, "`fineract-installer install`") {
		t.Fatal("the failure screen must name the resume command")
	}
	p.send(keyMsg("q"))
	final := finalModel[deployModel](t, p)
	if final.outcome.Status != Failed || final.outcome.FailedStep != "vault" || final.outcome.Err == nil {
		t.Fatalf("outcome %+v", final.outcome)
	}
}

// TestCeremonyWithVaultShowAndConfirm wires the hook exactly as the Vault
// step's custody callback is built and drives it in a program.
func TestCeremonyWithVaultShowAndConfirm(t *testing.T) {
	cer := NewCeremony()
	shares := ceremonyShares()
	custody := vault.ShowAndConfirm(
		func(ctx context.Context, r *vault.InitResult) error { return cer.Show(ctx, r.Keys, r.Threshold) },
		cer.Ask)
	custodyErr := make(chan error, 1)
	run := func(ctx context.Context, emit func(steps.Event)) error {
		emit(steps.Event{Kind: steps.KindStarted, Step: "vault", Title: "Initialise Vault and deliver secrets", Time: fixedNow})
		err := custody(ctx, &vault.InitResult{Keys: shares, Shares: 5, Threshold: 3})
		custodyErr <- err
		if err != nil {
			return err
		}
		emit(done("vault", "Initialise Vault and deliver secrets", 3))
		return nil
	}
	p := runProgram(t, DeployOptions{Steps: planSteps(), Run: run, Ceremony: cer}, 120, 40)
	p.waitFor(t, shares[4])
	p.send(keyMsg("enter"))
	p.waitFor(t, "Have you recorded all 5 shares?")
	p.send(keyMsg("y"))
	out := p.waitFor(t, "exactly as you recorded it")
	if strings.Contains(out, shares[0]) {
		t.Fatal("the shares are still on screen after they were confirmed")
	}
	idx := regexp.MustCompile(`share #(\d)`).FindStringSubmatch(out)
	if idx == nil {
		t.Fatalf("the screen does not say which share to type:\n%s", out)
	}
	var n int
	fmt.Sscan(idx[1], &n)
	p.send(paste("not-the-share"))
	p.send(keyMsg("enter"))
	p.waitFor(t, "Attempt 2 of 3")
	p.send(paste(shares[n-1]))
	p.send(keyMsg("enter"))
	select {
	case err := <-custodyErr:
		if err != nil {
			t.Fatalf("custody failed with the right share: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the custody callback did not return after the right share")
	}
	p.waitFor(t, "✓ Installed")
	p.send(keyMsg("q"))
	final := finalModel[deployModel](t, p)
	if final.outcome.Status != Installed {
		t.Fatalf("outcome %+v", final.outcome)
	}
	if final.cer.shares != nil {
		t.Fatal("the model still holds the shares")
	}
}

// TestCredentialsAreShownOnceAndForgotten hands a password out through
// the ceremony screen, as the install's front-door step does: shown, one
// confirmation, then gone from the screen and the model.
func TestCredentialsAreShownOnceAndForgotten(t *testing.T) {
	cer := NewCeremony()
	const password = "Shown-0nce.9xQ"
	shown := make(chan error, 1)
	run := func(ctx context.Context, emit func(steps.Event)) error {
		emit(steps.Event{Kind: steps.KindStarted, Step: "fineract-admin", Title: "Replace Fineract's default login", Time: fixedNow})
		err := cer.ShowCredentials(ctx, "Fineract administrator\n  user:     mifos\n  password: "+password)
		shown <- err
		return err
	}
	p := runProgram(t, DeployOptions{Steps: planSteps(), Run: run, Ceremony: cer}, 120, 40)
	p.waitFor(t, password)
	p.send(keyMsg("enter"))
	p.waitFor(t, "Have you recorded them?")
	p.send(keyMsg("y"))
	select {
	case err := <-shown:
		if err != nil {
			t.Fatalf("ShowCredentials: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ShowCredentials did not return after the confirmation")
	}
	out := p.waitFor(t, "✓ Installed")
	if strings.Contains(out, password) {
		t.Error("the password is still on screen after it was confirmed")
	}
	p.send(keyMsg("q"))
	if final := finalModel[deployModel](t, p); final.cer.credentials != "" {
		t.Error("the model still holds the password")
	}
}

func TestCeremonyIsAbandonedWhenTheOperatorStops(t *testing.T) {
	cer := NewCeremony()
	showErr := make(chan error, 1)
	run := func(ctx context.Context, emit func(steps.Event)) error {
		err := cer.Show(ctx, ceremonyShares(), 3)
		showErr <- err
		return err
	}
	p := runProgram(t, DeployOptions{Steps: planSteps(), Run: run, Ceremony: cer}, 80, 24)
	p.waitFor(t, "shown ONCE")
	p.send(keyMsg("ctrl+c"))
	p.waitFor(t, "Stop the install?")
	p.send(keyMsg("y"))
	final := finalModel[deployModel](t, p)
	if err := <-showErr; !errors.Is(err, ErrCeremonyAborted) && !errors.Is(err, context.Canceled) {
		t.Fatalf("Show returned %v, want the ceremony abandoned", err)
	}
	if final.outcome.Status != Interrupted {
		t.Fatalf("outcome %+v", final.outcome)
	}
}

func TestCeremonyCallsEndWithTheirContext(t *testing.T) {
	cer := NewCeremony()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := cer.Show(ctx, []string{"x"}, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Show without a program returned %v, want the context's error", err)
	}
	if _, err := cer.Ask(ctx, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Ask without a program returned %v", err)
	}
	if err := cer.Show(context.Background(), nil, 1); err == nil {
		t.Fatal("Show with no shares must fail")
	}
}

func TestDeployFramesFitEverySize(t *testing.T) {
	m := newTestDeploy(t, DeployOptions{Steps: planSteps()}, 80, 24)
	m = feedEvents(t, m, midRunEvents()...)
	for _, mode := range []deployMode{modeRunning, modeLogs, modeFailed, modeFinal} {
		m.mode = mode
		if mode == modeFinal {
			m.summary = finalSummary()
		}
		for _, sz := range [][2]int{{80, 24}, {100, 30}, {120, 40}, {200, 60}} {
			next, _ := m.Update(tea.WindowSizeMsg{Width: sz[0], Height: sz[1]})
			m = next.(deployModel)
			checkFrame(t, m.draw(), sz[0], sz[1])
		}
	}
}

// TestSecretIsAskedOnTheDeployScreen asks for an unseal key share the way
// a sealed Vault does while the deploy program owns the terminal: the
// question is on the program's screen, what is typed is masked, and the
// line reaches the pipeline without the spaces around it.
func TestSecretIsAskedOnTheDeployScreen(t *testing.T) {
	cer := NewCeremony()
	const share = "c2hhcmUtb25lLWZvci10ZXN0"
	got := make(chan string, 1)
	run := func(ctx context.Context, emit func(steps.Event)) error {
		emit(steps.Event{Kind: steps.KindStarted, Step: "vault", Title: "Initialise Vault and deliver secrets", Time: fixedNow})
		b, err := cer.Secret(ctx, "Vault is sealed (any 3 of its 5 key shares unseal it). Key share 1 of 3: ")
		if err != nil {
			return err
		}
		got <- string(b)
		emit(done("vault", "Initialise Vault and deliver secrets", 3))
		return nil
	}
	p := runProgram(t, DeployOptions{Steps: planSteps(), Run: run, Ceremony: cer}, 120, 40)
	p.waitFor(t, "Key share 1 of 3", "What you type is not shown")
	p.send(paste(" " + share + " "))
	out := p.waitFor(t, "› ****")
	if strings.Contains(out, share) {
		t.Fatalf("the share is shown as it is typed:\n%s", out)
	}
	p.send(keyMsg("enter"))
	select {
	case s := <-got:
		if s != share {
			t.Errorf("the pipeline got %q, want %q", s, share)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Secret did not return after Enter")
	}
	p.waitFor(t, "✓ Installed")
	p.send(keyMsg("q"))
	finalModel[deployModel](t, p)
}
