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
	// id is the service's place in the answers' block of service ids
	// (service_ids_from + id); ids says which of them it runs as.
	id  int
	ids idRule
	// idsReason says, with the upstream source, why a service cannot run
	// as a uid and gid of its own (every rule but ownIDs).
	idsReason string
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

// idRule says which uid and gid a service runs as. Every service gets a
// uid and gid of its own wherever its image allows: a host account sharing
// a service's uid (and gid) could read its memory and secrets through
// /proc, and signal it.
type idRule int

const (
	// ownIDs: uid and gid service_ids_from + id.
	ownIDs idRule = iota
	// rootGroup: own uid, gid 0. The image gives the paths it writes to
	// group 0 (built for OpenShift's arbitrary uids).
	rootGroup
	// kafkaUID: the image's uid 1000 (its start script must write a
	// directory only that uid owns), own gid.
	kafkaUID
	// rootIDs: uid and gid 0 (rootReason says why).
	rootIDs
)

// kafkaImageUID is the apache/kafka image's appuser.
const kafkaImageUID = 1000

// tls13 and tls12 are shorthands for the catalog's TLS listeners.
func tls13(port int) TLSEndpoint { return TLSEndpoint{Port: port, MinTLS13: true} }
func tls12(port int) TLSEndpoint { return TLSEndpoint{Port: port} }

// Memory reserved for the host itself (kernel, Docker, the installer) when
// deciding whether a stack fits a machine.
const HostReserveMiB = 2048

// catalog lists every service in installation order.
var catalog = []spec{
	{name: "vault", group: answers.GroupCore, id: 1, memDemo: 256, memProd: 512, pids: 256, tls: []TLSEndpoint{tls13(8200)},
		healthBudget: 2 * time.Minute, volumes: []string{"vault-file", "vault-logs"}},
	{name: "postgres", group: answers.GroupCore, id: 2, memDemo: 512, memProd: 1024, pids: 512,
		tls:          []TLSEndpoint{{Port: 5432, MinTLS13: true, Postgres: true}},
		healthBudget: 3 * time.Minute, volumes: []string{"postgres-data"}},
	{name: "fineract", group: answers.GroupCore, id: 3, memDemo: 1536, memProd: 2048, pids: 1024, tls: []TLSEndpoint{tls12(8443)},
		// The first start runs Liquibase over two databases: Fineract's own
		// CI waits 500 s plus retries; runners need up to ~10 minutes.
		healthBudget: 15 * time.Minute, volumes: []string{"fineract-home"}},
	{name: "web-app", group: answers.GroupCore, id: 4, memDemo: 64, memProd: 64, pids: 64, tls: []TLSEndpoint{tls13(8443)},
		healthBudget: time.Minute},
	{name: "gateway", group: answers.GroupCore, id: 5, memDemo: 128, memProd: 128, pids: 128,
		healthBudget: time.Minute},
	{name: "keycloak", group: answers.GroupIdentity, id: 6, ids: rootGroup, idsReason: keycloakGroup0, memDemo: 768, memProd: 1024, pids: 1024, tls: []TLSEndpoint{tls12(8443)},
		readOnlyException: "kc.sh start re-runs Keycloak's Quarkus build into /opt/keycloak/lib when the build options " +
			"(database vendor, health, metrics) differ from the image's; a read-only root needs a custom pre-built image",
		healthBudget: 5 * time.Minute},
	{name: "kafka", group: answers.GroupMessaging, id: 7, ids: kafkaUID, idsReason: kafkaUser, memDemo: 768, memProd: 1024, pids: 1024, tls: []TLSEndpoint{tls13(9092)},
		healthBudget: 3 * time.Minute, volumes: []string{"kafka-data"}},
	{name: "redis", group: answers.GroupMessaging, id: 8, memDemo: 128, memProd: 256, pids: 128, tls: []TLSEndpoint{tls13(6379)},
		healthBudget: time.Minute, volumes: []string{"redis-data"}},
	{name: "prometheus", group: answers.GroupMonitoring, id: 9, memDemo: 384, memProd: 1024, pids: 512, tls: []TLSEndpoint{tls13(9090)},
		healthBudget: 2 * time.Minute, volumes: []string{"prometheus-data"}},
	{name: "grafana", group: answers.GroupMonitoring, id: 10, memDemo: 256, memProd: 384, pids: 512, tls: []TLSEndpoint{tls13(3000)},
		healthBudget: 2 * time.Minute, volumes: []string{"grafana-data"}},
	{name: "postgres-exporter", group: answers.GroupMonitoring, id: 11, memDemo: 64, memProd: 96, pids: 64, tls: []TLSEndpoint{tls13(9187)},
		healthBudget: time.Minute},
	{name: "elasticsearch", group: answers.GroupLogging, id: 12, ids: rootGroup, idsReason: elasticGroup0, memDemo: 1536, memProd: 2048, pids: 2048, tls: []TLSEndpoint{tls12(9200)},
		readOnlyException: "the entrypoint and Elasticsearch write elasticsearch.keystore (with the bootstrap password) " +
			"into the config directory, which also holds image-version files (jvm.options, log4j2.properties); " +
			"a volume there would pin old copies across upgrades",
		healthBudget: 5 * time.Minute, volumes: []string{"elasticsearch-data"}},
	{name: "logstash", group: answers.GroupLogging, id: 13, ids: rootGroup, idsReason: elasticGroup0, memDemo: 768, memProd: 1024, pids: 1024,
		healthBudget: 5 * time.Minute, volumes: []string{"logstash-data"}},
	{name: "kibana", group: answers.GroupLogging, id: 14, ids: rootGroup, idsReason: elasticGroup0, memDemo: 768, memProd: 1024, pids: 512, tls: []TLSEndpoint{tls13(5601)},
		healthBudget: 5 * time.Minute, volumes: []string{"kibana-data"}},
	{name: "filebeat", group: answers.GroupLogging, id: 15, ids: rootIDs, memDemo: 128, memProd: 192, pids: 256,
		rootReason: "it reads every container's json-file log under /var/lib/docker/containers, which Docker " +
			"creates as root with mode 0640 in 0710 directories; it runs with no capabilities at all, so it reads them " +
			"only as their owner and cannot bypass file permissions",
		healthBudget: 2 * time.Minute, volumes: []string{"filebeat-data"}},
}

// Why some images need shared ids, with the upstream sources read.
const (
	keycloakGroup0 = "the image gives /opt/keycloak to group 0, group-writable, for arbitrary uids " +
		"(keycloak/keycloak quarkus/container/Dockerfile: COPY --chown=1000:0, chmod -R g+rwX)"
	elasticGroup0 = "the image gives its data, logs and config directories to group 0, group-writable, " +
		"for arbitrary uids (elastic's Dockerfiles: chown ...:root, chmod g=u; USER 1000:0)"
	kafkaUser = "the image's start script refuses to run unless it can write /opt/kafka/config, which " +
		"belongs to the image's appuser, uid 1000 (apache/kafka docker/jvm/Dockerfile; " +
		"docker/resources/common-scripts/configure)"
)

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
