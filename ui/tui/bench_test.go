package tui

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/fineract-installer/fineract-installer/lab/labtest"
	"github.com/fineract-installer/fineract-installer/steps"
)

// frameWriter records when the program first writes a frame holding mark.
type frameWriter struct {
	mu    sync.Mutex
	mark  string
	first chan struct{}
	seen  bool
	text  strings.Builder
}

func (w *frameWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen {
		w.text.Write(p)
		if strings.Contains(ansi.Strip(w.text.String()), w.mark) {
			w.seen = true
			close(w.first)
		}
	}
	return len(p), nil
}

// firstFrame runs a program and returns the time from creating the model
// to its first frame on the output.
func firstFrame(b *testing.B, mark string, model func() tea.Model) time.Duration {
	w := &frameWriter{mark: mark, first: make(chan struct{})}
	start := time.Now()
	p := tea.NewProgram(model(), tea.WithInput(nil), tea.WithOutput(w), tea.WithoutSignalHandler())
	done := make(chan struct{})
	go func() { _, _ = p.Run(); close(done) }()
	select {
	case <-w.first:
	case <-time.After(5 * time.Second):
		b.Fatal("no first frame within 5 s")
	}
	took := time.Since(start)
	p.Quit()
	<-done
	return took
}

// BenchmarkFirstFrame measures, in process, the time from building a
// screen (styles included) to its first frame written by the renderer.
func BenchmarkFirstFrame(b *testing.B) {
	opts := testWizardOptions(b, passingChecks())
	b.Run("wizard", func(b *testing.B) {
		var worst time.Duration
		for range b.N {
			d := firstFrame(b, "What will happen", func() tea.Model {
				m := newWizard(context.Background(), opts, false)
				return sized{m, 120, 40}
			})
			worst = max(worst, d)
		}
		b.ReportMetric(float64(worst.Microseconds())/1000, "ms-worst")
	})
	b.Run("deploy", func(b *testing.B) {
		var worst time.Duration
		for range b.N {
			d := firstFrame(b, "Overall", func() tea.Model {
				pipe := newPipeline(context.Background(), func(ctx context.Context, _ func(steps.Event)) error { <-ctx.Done(); return nil })
				b.Cleanup(pipe.close)
				return sized{newDeploy(context.Background(), DeployOptions{Steps: planSteps()}, false, pipe), 120, 40}
			})
			worst = max(worst, d)
		}
		b.ReportMetric(float64(worst.Microseconds())/1000, "ms-worst")
	})
}

// BenchmarkFirstFrameBinary starts the real program in a 120×40 tmux
// window and measures from launch until the first screen is visible; the
// same launch of a program that prints at once is subtracted, leaving the
// program's own start-up and first frame.
func BenchmarkFirstFrameBinary(b *testing.B) {
	if _, err := exec.LookPath("tmux"); err != nil {
		b.Skip("tmux not installed")
	}
	bin := demoBinary(b)
	measure := func(command, want string) time.Duration {
		sock := fmt.Sprintf("tui-bench-%d", time.Now().UnixNano())
		defer labtest.KillTmux(sock)
		start := time.Now()
		if out, err := exec.Command("tmux", "-L", sock, "new-session", "-d", "-s", "m", "-x", "120", "-y", "40", command+"; sleep 5").CombinedOutput(); err != nil {
			b.Fatalf("tmux: %v %s", err, out)
		}
		for time.Since(start) < 5*time.Second {
			out, _ := exec.Command("tmux", "-L", sock, "capture-pane", "-p", "-t", "m").Output()
			if strings.Contains(string(out), want) {
				return time.Since(start)
			}
		}
		b.Fatalf("%q never showed %q", command, want)
		return 0
	}
	var prog, base []time.Duration
	for range b.N {
		prog = append(prog, measure(bin+" -mode wizard", "What will happen"))
		base = append(base, measure("echo READY-NOW", "READY-NOW"))
	}
	slices.Sort(prog)
	slices.Sort(base)
	b.ReportMetric(float64(prog[len(prog)/2].Microseconds())/1000, "ms-launch-to-frame")
	b.ReportMetric(float64(base[len(base)/2].Microseconds())/1000, "ms-tmux-baseline")
}

// sized sends the terminal size first, as a real program receives it.
type sized struct {
	tea.Model
	w, h int
}

func (s sized) Init() tea.Cmd {
	return tea.Batch(s.Model.Init(), func() tea.Msg { return tea.WindowSizeMsg{Width: s.w, Height: s.h} })
}

func (s sized) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m, cmd := s.Model.Update(msg)
	s.Model = m
	return s, cmd
}

// timed wraps the deploy model and records how long each View and each
// batch Update take, and when the run's end was handled.
type timed struct {
	m     deployModel
	stats *floodStats
}

type floodStats struct {
	mu      sync.Mutex
	views   []time.Duration
	updates []time.Duration
	batches int
	lines   int
	ended   chan time.Time
}

func (t timed) Init() tea.Cmd { return t.m.Init() }

func (t timed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	start := time.Now()
	next, cmd := t.m.Update(msg)
	t.m = next.(deployModel)
	if ev, ok := msg.(runEventsMsg); ok {
		t.stats.mu.Lock()
		t.stats.updates = append(t.stats.updates, time.Since(start))
		t.stats.batches++
		for _, e := range ev.events {
			if e.Kind == steps.KindLog {
				t.stats.lines++
			}
		}
		t.stats.mu.Unlock()
		if ev.ended {
			t.stats.ended <- time.Now()
		}
	}
	return t, cmd
}

func (t timed) View() tea.View {
	start := time.Now()
	v := t.m.View()
	t.stats.mu.Lock()
	t.stats.views = append(t.stats.views, time.Since(start))
	t.stats.mu.Unlock()
	return v
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(int(float64(len(s))*p), len(s)-1)]
}

// flood feeds total log lines from 15 services at rate lines per second
// (0: as fast as the program takes them) through the real program.
func flood(b *testing.B, total, rate int) {
	stats := &floodStats{ended: make(chan time.Time, 1)}
	var lastEmit time.Time
	run := func(ctx context.Context, emit func(steps.Event)) error {
		emit(steps.Event{Kind: steps.KindStarted, Step: "services", Title: "Start the services"})
		const tick = time.Millisecond
		perTick := max(rate/1000, 1)
		next := time.Now()
		for i := 0; i < total; {
			for j := 0; j < perTick && i < total; j, i = j+1, i+1 {
				stream := "stdout"
				if i%11 == 0 {
					stream = "stderr"
				}
				emit(steps.Event{Kind: steps.KindLog, Step: "services", Subject: fmt.Sprintf("service-%02d", i%15), Stream: stream,
					Message: fmt.Sprintf("2025-03-14T09:25:%02d.%03dZ INFO  [main] o.a.f.core.Service - handled request %d in 12 ms", i%60, i%1000, i)})
			}
			if rate > 0 {
				next = next.Add(tick)
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
			}
		}
		lastEmit = time.Now()
		emit(done("services", "Start the services", time.Since(next).Seconds()))
		return nil
	}
	pipe := newPipeline(context.Background(), run)
	defer pipe.close()
	m := timed{m: newDeploy(context.Background(), DeployOptions{Steps: planSteps(), Run: run}, false, pipe), stats: stats}
	p := tea.NewProgram(sized{m, 120, 40}, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithoutSignalHandler())
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	go func() { _, _ = p.Run() }()
	ended := <-stats.ended
	elapsed := ended.Sub(start)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	p.Quit()
	stats.mu.Lock()
	defer stats.mu.Unlock()
	b.ReportMetric(float64(stats.lines)/elapsed.Seconds(), "lines/s")
	b.ReportMetric(float64(ended.Sub(lastEmit).Microseconds())/1000, "ms-lag-at-end")
	b.ReportMetric(float64(len(stats.views)), "frames")
	b.ReportMetric(float64(stats.batches), "batches")
	b.ReportMetric(float64(percentile(stats.views, 0.5).Microseconds())/1000, "ms-view-p50")
	b.ReportMetric(float64(percentile(stats.views, 0.99).Microseconds())/1000, "ms-view-p99")
	b.ReportMetric(float64(percentile(stats.views, 1).Microseconds())/1000, "ms-view-max")
	b.ReportMetric(float64(percentile(stats.updates, 0.99).Microseconds())/1000, "ms-batch-update-p99")
	b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc))/(1<<20), "MiB-heap-growth")
	if stats.lines != total {
		b.Fatalf("the program handled %d lines, want %d", stats.lines, total)
	}
}

// BenchmarkLogFlood: 100,000 lines at 10,000 lines per second, and the
// same lines as fast as they can be taken.
func BenchmarkLogFlood(b *testing.B) {
	b.Run("10k-per-second", func(b *testing.B) {
		for range b.N {
			flood(b, 100_000, 10_000)
		}
	})
	b.Run("unpaced", func(b *testing.B) {
		for range b.N {
			flood(b, 100_000, 0)
		}
	})
}
