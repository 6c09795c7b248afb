package metrics

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// operator is a control plane, the face-emulator binary and bin/manager serving plain-HTTP
// metrics on a loopback port.
type operator struct {
	admin       client.Client
	emulatorURL string
	metricsAddr string
	managerOut  *harness.SyncBuffer
}

// emulatorKey is the test emulator's API key (a test value, never a real key).
const emulatorKey = "metrics-face-key-51c2"

// startOperator starts everything; the manager's operator namespace is operatorNS, which must
// exist before the manager starts (its token signing key is stored there).
func startOperator(t *testing.T, operatorNS string, createNamespace func(client.Client, string)) *operator {
	t.Helper()
	cp, err := harness.StartControlPlane()
	require.NoError(t, err)
	t.Cleanup(func() { _ = cp.Stop() })
	admin, err := client.New(cp.Config, client.Options{Scheme: harness.Scheme()})
	require.NoError(t, err)
	createNamespace(admin, operatorNS)

	// The manager runs as an administrator: RBAC is what test/e2e checks, not this test.
	user, err := cp.AdminUser()
	require.NoError(t, err)
	kubeconfig := harness.WriteKubeconfig(t, t.TempDir(), "metrics-admin", user)

	emuOut := startBinary(t, nil, "face-emulator", "--listen", "127.0.0.1:0", "--api-key", emulatorKey)
	op := &operator{admin: admin, emulatorURL: harness.EmulatorURL(t, emuOut), metricsAddr: harness.FreeAddr(t)}
	op.managerOut = startBinary(t, []string{"FACE_ENDPOINT=" + op.emulatorURL, "FACE_APIKEY=" + emulatorKey}, "manager",
		"--kubeconfig", kubeconfig, "--operator-namespace", operatorNS,
		"--metrics-bind-address="+op.metricsAddr, "--metrics-secure=false",
		"--health-probe-bind-address", "127.0.0.1:0", "--allowed-face-endpoints", "127.0.0.1")
	harness.Eventually(t, 60*time.Second, func() string {
		if !strings.Contains(op.managerOut.String(), "Starting workers") {
			return "the manager has not started its workers"
		}
		return ""
	})
	return op
}

// scrape reads /metrics over plain HTTP.
func (o *operator) scrape(t *testing.T) string {
	t.Helper()
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("http://" + o.metricsAddr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// startBinary runs one of binDir's binaries until the test ends and returns its output.
func startBinary(t *testing.T, env []string, name string, args ...string) *harness.SyncBuffer {
	t.Helper()
	out, _ := harness.StartProcess(t, append(os.Environ(), env...), filepath.Join(binDir, name), args...)
	return out
}
