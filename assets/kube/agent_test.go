package kube

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestAgentConfigJSON(t *testing.T) {
	c := AgentConfig{VaultAddr: "https://vault:8200", CACertPath: "/ca/ca.crt", Role: "ns-fineract", TokenPath: "/t/token",
		SecretPath: DeliveryPath("ns", "fineract"), OutDir: "/out", Files: []string{"fineract.key", "ca-truststore.p12"},
		Base64Files: []string{"ca-truststore.p12"}, Mode: 0o400}
	data, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Template []struct {
			Destination, Perms, Contents string
		} `json:"template"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"/out/ca-truststore.p12": `{{ with secret "banking/data/kubernetes/ns/fineract" }}{{ base64Decode (index .Data.data "ca-truststore.p12") }}{{ end }}`,
		"/out/fineract.key":      `{{ with secret "banking/data/kubernetes/ns/fineract" }}{{ index .Data.data "fineract.key" }}{{ end }}`,
	}
	if len(cfg.Template) != len(want) {
		t.Fatalf("%d templates", len(cfg.Template))
	}
	for _, tp := range cfg.Template {
		if want[tp.Destination] != tp.Contents || tp.Perms != "0400" {
			t.Errorf("%s: %q (%s), want %q", tp.Destination, tp.Contents, tp.Perms, want[tp.Destination])
		}
	}
	c.VaultAddr = ""
	if _, err := c.JSON(); err == nil || !strings.Contains(err.Error(), "incomplete") {
		t.Errorf("incomplete configuration accepted: %v", err)
	}
	c.VaultAddr, c.SecretPath = "https://vault:8200", "secret/x"
	if _, err := c.JSON(); err == nil {
		t.Error("a path outside banking/ accepted")
	}
}
