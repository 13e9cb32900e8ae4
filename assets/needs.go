package assets

import (
	"slices"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// Generation rules for secrets.
var (
	genPassword = Generator{Length: 32, Charset: CharsetAlnum}
	genKey      = Generator{Length: 48, Charset: CharsetAlnum}
)

// Shared secret definitions: the same Vault key delivered to two services
// (a role's password to PostgreSQL, which creates the role, and to the
// client that logs in with it) must use one rule.
var (
	fineractDBPassword = SecretNeed{VaultPath: "banking/databases/fineract", Key: "password", Generate: genPassword, Format: FormatRaw}
	keycloakDBPassword = SecretNeed{VaultPath: "banking/databases/keycloak", Key: "password", Generate: genPassword, Format: FormatRaw}
	exporterDBPassword = SecretNeed{VaultPath: "banking/databases/postgres-exporter", Key: "password", Generate: genPassword, Format: FormatRaw}
	redisPassword      = SecretNeed{VaultPath: RedisVaultPath, Key: RedisVaultKey, Generate: genPassword}
)

// The Vault values the checks and steps read back from what a service was
// delivered (steps/delivered.Value).
const (
	// Keycloak's bootstrap admin (master realm): the user
	// templates/compose/identity.yaml.tmpl names in
	// KC_BOOTSTRAP_ADMIN_USERNAME, and its password.
	KeycloakAdminUser      = "admin"
	KeycloakAdminVaultPath = "banking/services/keycloak"
	KeycloakAdminVaultKey  = "admin_password"
	// Redis' password for the default user.
	RedisVaultPath = "banking/services/redis"
	RedisVaultKey  = "password"
	// Grafana's admin password.
	GrafanaAdminVaultPath = "banking/services/grafana"
	GrafanaAdminVaultKey  = "admin_password"
	// Elasticsearch's bootstrap password for the elastic user.
	ElasticVaultPath = "banking/services/elasticsearch"
	ElasticVaultKey  = "elastic_password"
)

// keycloakConf is Keycloak's configuration file of secret settings.
const keycloakConf = "keycloak.conf"

func withFile(s SecretNeed, file string) SecretNeed {
	s.File = file
	return s
}

// buildServices derives every rendered service from the catalog and answers.
func (d *renderData) buildServices() {
	d.services = nil
	for _, s := range catalog {
		if !d.Has[s.group] {
			continue
		}
		uid, gid := s.serviceIDs(d.serviceIDsFrom)
		svc := Service{
			Name:              s.name,
			Group:             s.group,
			Image:             d.imageOf(s.name),
			UID:               uid,
			GID:               gid,
			OwnUID:            s.ids == ownIDs || s.ids == rootGroup,
			OwnGID:            s.ids == ownIDs || s.ids == kafkaUID,
			IDsReason:         s.idsReason,
			Certs:             d.certsFor(s.name),
			Secrets:           d.secretsFor(s.name),
			MemoryMiB:         s.memory(d.Profile),
			ReadOnlyException: s.readOnlyException,
			RootReason:        s.rootReason,
			Networks:          d.networksFor(s.name),
			DataVolumes:       slices.Clone(s.volumes),
			HealthBudget:      s.healthBudget,
			TLS:               s.tls,
			JavaTrustStore:    s.name == "fineract" && d.Has[answers.GroupIdentity],
		}
		if s.name == "gateway" {
			svc.Published = []int{d.HTTPSPort, d.HTTPPort}
		}
		if s.name == "postgres" && d.WAL.On {
			svc.WritableBinds = []string{d.WAL.Repository + "/wal"}
		}
		d.services = append(d.services, svc)
	}
}

// serviceIDs is the uid and gid the service runs as, from the answers'
// block of service ids.
func (s spec) serviceIDs(from int) (uid, gid int) {
	own := from + s.id
	switch s.ids {
	case rootGroup:
		return own, 0
	case kafkaUID:
		return kafkaImageUID, own
	case rootIDs:
		return 0, 0
	}
	return own, own
}

// networksFor says which networks a service joins: only those it needs.
func (d *renderData) networksFor(name string) []string {
	mon := d.Has[answers.GroupMonitoring] // scrape targets join the monitoring network
	var n []string
	switch name {
	case "gateway":
		n = []string{netDMZ, netApp}
	case "web-app":
		n = []string{netApp}
	case "fineract", "keycloak":
		n = []string{netApp, netData}
		if mon {
			n = append(n, netMonitoring)
		}
	case "vault":
		n = []string{netData}
		if mon {
			n = append(n, netMonitoring)
		}
	case "postgres", "kafka", "redis":
		n = []string{netData}
	case "postgres-exporter":
		n = []string{netData, netMonitoring}
	case "grafana", "kibana":
		n = []string{netApp, netMonitoring}
	case "prometheus", "elasticsearch", "logstash", "filebeat":
		n = []string{netMonitoring}
	}
	return n
}

// certsFor lists the certificates a service needs.
func (d *renderData) certsFor(name string) []CertNeed {
	server := func(n string) CertNeed {
		return CertNeed{Name: n, CommonName: n, DNSNames: []string{n}, Server: true}
	}
	switch name {
	case "gateway":
		return []CertNeed{{Name: "gateway", CommonName: d.Hostname, DNSNames: []string{d.Hostname},
			IPs: slices.Clone(d.ips), Server: true, Public: true}}
	case "fineract":
		c := server(name)
		if d.Has[answers.GroupMessaging] {
			// Kafka authenticates Fineract by its client certificate.
			c.Client, c.CombinedPEM = true, true
		}
		return []CertNeed{c}
	case "kafka":
		c := server(name)
		c.Client, c.CombinedPEM = true, true // the broker talks to its own controller listener
		return []CertNeed{c}
	case "redis", "elasticsearch", "logstash", "kibana":
		// Client usage: Redis' healthcheck logs in with it; the Elastic
		// services authenticate to Elasticsearch's PKI realm with it.
		c := server(name)
		c.Client = true
		return []CertNeed{c}
	case "filebeat":
		return []CertNeed{{Name: name, CommonName: name, Client: true}}
	default:
		return []CertNeed{server(name)}
	}
}

// secretsFor lists the secret files a service reads.
func (d *renderData) secretsFor(name string) []SecretNeed {
	switch name {
	case "postgres":
		s := []SecretNeed{
			{File: "superuser_password", VaultPath: "banking/databases/postgres", Key: "superuser_password", Generate: genPassword, Format: FormatRaw},
			withFile(fineractDBPassword, "fineract_db_password"),
		}
		if d.Has[answers.GroupIdentity] {
			s = append(s, withFile(keycloakDBPassword, "keycloak_db_password"))
		}
		if d.Has[answers.GroupMonitoring] {
			s = append(s, withFile(exporterDBPassword, "postgres_exporter_password"))
		}
		if d.WAL.On {
			s = append(s, withFile(WALKey, WALKeyFile))
		}
		return s
	case "fineract":
		// Spring config tree: the file names are the placeholders
		// application.properties resolves.
		return []SecretNeed{
			withFile(fineractDBPassword, "FINERACT_HIKARI_PASSWORD"),
			withFile(fineractDBPassword, "FINERACT_DEFAULT_TENANTDB_PWD"),
			{File: "FINERACT_DEFAULT_TENANTDB_MASTER_PASSWORD", VaultPath: "banking/services/fineract", Key: "tenant_master_password", Generate: genPassword, Format: FormatRaw},
		}
	case "keycloak":
		// Keycloak reads no *_FILE variables: both secrets go into the
		// configuration file it is started with (--config-file), so they
		// are in neither its environment nor its command line.
		db := withFile(keycloakDBPassword, keycloakConf)
		db.Format = PropertiesSetting("db-password")
		return []SecretNeed{
			db,
			{File: keycloakConf, VaultPath: KeycloakAdminVaultPath, Key: KeycloakAdminVaultKey, Generate: genPassword, Format: PropertiesSetting("bootstrap-admin-password")},
		}
	case "redis":
		raw, acl := withFile(redisPassword, "password"), withFile(redisPassword, "users.acl")
		raw.Format, acl.Format = FormatRaw, FormatRedisACL
		return []SecretNeed{raw, acl}
	case "grafana":
		return []SecretNeed{
			{File: "admin_password", VaultPath: GrafanaAdminVaultPath, Key: GrafanaAdminVaultKey, Generate: genPassword, Format: FormatRaw},
			{File: "secret_key", VaultPath: "banking/services/grafana", Key: "secret_key", Generate: genKey, Format: FormatRaw},
		}
	case "postgres-exporter":
		return []SecretNeed{withFile(exporterDBPassword, "db_password")}
	case "elasticsearch":
		return []SecretNeed{{File: "elastic_password", VaultPath: ElasticVaultPath, Key: ElasticVaultKey, Generate: genPassword, Format: FormatRaw}}
	case "kibana":
		key := func(file, vaultKey, setting string) SecretNeed {
			return SecretNeed{File: file, VaultPath: "banking/services/kibana", Key: vaultKey, Generate: genKey, Format: YAMLSetting(setting)}
		}
		return []SecretNeed{
			key("security-encryption-key.yml", "security_encryption_key", "xpack.security.encryptionKey"),
			key("saved-objects-encryption-key.yml", "saved_objects_encryption_key", "xpack.encryptedSavedObjects.encryptionKey"),
			key("reporting-encryption-key.yml", "reporting_encryption_key", "xpack.reporting.encryptionKey"),
		}
	}
	return nil
}

func (d *renderData) service(name string) (Service, bool) {
	for _, s := range d.services {
		if s.Name == name {
			return s, true
		}
	}
	return Service{}, false
}
