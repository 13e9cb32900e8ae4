// Command registry is the Distribution project's container registry
// (github.com/distribution/distribution/v3, cmd/registry at v3.1.2), built
// here with only the storage and auth drivers the tests use. No public
// registry is reachable where the tests run: they push small local images
// into this one and ask it, through the Docker engine, what a registry
// really answers.
package main

import (
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

func main() {
	if err := registry.RootCmd.Execute(); err != nil {
		os.Exit(1)
	}
}
