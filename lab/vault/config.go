package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/hashicorp/vault/command/server"
)

// serverFlags are the `vault server` flags this build understands. The
// -dev-* flags are accepted because the upstream entrypoint always passes
// them; like Vault, they are ignored outside dev mode.
type serverFlags struct {
	configs          []string
	logLevel         string
	dev              bool
	devRootTokenID   string
	devListenAddress string
}

// stringList is a repeatable string flag (-config may be given many times).
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func parseServerFlags(args []string) (*serverFlags, error) {
	f := &serverFlags{}
	fs := flag.NewFlagSet("vault server", flag.ContinueOnError)
	fs.Var((*stringList)(&f.configs), "config", "path to a config file or directory (repeatable)")
	fs.StringVar(&f.logLevel, "log-level", "", "log level: trace, debug, info, warn, error")
	fs.BoolVar(&f.dev, "dev", false, "dev mode (not supported by this lab build)")
	fs.StringVar(&f.devRootTokenID, "dev-root-token-id", "", "ignored outside dev mode")
	fs.StringVar(&f.devListenAddress, "dev-listen-address", "", "ignored outside dev mode")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return f, nil
}

// loadConfig reads and merges every -config path with Vault's own loader
// (HCL and JSON, directories load *.hcl and *.json), then applies the
// environment overrides Vault honours.
func loadConfig(paths []string) (*server.Config, error) {
	var cfg *server.Config
	for _, p := range paths {
		cur, err := server.LoadConfig(p)
		if err != nil {
			return nil, fmt.Errorf("loading %s: %w", p, err)
		}
		for _, w := range cur.Validate(p) {
			fmt.Fprintf(os.Stderr, "WARNING: %s\n", w.String())
		}
		if cfg == nil {
			cfg = cur
		} else {
			cfg = cfg.Merge(cur)
		}
	}
	if cfg == nil {
		return nil, errors.New("no configuration files found: give -config a .hcl or .json file or a directory containing them")
	}
	if v := os.Getenv("VAULT_DISABLE_MLOCK"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("VAULT_DISABLE_MLOCK=%q is not a boolean", v)
		}
		cfg.DisableMlock = b
	}
	if v := os.Getenv("VAULT_UI"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("VAULT_UI=%q is not a boolean", v)
		}
		cfg.EnableUI = b
	}
	if cfg.Storage == nil {
		return nil, errors.New("a storage backend must be specified (this build supports storage \"file\")")
	}
	if cfg.Storage.Type != "file" {
		return nil, fmt.Errorf("storage %q is not in this lab build; use storage \"file\" { path = \"/vault/file\" }", cfg.Storage.Type)
	}
	if cfg.HAStorage != nil {
		return nil, errors.New("ha_storage is not in this lab build")
	}
	if len(cfg.Seals) > 0 {
		return nil, errors.New("seal stanzas (auto-unseal) are not in this lab build; it uses the default shamir seal")
	}
	if len(cfg.Listeners) == 0 {
		return nil, errors.New("no listener configured: add listener \"tcp\" { ... }")
	}
	return cfg, nil
}
