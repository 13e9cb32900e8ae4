// Package kubeapply puts rendered Kubernetes manifests on a cluster and
// reports on them: server-side apply with the installer's one field
// manager, a plan taken by server-side dry run, a wait for each workload to
// become ready, a status of the workloads and an uninstall of everything
// the installer labelled. It reports through the same events as the
// compose engine, so every output renders a Kubernetes install like a
// Docker one. It talks to the cluster with client-go only; it never builds
// manifests (package assets/kube does).
package kubeapply
