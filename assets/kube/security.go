package kube

import (
	"fmt"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// PodSecurityVersion is the Pod Security Standards version the namespaces
// pin (enforce-version), so a newer cluster's stricter "latest" cannot
// refuse pods that were accepted when the manifests were rendered.
const PodSecurityVersion = "v1.37"

var podSecurityLV = psapi.MajorMinorVersion(1, 37)

var (
	evalOnce  sync.Once
	evaluator policy.Evaluator
	evalErr   error
)

// psEvaluator is the Pod Security admission's own checks, used as a
// library: the namespace a workload goes to is the one whose level those
// checks accept it at, not a level restated here.
func psEvaluator() (policy.Evaluator, error) {
	evalOnce.Do(func() { evaluator, evalErr = policy.NewEvaluator(policy.DefaultChecks(), nil) })
	return evaluator, evalErr
}

// CheckPodSecurity reports whether a pod spec meets level, with the
// reasons when it does not.
func CheckPodSecurity(level psapi.Level, meta metav1.ObjectMeta, spec corev1.PodSpec) (bool, string, error) {
	e, err := psEvaluator()
	if err != nil {
		return false, "", fmt.Errorf("pod security checks: %w", err)
	}
	r := policy.AggregateCheckResults(e.EvaluatePod(psapi.LevelVersion{Level: level, Version: podSecurityLV}, &meta, &spec))
	if r.Allowed {
		return true, "", nil
	}
	return false, r.ForbiddenReason() + ": " + r.ForbiddenDetail(), nil
}

// weakestLevel is the strictest Pod Security level a pod spec meets, and
// why it fails "restricted" when it does.
func weakestLevel(meta metav1.ObjectMeta, spec corev1.PodSpec) (psapi.Level, string, error) {
	var why []string
	for _, l := range []psapi.Level{psapi.LevelRestricted, psapi.LevelBaseline} {
		ok, reason, err := CheckPodSecurity(l, meta, spec)
		if err != nil {
			return "", "", err
		}
		if ok {
			return l, strings.Join(why, "; "), nil
		}
		why = append(why, string(l)+": "+reason)
	}
	return psapi.LevelPrivileged, strings.Join(why, "; "), nil
}

func ptr[T any](v T) *T { return &v }

// containerSecurity is every container's hardening: the service's own
// ids, no privilege escalation, no capabilities, the runtime's seccomp
// profile and (unless the Docker target documents why not) a read-only root.
func containerSecurity(uid, gid int, readOnlyRoot bool) *corev1.SecurityContext {
	sc := &corev1.SecurityContext{
		RunAsUser:                ptr(int64(uid)),
		RunAsGroup:               ptr(int64(gid)),
		ReadOnlyRootFilesystem:   ptr(readOnlyRoot),
		AllowPrivilegeEscalation: ptr(false),
		Privileged:               ptr(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if uid != 0 {
		sc.RunAsNonRoot = ptr(true)
	}
	return sc
}

func podSecurity(uid, gid int) *corev1.PodSecurityContext {
	sc := &corev1.PodSecurityContext{
		RunAsUser:      ptr(int64(uid)),
		RunAsGroup:     ptr(int64(gid)),
		FSGroup:        ptr(int64(gid)),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if uid != 0 {
		sc.RunAsNonRoot = ptr(true)
	}
	return sc
}
