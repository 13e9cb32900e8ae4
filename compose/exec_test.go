package compose_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fineract-installer/fineract-installer/compose"
	"github.com/fineract-installer/fineract-installer/lab/labtest"
)

func TestExecStreamsStdinAndStdout(t *testing.T) {
	e := labtest.Engine(t)
	img := labtest.Busybox(t, e)
	project := labtest.Project(t, e)
	_, load := labtest.WriteProject(t, project, labtest.Hardened+fmt.Sprintf("services:\n  box:\n    image: %s\n    <<: *hardened\n    init: true\n    command: [sleep, \"3600\"]\n", img), nil)
	up(t, e, load(), compose.UpOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	input := strings.Repeat("line of input\n", 10000)
	res, err := e.Exec(ctx, project, "box", "", []string{"wc", "-c"}, strings.NewReader(input), nil)
	if err != nil || res.ExitCode != 0 || strings.TrimSpace(string(res.Stdout)) != fmt.Sprint(len(input)) {
		t.Fatalf("wc of stdin: %v exit %d out %q err %q", err, res.ExitCode, res.Stdout, res.Stderr)
	}
	var out bytes.Buffer
	res, err = e.Exec(ctx, project, "box", "1000", []string{"sh", "-c", "id -u; echo oops >&2; exit 3"}, nil, &out)
	if err != nil || res.ExitCode != 3 || strings.TrimSpace(out.String()) != "1000" || !strings.Contains(res.Stderr, "oops") {
		t.Fatalf("user, stderr and exit code: %v exit %d out %q err %q", err, res.ExitCode, out.String(), res.Stderr)
	}
}
