// Package kube renders the stack as plain Kubernetes manifests: the same
// services, hardening, segmentation and secret files as the compose bundle,
// derived from the same rendered assets.Bundle (one source of truth), for a
// platform team to apply with `kubectl apply --server-side` or for the
// installer to apply with client-go.
//
// Secrets never appear in a manifest or a Kubernetes Secret: each pod's
// Vault agent (an init container running as the service's own uid) logs in
// with Vault's Kubernetes auth method and writes the service's files into a
// memory-backed volume, with the file names and modes the Docker target uses.
//
// What the manifests hold, per service of the bundle:
//   - a ServiceAccount (no token mounted), a ConfigMap of the configuration
//     files the compose file bind-mounts (mounted read-only at the same
//     paths), a ConfigMap of the Vault agent's configuration;
//   - a ClusterIP Service named like the compose service, so the names
//     the configuration files use resolve;
//   - a StatefulSet (one claim per data volume), a Deployment, or for
//     Filebeat a DaemonSet, whose containers carry the compose command,
//     environment, tmpfs mounts (memory-backed emptyDirs) and healthcheck
//     (as exec probes), run as the service's uid and gid with
//     runAsNonRoot, a read-only root (but for the documented exceptions),
//     no privilege escalation, no capabilities and the runtime's seccomp
//     profile, with memory requests and limits from the memory table.
//
// And for the stack: namespaces enforcing Pod Security "restricted" (a
// service that cannot meet it, by the Pod Security checks themselves, runs
// in <namespace>-<level>: see Manifests.Exceptions), a
// ValidatingAdmissionPolicy with which the API server refuses what
// "restricted" does not check (read-only roots, memory limits),
// NetworkPolicies derived from assets.Service.Networks (see ExtraFlows),
// the gateway's LoadBalancer or NodePort Service, and the ServiceAccount
// Vault reviews tokens with.
//
// Vault runs outside these manifests, at kubernetes.vault.address (the
// installation's own Vault, or one the platform team runs): a Vault pod
// would need its own TLS key before any Vault could deliver it. The Vault
// side (the Kubernetes auth method, one role and policy per service, the
// files at DeliveryPath) is the installer's to set up, from
// Manifests.Deliveries, before the pods start.
//
// Not carried over from the Docker target: WAL archiving (its
// archive_command is the installer binary on the Docker host), Docker's
// ulimits (core dumps, Elasticsearch's open files: the node's settings
// apply) and pids limits (the kubelet's --pod-max-pids applies).
package kube
