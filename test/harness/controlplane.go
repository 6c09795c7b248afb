// Package harness starts the real parts that integration and end-to-end tests run against:
// a kube-apiserver and etcd (envtest, with the CRDs from config/crd/bases), the Face emulator
// on loopback, and the operator's manager, each stopped by the test that started it.
package harness

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// RepoRoot is the repository's top folder, found from this file's location.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ControlPlane is a running kube-apiserver and etcd with the operator's CRDs installed.
type ControlPlane struct {
	// Env is the envtest environment.
	Env *envtest.Environment
	// Config reaches the API server as an administrator.
	Config *rest.Config

	adminOnce sync.Once
	admin     *envtest.AuthenticatedUser
	adminErr  error
}

// StartControlPlane starts kube-apiserver and etcd from KUBEBUILDER_ASSETS (make test builds
// them into bin/k8s) and installs the CRDs from config/crd/bases.
func StartControlPlane() (*ControlPlane, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, fmt.Errorf("KUBEBUILDER_ASSETS is not set: run the tests with 'make test', which builds kube-apiserver and etcd into bin/k8s")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:        []string{filepath.Join(RepoRoot(), "config", "crd", "bases")},
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: time.Minute,
		ControlPlaneStopTimeout:  time.Minute,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("start control plane: %w", err)
	}
	cfg.QPS, cfg.Burst = -1, 0 // no client-side throttling in tests
	return &ControlPlane{Env: env, Config: cfg}, nil
}

// Stop stops the API server and etcd.
func (c *ControlPlane) Stop() error {
	return c.Env.Stop()
}

// WriteKubeconfig writes an envtest user's kubeconfig to dir/<name>.kubeconfig and returns
// its path, for a process or a CLI that reaches the control plane as that user.
func WriteKubeconfig(t testing.TB, dir, name string, u *envtest.AuthenticatedUser) string {
	t.Helper()
	kc, err := u.KubeConfig()
	if err != nil {
		t.Fatalf("kubeconfig of %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return path
}

// namespaceCounter numbers the namespaces NamespaceName hands out in this test process.
var namespaceCounter atomic.Int64

// NamespaceName is a fresh namespace name for one test: prefix, a number unique in the test
// process, and the test's name made a valid DNS label (lower case, "/" and "_" as "-", at most
// 63 characters), so that a namespace shows which test made it.
func NamespaceName(prefix string, t testing.TB) string {
	name := fmt.Sprintf("%s%d-%s", prefix, namespaceCounter.Add(1), strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())))
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-")
	}
	return name
}
