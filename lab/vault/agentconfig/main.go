// Command agentconfig loads a Vault agent configuration file with Vault's
// own agent configuration loader and validation (command/agent/config of
// hashicorp/vault v1.21.4, what `vault agent -config=FILE` runs first) and
// prints the result as JSON. Tests use it to show that the configuration
// the installer renders for the pods' init containers means to Vault what
// the installer intends.
//
//	agentconfig FILE
package main

import (
	"encoding/json"
	"fmt"
	"os"

	agentconfig "github.com/hashicorp/vault/command/agent/config"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: agentconfig FILE")
		os.Exit(2)
	}
	cfg, err := agentconfig.LoadConfigFile(os.Args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "loading %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := cfg.ValidateConfig(); err != nil {
		fmt.Fprintf(os.Stderr, "validating %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
