// Package e2e runs the operator's real binaries: bin/manager against a real kube-apiserver and
// bin/face-emulator, driven with kubectl as a platform team would.
package e2e

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// binDir holds bin/manager, bin/face-emulator and bin/control-plane: LIVENESS_BIN_DIR (make
// test builds them there) or, when unset, a fresh build into a temporary folder.
var binDir string

func TestMain(m *testing.M) {
	os.Exit(harness.RunWithBinaries(m, &binDir, map[string]string{
		"manager": "./cmd/manager", "face-emulator": "./cmd/face-emulator", "control-plane": "./test/cmd/control-plane"}))
}

// The README's quick start: make demo runs hack/demo.sh, which must succeed and show the flow.
func TestDemo(t *testing.T) {
	if _, err := os.Stat(filepath.Join(binDir, "control-plane")); err != nil {
		require.NoError(t, buildInto(binDir, "control-plane", "./test/cmd/control-plane"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(harness.RepoRoot(), "hack", "demo.sh"))
	cmd.Env = append(os.Environ(), "BIN="+binDir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "demo failed:\n%s", out)
	for _, want := range []string{
		"condition met",
		"outcome: Live, decision: realface",
		"deleted=true",
		"isIdentical true",
		"the verify session and its captured image are gone",
		"the operator's log never contained a token or the key",
	} {
		require.Contains(t, string(out), want)
	}
}

func buildInto(dir, name, pkg string) error {
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), pkg)
	cmd.Dir = harness.RepoRoot()
	return cmd.Run()
}

// startProcess runs a binary until the test ends and returns its combined output buffer.
func startProcess(t *testing.T, env []string, name string, args ...string) *harness.SyncBuffer {
	t.Helper()
	out, _ := startCommand(t, env, name, args...)
	return out
}

// startCommand is startProcess that also returns the running command (for its pid).
func startCommand(t *testing.T, env []string, name string, args ...string) (*harness.SyncBuffer, *exec.Cmd) {
	t.Helper()
	return harness.StartProcess(t, append(os.Environ(), env...), filepath.Join(binDir, name), args...)
}

// kubectl runs kubectl with the given kubeconfig.
func kubectl(t *testing.T, kubeconfig string, args ...string) string {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "kubectl %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// The real manager binary, with only the permissions config/rbac grants it, runs the whole
// session life; the deploy manifests are accepted by the real API server.
func TestManagerBinaryWithGeneratedRBAC(t *testing.T) {
	env := startOperatorEnv(t)
	adminKC, mgrOut, key := env.adminKC, env.managerOut, env.emulatorKey

	sample := filepath.Join(harness.RepoRoot(), "config", "samples", "face_v1alpha1_livenesssession.yaml")
	kubectl(t, adminKC, "apply", "-f", sample)
	kubectl(t, adminKC, "wait", "--for=condition=Ready", "livenesssession/login-check-42", "--timeout=60s")
	token := kubectl(t, adminKC, "get", "secret", "login-check-42", "-o", "jsonpath={.data.authToken}")
	require.NotEmpty(t, token)
	cols := kubectl(t, adminKC, "get", "liveness")
	for _, col := range []string{"STATUS", "OUTCOME", "DECISION", "SECRET", "READY", "AGE", "Pending", "login-check-42"} {
		require.Contains(t, cols, col)
	}

	kubectl(t, adminKC, "delete", "livenesssession", "login-check-42", "--timeout=60s")
	require.NotContains(t, mgrOut.String(), key, "the API key must never be logged")
	plainToken, err := base64.StdEncoding.DecodeString(token)
	require.NoError(t, err)
	require.NotContains(t, mgrOut.String(), string(plainToken), "the session's auth token must never be logged")
	require.NotContains(t, mgrOut.String(), "forbidden", "the generated RBAC must be enough")
}
