package install

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// cluster is a control plane with the operator's CRDs and minimal Prometheus Operator CRDs
// (testdata/monitoring-crds.yaml), reached as an administrator.
type cluster struct {
	cp *harness.ControlPlane
	// admin is an administrator's client, clientset its typed twin; kubeconfig its file.
	admin      client.Client
	clientset  *kubernetes.Clientset
	kubeconfig string
}

// startCluster starts a control plane that stops when the test ends.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	cp, err := harness.StartControlPlane()
	require.NoError(t, err)
	t.Cleanup(func() { _ = cp.Stop() })
	user, err := cp.AdminUser()
	require.NoError(t, err)
	c := &cluster{cp: cp, kubeconfig: harness.WriteKubeconfig(t, t.TempDir(), "admin", user)}
	c.admin, err = client.New(cp.Config, client.Options{Scheme: harness.Scheme()})
	require.NoError(t, err)
	c.clientset, err = kubernetes.NewForConfig(cp.Config)
	require.NoError(t, err)
	// The ServiceMonitor and PrometheusRule kinds must exist for the API server to accept them;
	// their schemas are the Prometheus Operator's business, so these CRDs keep every field.
	c.kubectl(t, "", "apply", "-f", testdata("monitoring-crds.yaml"))
	c.kubectl(t, "", "wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com",
		"crd/prometheusrules.monitoring.coreos.com", "--timeout=30s")
	return c
}

// kubectl runs kubectl as the administrator with stdin (may be empty) and returns its output.
func (c *cluster) kubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	return runKubectl(t, c.kubeconfig, stdin, args...)
}

// apply creates or updates every object of a multi-document manifest for real: a dry run
// would not create the namespace the other objects need.
func (c *cluster) apply(t *testing.T, manifest string) string {
	t.Helper()
	return c.kubectl(t, manifest, "apply", "-f", "-")
}

// namespaces creates namespaces (tenants'), which an install expects to exist.
func (c *cluster) namespaces(t *testing.T, names ...string) {
	t.Helper()
	for _, ns := range names {
		c.kubectl(t, "", "create", "namespace", ns)
	}
}

// runKubectl runs kubectl with a kubeconfig.
func runKubectl(t *testing.T, kubeconfig, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kubectl %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// repoPath is a path inside the repository.
func repoPath(elem ...string) string {
	return filepath.Join(append([]string{harness.RepoRoot()}, elem...)...)
}

// testdata is a file of this package's testdata folder.
func testdata(elem ...string) string {
	return repoPath(append([]string{"test", "install", "testdata"}, elem...)...)
}
