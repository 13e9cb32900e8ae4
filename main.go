// Command fineract-installer installs a hardened Apache Fineract + Mifos X
// stack on one Docker host, then validates, diagnoses, backs up and
// restores it.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/fineract-installer/fineract-installer/ui/cli"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	// The first Ctrl-C cancels the running step through its context so it
	// can leave things consistent; the program then exits with 130.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.System(), buildInfo())
	stop()
	os.Exit(code)
}

func buildInfo() cli.BuildInfo {
	b := cli.BuildInfo{Version: version, Go: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				b.Commit = s.Value[:12]
			}
		}
		if b.Version == "dev" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
	}
	return b
}
