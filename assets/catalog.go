package assets

import (
	"time"

	"github.com/fineract-installer/fineract-installer/steps/answers"
)

// capability is one Linux capability a service gets back after cap_drop ALL.
type capability struct {
	Name string
	Why  string
}

// spec is the static description of one service; what depends on the
// answers (networks, certificates, secrets) is derived in needs.go.
type spec struct {
	name  string
	group string
	// user is the uid:gid the container runs as.
	uid, gid int
	// memDemo and memProd are the memory limits in MiB per profile.
	memDemo, memProd int
	pids             int
	// capAdd is the minimum set of capabilities the service needs back.
	// Every service runs without any: non-root users never keep added
	// capabilities through exec (Docker gives them only the bounding set,
	// and no-new-privileges ignores file capabilities), so the stack is
	// built to need none. The mechanism stays for a future image that
	// cannot avoid one; each entry must say why.
	capAdd            []capability
	readOnlyException string
	rootReason        string
	healthBudget      time.Duration
	volumes           []string
	// tls lists the service's TLS listeners, for validation.
	tls []TLSEndpoint
}

// tls13 and tls12 are shorthands for the catalog's TLS listeners.
func tls13(port int) TLSEndpoint { return TLSEndpoint{Port: port, MinTLS13: true} }
func tls12(port int) TLSEndpoint { return TLSEndpoint{Port: port} }

// Memory reserved for the host itself (kernel, Docker, the installer) when
// deciding whether a stack fits a machine.
const HostReserveMiB = 2048

// catalog lists every service in installation order.
var catalog = []spec{
	{name: "vault", group: answers.GroupCore, uid: 100, gid: 1000, memDemo: 256, memProd: 512, pids: 256, tls: []TLSEndpoint{tls13(8200)},
		healthBudget: 2 * time.Minute, volumes: []string{"vault-file", "vault-logs"}},
	{name: "postgres", group: answers.GroupCore, uid: 999, gid: 999, memDemo: 512, memProd: 1024, pids: 512,
		tls:          []TLSEndpoint{{Port: 5432, MinTLS13: true, Postgres: true}},
		healthBudget: 3 * time.Minute, volumes: []string{"postgres-data"}},
	{name: "fineract", group: answers.GroupCore, uid: 65534, gid: 65534, memDemo: 1536, memProd: 2048, pids: 1024, tls: []TLSEndpoint{tls12(8443)},
		// The first start runs Liquibase over two databases: Fineract's own
		// CI waits 500 s plus retries; runners need up to ~10 minutes.
		healthBudget: 15 * time.Minute, volumes: []string{"fineract-home"}},
	{name: "web-app", group: answers.GroupCore, uid: 101, gid: 101, memDemo: 64, memProd: 64, pids: 64, tls: []TLSEndpoint{tls13(8443)},
		healthBudget: time.Minute},
	{name: "gateway", group: answers.GroupCore, uid: 101, gid: 101, memDemo: 128, memProd: 128, pids: 128,
		healthBudget: time.Minute},
	{name: "keycloak", group: answers.GroupIdentity, uid: 1000, gid: 1000, memDemo: 768, memProd: 1024, pids: 1024, tls: []TLSEndpoint{tls12(8443)},
		readOnlyException: "kc.sh start re-runs Keycloak's Quarkus build into /opt/keycloak/lib when the build options " +
			"(database vendor, health, metrics) differ from the image's; a read-only root needs a custom pre-built image",
		healthBudget: 5 * time.Minute},
	{name: "kafka", group: answers.GroupMessaging, uid: 1000, gid: 1000, memDemo: 768, memProd: 1024, pids: 1024, tls: []TLSEndpoint{tls12(9092)},
		healthBudget: 3 * time.Minute, volumes: []string{"kafka-data"}},
	{name: "redis", group: answers.GroupMessaging, uid: 999, gid: 999, memDemo: 128, memProd: 256, pids: 128, tls: []TLSEndpoint{tls12(6379)},
		healthBudget: time.Minute, volumes: []string{"redis-data"}},
	{name: "prometheus", group: answers.GroupMonitoring, uid: 65534, gid: 65534, memDemo: 384, memProd: 1024, pids: 512, tls: []TLSEndpoint{tls12(9090)},
		healthBudget: 2 * time.Minute, volumes: []string{"prometheus-data"}},
	{name: "grafana", group: answers.GroupMonitoring, uid: 472, gid: 0, memDemo: 256, memProd: 384, pids: 512, tls: []TLSEndpoint{tls12(3000)},
		healthBudget: 2 * time.Minute, volumes: []string{"grafana-data"}},
	{name: "postgres-exporter", group: answers.GroupMonitoring, uid: 65534, gid: 65534, memDemo: 64, memProd: 96, pids: 64, tls: []TLSEndpoint{tls12(9187)},
		healthBudget: time.Minute},
	{name: "elasticsearch", group: answers.GroupLogging, uid: 1000, gid: 0, memDemo: 1536, memProd: 2048, pids: 2048, tls: []TLSEndpoint{tls12(9200)},
		readOnlyException: "the entrypoint and Elasticsearch write elasticsearch.keystore (with the bootstrap password) " +
			"into the config directory, which also holds image-version files (jvm.options, log4j2.properties); " +
			"a volume there would pin old copies across upgrades",
		healthBudget: 5 * time.Minute, volumes: []string{"elasticsearch-data"}},
	{name: "logstash", group: answers.GroupLogging, uid: 1000, gid: 0, memDemo: 768, memProd: 1024, pids: 1024,
		healthBudget: 5 * time.Minute, volumes: []string{"logstash-data"}},
	{name: "kibana", group: answers.GroupLogging, uid: 1000, gid: 0, memDemo: 768, memProd: 1024, pids: 512, tls: []TLSEndpoint{tls13(5601)},
		healthBudget: 5 * time.Minute, volumes: []string{"kibana-data"}},
	{name: "filebeat", group: answers.GroupLogging, uid: 0, gid: 0, memDemo: 128, memProd: 192, pids: 256,
		rootReason: "it reads every container's json-file log under /var/lib/docker/containers, which Docker " +
			"creates as root with mode 0640 in 0710 directories; it runs with no capabilities at all, so it reads them " +
			"only as their owner and cannot bypass file permissions",
		healthBudget: 2 * time.Minute, volumes: []string{"filebeat-data"}},
}

func specOf(name string) (spec, bool) {
	for _, s := range catalog {
		if s.name == name {
			return s, true
		}
	}
	return spec{}, false
}

func (s spec) memory(p answers.Profile) int {
	if p == answers.Demo {
		return s.memDemo
	}
	return s.memProd
}
