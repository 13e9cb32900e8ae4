package assets

// ImagePin is one pinned image and why this reference was chosen.
type ImagePin struct {
	Service string
	Image   string
	Note    string
	// Release is the upstream release the image is a build of, where the
	// upgrade path needs it (Fineract: see FineractWaypoints). A tag need
	// not say it (the web app's commit tags, a lab build), so it is
	// declared here and recorded with the image.
	Release string
}

// imagePins lists every image the stack uses, in installation order. Tags
// are exact releases; none of them moves (no latest, develop, main or a bare
// major version).
var imagePins = []ImagePin{
	{"vault", "hashicorp/vault:1.21.4", "HashiCorp's own image; the Docker library `vault` image stopped at 1.13", ""},
	{"postgres", "postgres:16.15-trixie", "Debian variant: the postgres user is uid 999 (Alpine uses 70)", ""},
	{"fineract", "openmf/fineract:1.14.0", "versioned Mifos build of Apache Fineract; apache/fineract only publishes latest/develop", "1.14.0"},
	{"web-app", "openmf/web-app:dev-10d24b8", "the web app publishes commit tags only; this is the multi-architecture build Mifos' own Gazelle deployment pins", ""},
	{"gateway", "nginx:1.30.4-trixie", "nginx stable, Debian variant (uid 101)", ""},
	{"keycloak", "quay.io/keycloak/keycloak:26.7.4", "Keycloak 26: no /auth prefix by default, health on the management port", ""},
	{"kafka", "apache/kafka:4.1.1", "the Apache Kafka project's image; Kafka 4 runs KRaft only (bitnami images moved to an unmaintained namespace)", ""},
	{"redis", "redis:8.10.1", "Docker library image, Debian based, built with TLS", ""},
	{"prometheus", "prom/prometheus:v3.13.2", "the 3.13 line, which prometheus.io lists as long-term support to 2027-07-31 (3.5's support ended 2026-07-31); newer 3.13 patches exist (CONTRACTS.md)", ""},
	{"grafana", "grafana/grafana:12.4.0", "Grafana OSS", ""},
	{"postgres-exporter", "prometheuscommunity/postgres-exporter:v0.19.1", "reads its password from DATA_SOURCE_PASS_FILE", ""},
	{"elasticsearch", "docker.elastic.co/elasticsearch/elasticsearch:8.19.19", "Elastic's registry; the four Elastic images share one version", ""},
	{"logstash", "docker.elastic.co/logstash/logstash:8.19.19", "same version as Elasticsearch", ""},
	{"kibana", "docker.elastic.co/kibana/kibana:8.19.19", "same version as Elasticsearch", ""},
	{"filebeat", "docker.elastic.co/beats/filebeat:8.19.19", "Filebeat is published on Elastic's registry only", ""},
}

// ImagePins returns every image the stack can deploy, in installation order.
func ImagePins() []ImagePin {
	return append([]ImagePin(nil), imagePins...)
}

// ReleaseOf is the release this build pins image as for service; empty
// when image is not the pin or the pin declares none.
func ReleaseOf(service, image string) string {
	for _, p := range imagePins {
		if p.Service == service && p.Image == image {
			return p.Release
		}
	}
	return ""
}

func imageOf(service string) string {
	for _, p := range imagePins {
		if p.Service == service {
			return p.Image
		}
	}
	return ""
}
