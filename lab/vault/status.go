package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/hashicorp/vault/api"
)

// runStatus is `vault status`: it reads VAULT_ADDR, VAULT_CACERT (and the
// other VAULT_* client variables) like the real CLI and exits 0 when
// unsealed, 2 when sealed and 1 on error, so it can serve as a healthcheck.
func runStatus(args []string) int {
	fs := flag.NewFlagSet("vault status", flag.ContinueOnError)
	address := fs.String("address", "", "Vault address (default $VAULT_ADDR)")
	caCert := fs.String("ca-cert", "", "CA certificate file (default $VAULT_CACERT)")
	if err := fs.Parse(args); err != nil {
		return 1
	}
	st, err := fetchSealStatus(*address, *caCert)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error checking seal status: %v\n", err)
		return 1
	}
	printStatus(os.Stdout, st)
	if st.Sealed {
		return 2
	}
	return 0
}

func fetchSealStatus(address, caCert string) (*api.SealStatusResponse, error) {
	cfg := api.DefaultConfig()
	if cfg.Error != nil {
		return nil, cfg.Error
	}
	if address != "" {
		cfg.Address = address
	}
	if caCert != "" {
		if err := cfg.ConfigureTLS(&api.TLSConfig{CACert: caCert}); err != nil {
			return nil, fmt.Errorf("loading CA certificate %s: %w", caCert, err)
		}
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return client.Sys().SealStatusWithContext(ctx)
}

func printStatus(w io.Writer, st *api.SealStatusResponse) {
	tw := tabwriter.NewWriter(w, 0, 4, 4, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	row("Key", "Value")
	row("---", "-----")
	row("Seal Type", st.Type)
	row("Initialized", st.Initialized)
	row("Sealed", st.Sealed)
	row("Total Shares", st.N)
	row("Threshold", st.T)
	if st.Sealed {
		row("Unseal Progress", fmt.Sprintf("%d/%d", st.Progress, st.T))
		row("Unseal Nonce", st.Nonce)
	}
	row("Version", st.Version)
	row("Build Date", st.BuildDate)
	row("Storage Type", st.StorageType)
	if st.ClusterName != "" {
		row("Cluster Name", st.ClusterName)
		row("Cluster ID", st.ClusterID)
	}
	row("HA Enabled", false)
	_ = tw.Flush()
}
