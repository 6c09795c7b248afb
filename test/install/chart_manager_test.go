package install

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// emulatorKey is the Face key the tests' face-emulator accepts.
const emulatorKey = "install-face-key-3c9e"

// The real manager, as the chart's default values run it (cluster-wide RBAC, no default
// account), authenticates as the chart's ServiceAccount and so holds exactly the RBAC the
// chart rendered; it completes a session through a tenant's FaceAccount.
func TestManagerBinaryUnderChartDefaultRBAC(t *testing.T) {
	c := startCluster(t)
	c.namespaces(t, operatorNamespace, "shop")
	c.apply(t, renderChart(t, nil))
	emulatorURL := startEmulator(t)
	// The loopback emulator is not a *.cognitiveservices.azure.com host: allow it, as a
	// platform team allows its own endpoints.
	out := startChartManager(t, c, nil, "--allowed-face-endpoints=127.0.0.1")
	c.kubectl(t, "", "-n", "shop", "create", "secret", "generic", "shop-face-key", "--from-literal=apikey="+emulatorKey)
	c.apply(t, `apiVersion: face.liveness-operator.io/v1alpha1
kind: FaceAccount
metadata:
  name: shop-face
  namespace: shop
spec:
  endpoint: `+emulatorURL+`
  credentials:
    apiKey:
      name: shop-face-key
      key: apikey
  quota:
    requestsPerSecond: 10
---
apiVersion: face.liveness-operator.io/v1alpha1
kind: LivenessSession
metadata:
  name: login-1
  namespace: shop
spec:
  accountRef:
    name: shop-face
  operationMode: Passive
  deviceCorrelationId: install-default-1
`)
	completeSession(t, c, out, "shop", "login-1")
	require.Contains(t, out.String(), "no default Face account", "the default values configure none")
}

// The real manager, as the chart runs it with every toggle on and watchNamespaces set,
// completes a session in a watched namespace with the namespaced Roles alone.
func TestManagerBinaryUnderChartNamespacedRBAC(t *testing.T) {
	c := startCluster(t)
	c.namespaces(t, operatorNamespace, "team-a", "team-b", "shop")
	c.apply(t, renderChart(t, fullValues()))
	emulatorURL := startEmulator(t)
	// The Deployment takes the default account from its values and the key Secret; here the
	// same variables point at the emulator.
	out := startChartManager(t, c, []string{"FACE_ENDPOINT=" + emulatorURL, "FACE_APIKEY=" + emulatorKey})
	c.kubectl(t, "", "apply", "-n", "team-a", "-f", repoPath("config", "samples", "face_v1alpha1_livenesssession.yaml"))
	completeSession(t, c, out, "team-a", "login-check-42")
}

// startEmulator runs bin/face-emulator on loopback until the test ends and returns its URL.
func startEmulator(t *testing.T) string {
	t.Helper()
	out := startBinary(t, nil, "face-emulator", "--listen", "127.0.0.1:0", "--api-key", emulatorKey)
	return harness.EmulatorURL(t, out)
}

// startChartManager runs bin/manager with the rendered Deployment's arguments, as the chart's
// ServiceAccount. Only what a pod gets from its environment is replaced: loopback addresses,
// a kubeconfig, the leader election namespace (in a pod: its own) and POD_NAMESPACE.
func startChartManager(t *testing.T, c *cluster, env []string, extraArgs ...string) *harness.SyncBuffer {
	t.Helper()
	d := deployment(t, objects(t, c.kubectl(t, "", "get", "deployment", "-n", operatorNamespace, "liveness-operator", "-o", "yaml")))
	var args []string
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		if !strings.HasPrefix(a, "--metrics-bind-address=") && !strings.HasPrefix(a, "--health-probe-bind-address=") {
			args = append(args, a)
		}
	}
	require.Contains(t, args, "--leader-elect")
	args = append(args, "--kubeconfig", c.cp.ServiceAccountKubeconfig(t, operatorNamespace, d.Spec.Template.Spec.ServiceAccountName),
		"--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0",
		"--leader-election-namespace="+operatorNamespace)
	out := startBinary(t, append(env, "POD_NAMESPACE="+operatorNamespace), "manager", append(args, extraArgs...)...)
	harness.Eventually(t, 60*time.Second, func() string {
		if !strings.Contains(out.String(), "Starting workers") {
			return "the manager has not started its workers"
		}
		return ""
	})
	return out
}

// completeSession waits for the session's token Secret, deletes the session (the cloud
// session with it) and checks the manager never lacked a permission.
func completeSession(t *testing.T, c *cluster, out *harness.SyncBuffer, ns, name string) {
	t.Helper()
	c.kubectl(t, "", "wait", "-n", ns, "--for=condition=Ready", "livenesssession/"+name, "--timeout=90s")
	require.NotEmpty(t, c.kubectl(t, "", "get", "secret", "-n", ns, name, "-o", "jsonpath={.data.authToken}"))
	c.kubectl(t, "", "delete", "livenesssession", "-n", ns, name, "--timeout=60s")
	require.Contains(t, out.String(), "Successfully acquired lease")
	require.NotContains(t, out.String(), "forbidden", "the chart's RBAC must be enough")
	require.NotContains(t, out.String(), emulatorKey, "the API key must never be logged")
}

// startBinary runs one of binDir's binaries until the test ends; its output is shown when
// the test fails.
func startBinary(t *testing.T, env []string, name string, args ...string) *harness.SyncBuffer {
	t.Helper()
	// Only the test's variables: a developer's FACE_* or KUBECONFIG must not leak in.
	out, _ := harness.StartProcess(t, append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...), filepath.Join(binDir, name), args...)
	return out
}
