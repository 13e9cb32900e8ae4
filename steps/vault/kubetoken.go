package vault

import (
	"context"
	"fmt"
	"regexp"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// dnsLabelRE is a DNS-1123 label, the form of namespace and
// ServiceAccount names the installer uses.
var dnsLabelRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ReviewerServiceAccount is the ServiceAccount, in the stack's main
// namespace and bound to ClusterRole system:auth-delegator, whose token
// Vault sends with its TokenReview calls.
const ReviewerServiceAccount = "vault-token-reviewer"

// DefaultReviewerTokenLifetime is asked of the API server for the
// reviewer's token; the API server may grant less
// (--service-account-max-token-expiration), and the token it returns says
// when it really expires.
const DefaultReviewerTokenLifetime = 365 * 24 * time.Hour

// RequestServiceAccountToken asks the TokenRequest API for a token of
// ServiceAccount namespace/name, valid for audiences (nil: the API
// server's own) and about lifetime, not bound to any pod or Secret: no
// long-lived token Secret is created for it.
func RequestServiceAccountToken(ctx context.Context, cs kubernetes.Interface, namespace, name string, audiences []string, lifetime time.Duration) (ReviewerToken, error) {
	secs := int64(lifetime / time.Second)
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences:         audiences,
		ExpirationSeconds: &secs,
	}}
	resp, err := cs.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if err != nil {
		return ReviewerToken{}, fmt.Errorf("requesting a token for ServiceAccount %s/%s: %w", namespace, name, err)
	}
	return ReviewerToken{JWT: resp.Status.Token, Expires: resp.Status.ExpirationTimestamp.Time}, nil
}
