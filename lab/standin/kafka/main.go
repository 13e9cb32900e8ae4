// Command kafka-standin is the lab's STAND-IN for Apache Kafka. It is not
// Kafka: Debian does not package Kafka and no registry is reachable where
// the lab runs, so the lab image tagged with the assets' Kafka reference
// (apache/kafka:4.1.1) runs this small program behind the two scripts the
// installer's compose file calls.
//
// It honours the image contract as the assets use it (apache/kafka tag
// 4.1.1, docker/jvm/Dockerfile, bin/kafka-storage.sh,
// bin/kafka-server-start.sh, bin/kafka-run-class.sh):
//
//   - /opt/kafka/bin/kafka-storage.sh random-uuid prints a Kafka Uuid
//     (16 random bytes, URL-safe base64 without padding);
//   - /opt/kafka/bin/kafka-storage.sh format --cluster-id ID --config FILE
//     [--ignore-formatted] writes meta.properties (version=1, node.id,
//     cluster.id, directory.id) into every directory of log.dirs, refuses a
//     directory that is already formatted unless --ignore-formatted is
//     given, and refuses a cluster id that is not a Uuid;
//   - /opt/kafka/bin/kafka-server-start.sh FILE reads server.properties:
//     listeners, listener.security.protocol.map, advertised.listeners,
//     controller.listener.names, controller.quorum.voters, node.id,
//     log.dirs (every one must be formatted with the same cluster id), and
//     the ssl.* settings: PEM key store and trust store files,
//     ssl.client.auth, ssl.enabled.protocols and
//     ssl.endpoint.identification.algorithm. The broker first reaches its
//     controller quorum over mutual TLS, as a combined KRaft node does,
//     and only then opens its broker listeners;
//   - KAFKA_HEAP_OPTS, KAFKA_LOG4J_OPTS, EXTRA_ARGS and LOG_DIR are
//     accepted; LOG_DIR is created as kafka-run-class.sh does, and the
//     file named by -Dlog4j2.configurationFile must be readable.
//
// On an SSL listener with ssl.client.auth=required a client must present a
// certificate that chains to the trust store: a plain TCP client or a TLS
// client without one gets no Kafka answer at all. Authenticated clients
// are answered the Kafka protocol's ApiVersions (key 18) and Metadata
// (key 3) requests, encoded with franz-go's kmsg; any other request closes
// the connection, as Kafka does for requests it cannot handle.
//
// What it cannot prove: anything about Kafka's storage, replication, topics,
// ACLs (StandardAuthorizer, super.users and the principal mapping rules are
// read but not enforced), the JVM's memory settings or log4j2's parsing of
// the configuration file.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "storage":
		err = storageCommand(os.Args[2:], os.Stdout)
	case "server-start":
		err = serverStart(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "kafka-standin: %v\n", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: kafka-standin storage (random-uuid | format --cluster-id ID --config FILE [--ignore-formatted])\n       kafka-standin server-start FILE")
	os.Exit(2)
}
