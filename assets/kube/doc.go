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
package kube
