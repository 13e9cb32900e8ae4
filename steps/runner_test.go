package steps

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/client"

	"github.com/fineract-installer/fineract-installer/steps/installation"
)

// markerStep is done when its marker file exists; Run creates it.
type markerStep struct {
	id   string
	dir  string
	runs atomic.Int32
	run  func(ctx context.Context, emit Emitter) error
}

func (s *markerStep) ID() string    { return s.id }
func (s *markerStep) Title() string { return "Step " + s.id }
func (s *markerStep) Check(context.Context) (bool, error) {
	_, err := os.Stat(filepath.Join(s.dir, s.id+".done"))
	return err == nil, nil
}
func (s *markerStep) Run(ctx context.Context, emit Emitter) error {
	s.runs.Add(1)
	if s.run != nil {
		if err := s.run(ctx, emit); err != nil {
			return err
		}
	}
	return os.WriteFile(filepath.Join(s.dir, s.id+".done"), nil, 0o644)
}

type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) add(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) kinds(step string) []Kind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Kind
	for _, e := range r.events {
		if e.Step == step && e.Kind != KindProgress {
			out = append(out, e.Kind)
		}
	}
	return out
}

func newSteps(dir string, ids ...string) []*markerStep {
	out := make([]*markerStep, len(ids))
	for i, id := range ids {
		out[i] = &markerStep{id: id, dir: dir}
	}
	return out
}

func TestRunnerOrderStateAndEvents(t *testing.T) {
	dir := t.TempDir()
	s := newSteps(dir, "a", "b", "c")
	// Each step checks that the state file already records the earlier
	// ones as done: state is saved after every step, not at the end.
	s[1].run = func(context.Context, Emitter) error {
		st, _ := LoadState(dir)
		if st.Steps["a"].Status != StatusDone || st.Steps["b"].Status != StatusRunning || st.Steps["c"].Status != StatusPending {
			return errors.New("state not saved before b: " + stateString(st))
		}
		return nil
	}
	rec := &recorder{}
	r := &Runner{Plan: (&Plan{}).Then(s[0]).Then(s[1]).Then(s[2]), Dir: dir, Project: "p", Events: rec.add}
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, e := range rec.events {
		if e.Kind == KindStarted {
			order = append(order, e.Step)
		}
	}
	if strings.Join(order, ",") != "a,b,c" {
		t.Errorf("start order %v", order)
	}
	st, _ := LoadState(dir)
	for _, id := range []string{"a", "b", "c"} {
		if st.Steps[id].Status != StatusDone || st.Steps[id].Finished.IsZero() {
			t.Errorf("step %s state %+v", id, st.Steps[id])
		}
	}
	if k := rec.kinds("a"); len(k) != 2 || k[0] != KindStarted || k[1] != KindDone {
		t.Errorf("events for a: %v", k)
	}
}

func TestRunnerRunsAStageInParallel(t *testing.T) {
	dir := t.TempDir()
	s := newSteps(dir, "images", "certs")
	// Each waits until the other has started: only a parallel run finishes.
	var started sync.WaitGroup
	started.Add(2)
	meet := func(ctx context.Context, _ Emitter) error {
		started.Done()
		done := make(chan struct{})
		go func() { started.Wait(); close(done) }()
		select {
		case <-done:
			return nil
		case <-time.After(5 * time.Second):
			return errors.New("the other step of the stage never started: not run in parallel")
		}
	}
	s[0].run, s[1].run = meet, meet
	r := &Runner{Plan: (&Plan{}).Then(s[0], s[1]), Dir: t.TempDir()}
	if err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestRunnerResumesAfterFailure(t *testing.T) {
	dir := t.TempDir()
	s := newSteps(dir, "a", "b", "c")
	fail := true
	s[1].run = func(context.Context, Emitter) error {
		if fail {
			return &Failure{Cause: "port 443 is taken", Hint: "stop the other web server", Logs: []string{"bind: address in use"}}
		}
		return nil
	}
	rec := &recorder{}
	plan := (&Plan{}).Then(s[0]).Then(s[1]).Then(s[2])
	r := &Runner{Plan: plan, Dir: dir, Events: rec.add}
	err := r.Run(context.Background())
	var se *StepError
	if !errors.As(err, &se) || se.Step != "b" {
		t.Fatalf("want a StepError for b, got %v", err)
	}
	if s[2].runs.Load() != 0 {
		t.Error("a step after the failure ran")
	}
	var failed Event
	for _, e := range rec.events {
		if e.Kind == KindFailed {
			failed = e
		}
	}
	if failed.Cause != "port 443 is taken" || failed.Hint != "stop the other web server" || len(failed.Logs) != 1 {
		t.Errorf("failed event lacks cause/hint/logs: %+v", failed)
	}
	st, _ := LoadState(dir)
	if st.Steps["b"].Status != StatusFailed || st.Steps["b"].Error != "port 443 is taken" || st.Steps["c"].Status != StatusPending {
		t.Errorf("state after failure: %s", stateString(st))
	}

	fail = false
	rec2 := &recorder{}
	r2 := &Runner{Plan: plan, Dir: dir, Events: rec2.add}
	if err := r2.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s[0].runs.Load() != 1 || s[1].runs.Load() != 2 || s[2].runs.Load() != 1 {
		t.Errorf("runs a=%d b=%d c=%d; want a once (skipped on rerun), b twice, c once", s[0].runs.Load(), s[1].runs.Load(), s[2].runs.Load())
	}
	if k := rec2.kinds("a"); len(k) != 1 || k[0] != KindSkipped {
		t.Errorf("rerun events for a: %v", k)
	}
}

func TestRunnerSaysWhenTheEngineIsLost(t *testing.T) {
	s := newSteps("", "deploy")
	// A client for an engine that is not there fails the way a stopped
	// engine does.
	gone, err := client.NewClientWithOpts(client.WithHost("unix://" + filepath.Join(t.TempDir(), "docker.sock")))
	if err != nil {
		t.Fatal(err)
	}
	s[0].run = func(ctx context.Context, _ Emitter) error {
		_, err := gone.Ping(ctx)
		return fmt.Errorf("create container for postgres: %w", err)
	}
	rec := &recorder{}
	if err := (&Runner{Plan: (&Plan{}).Then(s[0]), Events: rec.add}).Run(context.Background()); err == nil {
		t.Fatal("want the step's error")
	}
	for _, e := range rec.events {
		if e.Kind == KindFailed && (e.Hint != engineLostHint || !strings.Contains(e.Cause, "Cannot connect to the Docker daemon")) {
			t.Errorf("failure with the engine gone: %+v", e)
		}
	}
}

func TestRunnerCancellationLeavesConsistentState(t *testing.T) {
	dir := t.TempDir()
	s := newSteps(dir, "a", "slow", "c")
	ctx, cancel := context.WithCancel(context.Background())
	s[1].run = func(ctx context.Context, _ Emitter) error {
		cancel() // the person presses Ctrl-C while this step runs
		<-ctx.Done()
		return ctx.Err()
	}
	plan := (&Plan{}).Then(s[0]).Then(s[1]).Then(s[2])
	err := (&Runner{Plan: plan, Dir: dir}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	st, _ := LoadState(dir)
	if st.Steps["a"].Status != StatusDone || st.Steps["slow"].Status != StatusInterrupted || st.Steps["c"].Status != StatusPending {
		t.Fatalf("state after interruption: %s", stateString(st))
	}
	s[1].run = nil
	if err := (&Runner{Plan: plan, Dir: dir}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s[0].runs.Load() != 1 || s[2].runs.Load() != 1 {
		t.Errorf("rerun after interruption redid finished work: a=%d c=%d", s[0].runs.Load(), s[2].runs.Load())
	}
}

func TestLockRefusesASecondInstaller(t *testing.T) {
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Lock(dir)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("second lock: want ErrLocked naming the holder, got %v", err)
	}
	unlock()
	unlock2, err := Lock(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	unlock2()
}

func TestDuplicateStepIDsAreRejected(t *testing.T) {
	dir := t.TempDir()
	s := newSteps(dir, "a", "a")
	err := (&Runner{Plan: (&Plan{}).Then(s[0]).Then(s[1]), Dir: dir}).Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), `two steps with ID "a"`) {
		t.Fatalf("got %v", err)
	}
}

func stateString(st *State) string {
	var b strings.Builder
	for _, s := range st.Summary() {
		b.WriteString(s.ID + "=" + string(s.Status) + " ")
	}
	return b.String()
}

func TestRunnerWithoutDirWritesNothing(t *testing.T) {
	dir := t.TempDir()
	s := newSteps(dir, "check")
	s[0].run = func(context.Context, Emitter) error { return nil }
	cwd, _ := os.Getwd()
	if err := (&Runner{Plan: (&Plan{}).Then(s[0])}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(installation.New(cwd, "").StateFile()); err == nil {
		t.Error("a stateless run wrote a state file")
	}
}

// A day-2 command's run is recorded apart: the install's record (what
// `status` shows, including an uninstall, and what install resumes from)
// is left byte for byte as it was, even when the day-2 run fails.
func TestDay2RunLeavesTheInstallRecordAlone(t *testing.T) {
	dir := t.TempDir()
	install := &State{Version: 1, Project: "p", Order: []string{"a"}, Uninstalled: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Steps: map[string]*StepState{"a": {Status: StatusDone}}}
	if err := install.Save(dir); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(installation.New(dir, "").StateFile())
	if err != nil {
		t.Fatal(err)
	}
	s := newSteps(t.TempDir(), "copy", "prune")
	s[1].run = func(context.Context, Emitter) error { return &Failure{Cause: "disk full"} }
	r := &Runner{Plan: (&Plan{}).Then(s[0]).Then(s[1]), Dir: dir, Project: "p", Command: "backup"}
	if err := r.Run(context.Background()); err == nil {
		t.Fatal("the failing step did not fail the run")
	}
	after, err := os.ReadFile(installation.New(dir, "").StateFile())
	if err != nil || string(after) != string(before) {
		t.Errorf("a day-2 run changed the install record:\n%s\nwas\n%s", after, before)
	}
	rec, err := LoadCommandState(dir, "backup")
	if err != nil {
		t.Fatal(err)
	}
	if rec.Command != "backup" || rec.Steps["copy"].Status != StatusDone || rec.Steps["prune"].Status != StatusFailed || rec.Steps["prune"].Error != "disk full" {
		t.Errorf("backup record: command %q, %s", rec.Command, stateString(rec))
	}
	if _, ok := rec.Steps["a"]; ok {
		t.Error("the backup record carries the install's steps")
	}
}

// A day-2 command whose install dir is not there (restore onto a fresh
// host, before it puts the directory in place; uninstall --purge, after
// it removed it) runs without recording and without making the directory.
func TestDay2RunWithoutItsInstallDirRecordsNothing(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "install")
	s := newSteps(t.TempDir(), "stage")
	if err := (&Runner{Plan: (&Plan{}).Then(s[0]), Dir: dir, Command: "restore"}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the run made %s: %v", dir, err)
	}
}

// An interrupted day-2 run is recorded as such in its own record, and a
// rerun resumes from the first step whose check fails, as install's does;
// the record then describes the rerun alone.
func TestInterruptedDay2RunResumes(t *testing.T) {
	dir, marks := t.TempDir(), t.TempDir()
	s := newSteps(marks, "archive", "unseal", "prune")
	ctx, cancel := context.WithCancel(context.Background())
	s[1].run = func(ctx context.Context, _ Emitter) error {
		cancel()
		<-ctx.Done()
		return ctx.Err()
	}
	plan := (&Plan{}).Then(s[0]).Then(s[1]).Then(s[2])
	err := (&Runner{Plan: plan, Dir: dir, Command: "certs rotate"}).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	rec, _ := LoadCommandState(dir, "certs rotate")
	if rec.Steps["archive"].Status != StatusDone || rec.Steps["unseal"].Status != StatusInterrupted || rec.Steps["prune"].Status != StatusPending {
		t.Fatalf("record after interruption: %s", stateString(rec))
	}
	if _, err := os.Stat(installation.New(dir, "").StateFile()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the day-2 run wrote the install's state file: %v", err)
	}
	s[1].run = nil
	rec2 := &recorder{}
	if err := (&Runner{Plan: plan, Dir: dir, Command: "certs rotate", Events: rec2.add}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if s[0].runs.Load() != 1 || s[1].runs.Load() != 2 || s[2].runs.Load() != 1 {
		t.Errorf("rerun: archive=%d unseal=%d prune=%d; want the finished step skipped", s[0].runs.Load(), s[1].runs.Load(), s[2].runs.Load())
	}
	rec, _ = LoadCommandState(dir, "certs rotate")
	if rec.Steps["unseal"].Status != StatusDone || rec.Steps["unseal"].Error != "" {
		t.Errorf("record after the rerun: %s", stateString(rec))
	}
}

// A restore's record becomes the restored installation's install record,
// as its own run: `status` shows it, and it no longer names the command.
func TestAdoptedRecordIsTheInstallRecord(t *testing.T) {
	dir := t.TempDir()
	s := newSteps(t.TempDir(), "restore-stop", "services")
	if err := (&Runner{Plan: (&Plan{}).Then(s[0]).Then(s[1]), Dir: dir, Project: "p", Command: "restore"}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := AdoptCommandState(dir, "restore"); err != nil {
		t.Fatal(err)
	}
	st, err := LoadState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Command != "" || st.Project != "p" || stateString(st) != "restore-stop=done services=done " {
		t.Errorf("install record after a restore: command %q project %q %s", st.Command, st.Project, stateString(st))
	}
}
