// Command kube-apiserver is the upstream Kubernetes API server, built from the
// Go module proxy so the lab can test rendered manifests against the real
// admission chain (Pod Security, ValidatingAdmissionPolicy, server-side apply)
// without downloading a prebuilt release binary.
package main

import (
	"os"

	"k8s.io/component-base/cli"
	"k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func main() {
	os.Exit(cli.Run(app.NewAPIServerCommand()))
}
