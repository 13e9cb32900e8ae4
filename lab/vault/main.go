// Command vault is the lab stand-in for the hashicorp/vault:1.21.4 image: a
// real Vault server assembled from Vault's own Go packages (core, HTTP API,
// shamir seal, file storage, KV secrets engine, file/socket/syslog audit
// devices), plus the small part of the CLI the installer's assets use.
//
// It answers to the same invocations as the upstream image:
//
//	docker-entrypoint.sh server [flags]   (the image's entrypoint; see entrypoint.go)
//	vault server -config=DIR_OR_FILE [-config=...]
//	vault status                          (exit 0 unsealed, 2 sealed, 1 error)
//	vault version
//
// Anything else (dev mode, plugins other than kv and kubernetes auth, raft, auto-unseal) is
// refused with a message that says so, rather than silently behaving
// differently from Vault.
package main

import (
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	os.Exit(run(os.Args))
}

// run dispatches on the program name and first argument and returns the
// process exit code.
func run(argv []string) int {
	if filepath.Base(argv[0]) == entrypointName {
		return runEntrypoint(argv[1:])
	}
	args := argv[1:]
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 127
	}
	switch args[0] {
	case "server":
		return runServer(args[1:])
	case "status":
		return runStatus(args[1:])
	case "version", "-version", "--version", "-v":
		fmt.Println(versionLine())
		return 0
	case "-h", "-help", "--help", "help":
		fmt.Print(usage)
		return 0
	default:
		fmt.Fprintf(os.Stderr, "vault: %q is not a command of this lab build of Vault.\n\n%s", args[0], usage)
		return 127
	}
}

const usage = `Usage: vault <command> [args]

Commands supported by this lab build:
    server     Start a Vault server (-config=DIR_OR_FILE, repeatable)
    status     Print seal status (exit 0 unsealed, 2 sealed, 1 error)
    version    Print the Vault version
`
