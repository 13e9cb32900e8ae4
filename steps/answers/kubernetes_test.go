package answers

import (
	"strconv"
	"strings"
	"testing"
)

func TestKubernetesValidate(t *testing.T) {
	good := Kubernetes{Vault: KubernetesVault{Address: "https://vault.example.net:8200"}}
	with := func(f func(*Kubernetes)) Kubernetes {
		k := good
		f(&k)
		return k
	}
	ext := func(e ExternalPostgres) func(*Kubernetes) {
		return func(k *Kubernetes) { k.Postgres.External = &e }
	}
	cases := []struct {
		name string
		k    Kubernetes
		want string // "" for valid
	}{
		{"defaults", good, ""},
		{"everything", with(func(k *Kubernetes) {
			k.Namespace, k.GatewayService, k.NodePort, k.StorageClass = "bank", GatewayNodePort, 30443, "fast-ssd"
			k.Fineract = KubernetesFineract{ReadReplicas: 3, BatchInstance: true}
			k.Vault.CACert = "/etc/ssl/vault-ca.pem"
			k.Postgres.External = &ExternalPostgres{Host: "db.example.net", Port: 6432, Database: "tenants", CACert: "/etc/ssl/db-ca.pem"}
		}), ""},
		{"vault address by IP without port", with(func(k *Kubernetes) { k.Vault.Address = "https://10.0.0.7" }), ""},
		{"namespace upper case", with(func(k *Kubernetes) { k.Namespace = "Bank" }), "namespace"},
		{"namespace too long", with(func(k *Kubernetes) { k.Namespace = strings.Repeat("a", 51) }), "up to 50"},
		{"unknown service type", with(func(k *Kubernetes) { k.GatewayService = "Ingress" }), "use LoadBalancer or NodePort"},
		{"node port with load balancer", with(func(k *Kubernetes) { k.NodePort = 30443 }), "set gateway_service: NodePort"},
		{"node port out of range", with(func(k *Kubernetes) { k.GatewayService, k.NodePort = GatewayNodePort, 443 }), "30000-32767"},
		{"storage class", with(func(k *Kubernetes) { k.StorageClass = "Fast SSD" }), "storage_class"},
		{"negative replicas", with(func(k *Kubernetes) { k.Fineract.ReadReplicas = -1 }), "read_replicas"},
		{"too many replicas", with(func(k *Kubernetes) { k.Fineract.ReadReplicas = 21 }), "read_replicas"},
		{"no vault address", with(func(k *Kubernetes) { k.Vault.Address = "" }), "address is empty"},
		{"plain http vault", with(func(k *Kubernetes) { k.Vault.Address = "http://vault:8200" }), "not an https URL"},
		{"vault path", with(func(k *Kubernetes) { k.Vault.Address = "https://vault:8200/v1" }), "scheme, host and port only"},
		{"vault port", with(func(k *Kubernetes) { k.Vault.Address = "https://vault:99999" }), "port outside"},
		{"relative vault ca", with(func(k *Kubernetes) { k.Vault.CACert = "ca.pem" }), "absolute path"},
		{"external without host", with(ext(ExternalPostgres{CACert: "/ca.pem"})), "host is empty"},
		{"external bad host", with(ext(ExternalPostgres{Host: "db_1", CACert: "/ca.pem"})), "neither a DNS name"},
		{"external without ca", with(ext(ExternalPostgres{Host: "db.example.net"})), "verify-full"},
		{"external bad port", with(ext(ExternalPostgres{Host: "db.example.net", Port: 70000, CACert: "/ca.pem"})), "port"},
		{"external bad database", with(ext(ExternalPostgres{Host: "db.example.net", Database: "Tenants;", CACert: "/ca.pem"})), "database"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.k.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("valid settings refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error = %v, want one saying %q", err, c.want)
			}
		})
	}
}

// The answers' own validation checks a kubernetes block when there is one.
func TestAnswersValidateKubernetesBlock(t *testing.T) {
	a := Defaults(Production)
	a.InstallDir = "/opt/fineract-stack"
	if err := a.Validate(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	a.Kubernetes = &Kubernetes{}
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), "kubernetes.vault.address is empty") {
		t.Fatalf("error = %v, want the missing Vault address", err)
	}
}

func TestKubernetesDefaults(t *testing.T) {
	k := Kubernetes{Postgres: KubernetesPostgres{External: &ExternalPostgres{Host: "db"}}}.WithDefaults("fineract")
	if k.Namespace != "fineract" || k.GatewayService != GatewayLoadBalancer {
		t.Errorf("defaults: namespace %q, gateway %q", k.Namespace, k.GatewayService)
	}
	if e := k.Postgres.External; e.Port != 5432 || e.Database != "fineract_tenants" {
		t.Errorf("external defaults: %+v", e)
	}
	k2 := Kubernetes{Namespace: "bank", GatewayService: GatewayNodePort}.WithDefaults("fineract")
	if k2.Namespace != "bank" || k2.GatewayService != GatewayNodePort {
		t.Errorf("defaults overrode answers: %+v", k2)
	}
}

func TestVaultHostPort(t *testing.T) {
	for addr, want := range map[string]string{"https://vault.example.net:8200": "vault.example.net 8200", "https://10.1.2.3": "10.1.2.3 443"} {
		h, p, err := KubernetesVault{Address: addr}.VaultHostPort()
		if err != nil {
			t.Fatal(err)
		}
		if got := h + " " + strconv.Itoa(p); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
}
