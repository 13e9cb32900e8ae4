package kube

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// FieldManager is the one field manager the installer applies with.
const FieldManager = "fineract-installer"

// Manifests is a rendered Kubernetes stack.
type Manifests struct {
	// Namespaces lists the namespaces the stack uses, main one first.
	Namespaces []string
	// Objects is every object, in apply order (namespaces first, workloads last).
	Objects []*unstructured.Unstructured
	// Deliveries are, per service, the files its pods' Vault agent
	// writes: what Vault must hold at DeliveryPath.
	Deliveries []Delivery
	// Exceptions are the services that run in a weaker Pod Security
	// namespace or without a read-only root, and why.
	Exceptions []Exception
}

// DeliveryPath is the Vault KV v2 secret (under the banking/ mount, without
// "data/") holding one service's files for its pods' Vault agent: one key
// per file name, the value the file's exact content.
func DeliveryPath(namespace, service string) string {
	return "banking/kubernetes/" + namespace + "/" + service
}

// VaultRole is the name of the Kubernetes auth role a service's pods log in
// with; it is bound to the service's ServiceAccount (named like the
// service) in namespace, and its policy reads DeliveryPath only.
func VaultRole(namespace, service string) string {
	return namespace + "-" + service
}
