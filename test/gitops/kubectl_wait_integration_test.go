package gitops

import (
	"context"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// adminKubeconfig writes a kubeconfig for an administrator of the test control plane.
func adminKubeconfig(t *testing.T) string {
	t.Helper()
	user, err := cp.AdminUser()
	require.NoError(t, err)
	return harness.WriteKubeconfig(t, t.TempDir(), "admin", user)
}

// kubectlWait runs "kubectl wait" with the arguments docs/gitops.md shows and returns its error
// (nil when the condition was met in time) and output.
func kubectlWait(t *testing.T, kubeconfig, namespace string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig, "-n", namespace, "wait"}, args...)...)
	out, err := cmd.CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// The kubectl wait commands of docs/gitops.md, run with the real kubectl against sessions and an
// account the real operator reconciles: each returns once its condition holds, and waiting
// for Ready alone does not notice a stalled session (it times out), which is why the docs
// wait for Stalled as well.
func TestKubectlWaitExamples(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	kubeconfig := adminKubeconfig(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	harness.StartManager(t, cp.Config, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, newSession(ns, "login-check-42")))
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "face-key", harness.TestAPIKey)))
	require.NoError(t, k8sClient.Create(ctx, &facev1.FaceAccount{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "team-face"}, Spec: accountSpec(emu.URL, "face-key"),
	}))

	out, err := kubectlWait(t, kubeconfig, ns, "--for=condition=Ready", "livenesssession/login-check-42", "--timeout=30s")
	require.NoError(t, err, out)
	out, err = kubectlWait(t, kubeconfig, ns, "--for=condition=Ready", "faceaccount/team-face", "--timeout=30s")
	require.NoError(t, err, out)

	_, err = emu.Attempt(sessionToken(t, ns, "login-check-42"), emulator.AttemptRequest{LivenessDecision: "realface"})
	require.NoError(t, err)
	requestSync(t, ns, "login-check-42")
	out, err = kubectlWait(t, kubeconfig, ns, "--for=condition=Completed", "livenesssession/login-check-42", "--timeout=30s")
	require.NoError(t, err, out)
	out, err = kubectlWait(t, kubeconfig, ns, "--for=jsonpath={.status.outcome}=Live", "livenesssession/login-check-42", "--timeout=30s")
	require.NoError(t, err, out)

	// A session whose token Secret name is taken: Ready never comes, Stalled does.
	require.NoError(t, k8sClient.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken"}, StringData: map[string]string{"x": "y"},
	}))
	stuck := newSession(ns, "stuck")
	stuck.Spec.TokenSecretName = "taken"
	require.NoError(t, k8sClient.Create(ctx, stuck))
	out, err = kubectlWait(t, kubeconfig, ns, "--for=condition=Stalled", "livenesssession/stuck", "--timeout=30s")
	require.NoError(t, err, out)
	out, err = kubectlWait(t, kubeconfig, ns, "--for=condition=Ready", "livenesssession/stuck", "--timeout=3s")
	require.Error(t, err, "waiting for Ready must not succeed on a stalled session: %s", out)
	require.Contains(t, out, "timed out")
}
