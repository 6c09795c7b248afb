// Command control-plane runs a local kube-apiserver and etcd (envtest, from KUBEBUILDER_ASSETS)
// with the operator's CRDs installed, writes an administrator kubeconfig, and runs until it
// gets SIGINT or SIGTERM. make demo and the end-to-end tests use it; there is no kubelet, so
// the operator runs beside it as a local process.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

func main() {
	kubeconfig := flag.String("kubeconfig-out", "kubeconfig", "where to write the administrator kubeconfig")
	flag.Parse()
	if err := run(*kubeconfig); err != nil {
		fmt.Fprintln(os.Stderr, "control-plane:", err)
		os.Exit(1)
	}
}

func run(kubeconfigPath string) error {
	cp, err := harness.StartControlPlane()
	if err != nil {
		return err
	}
	defer func() { _ = cp.Stop() }()
	admin, err := cp.AdminUser()
	if err != nil {
		return fmt.Errorf("add admin user: %w", err)
	}
	kc, err := admin.KubeConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	if err := os.WriteFile(kubeconfigPath, kc, 0o600); err != nil {
		return err
	}
	fmt.Printf("control plane ready at %s; kubeconfig in %s\n", cp.Config.Host, kubeconfigPath)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	<-stop
	return nil
}
