package compose_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

// tenServices is the benchmark project: ten independent small services.
func tenServices(img string) string {
	y := "services:\n"
	for i := range 10 {
		y += fmt.Sprintf("  s%d:\n    image: %s\n    <<: *hardened\n    init: true\n    command: [\"sleep\", \"3600\"]\n    read_only: true\n", i, img)
	}
	return y
}

func benchProject(b *testing.B) (*compose.Engine, string, string, func() *compose.Project) {
	e := labtest.Engine(b)
	img := labtest.Busybox(b, e)
	project := labtest.Project(b, e)
	dir, load := labtest.WriteProject(b, project, labtest.Hardened+tenServices(img), nil)
	return e, project, filepath.Join(dir, "compose.yaml"), load
}

// BenchmarkApplyFromScratch: networks, containers, starts, readiness.
func BenchmarkApplyFromScratch(b *testing.B) {
	e, project, _, load := benchProject(b)
	ctx := context.Background()
	for b.Loop() {
		if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := e.Down(ctx, project, compose.DownOptions{}, nil); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkReapplyUnchanged: the cost of a rerun that has nothing to do,
// including loading the compose file.
func BenchmarkReapplyUnchanged(b *testing.B) {
	e, _, _, load := benchProject(b)
	ctx := context.Background()
	if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if err := e.Up(ctx, load(), compose.UpOptions{}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func dockerCompose(b *testing.B) string {
	path, err := exec.LookPath("docker-compose")
	if err != nil {
		b.Skip("docker-compose is not installed (apt-get install docker-compose); no comparison")
	}
	return path
}

func runCompose(b *testing.B, bin, file, project string, args ...string) {
	cmd := exec.Command(bin, append([]string{"-f", file, "-p", project}, args...)...)
	cmd.Env = append(os.Environ(), "COMPOSE_INTERACTIVE_NO_CLI=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("docker-compose %v: %v\n%s", args, err, out)
	}
}

// BenchmarkDockerComposeUp is the same project through Debian's
// docker-compose `up -d` (which does not wait for readiness).
func BenchmarkDockerComposeUp(b *testing.B) {
	bin := dockerCompose(b)
	_, project, file, _ := benchProject(b)
	for b.Loop() {
		runCompose(b, bin, file, project, "up", "-d")
		b.StopTimer()
		runCompose(b, bin, file, project, "down")
		b.StartTimer()
	}
}

// BenchmarkDockerComposeReup is docker-compose's unchanged `up -d`.
func BenchmarkDockerComposeReup(b *testing.B) {
	bin := dockerCompose(b)
	_, project, file, _ := benchProject(b)
	runCompose(b, bin, file, project, "up", "-d")
	for b.Loop() {
		runCompose(b, bin, file, project, "up", "-d")
	}
	b.StopTimer()
	runCompose(b, bin, file, project, "down")
}
