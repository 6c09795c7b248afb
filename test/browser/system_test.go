package browser

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// system is everything the page runs against.
type system struct {
	namespace string
	admin     client.Client
	emu       *harness.Emulator
	manager   *harness.SyncBuffer
	appServer *harness.SyncBuffer
	appURL    string
}

// namespace of the app server's sessions.
const namespace = "shop"

// operatorNamespace is the manager's own namespace.
const operatorNamespace = "liveness-operator-system"

// startSystem starts the control plane, the emulator, bin/manager (as an administrator) and
// bin/example-app-server (as a user holding only the documented app server Role, with the
// development-only emulator pass-through for the page's stand-in SDK).
func startSystem(t *testing.T) *system {
	t.Helper()
	cp, err := harness.StartControlPlane()
	require.NoError(t, err)
	t.Cleanup(func() { _ = cp.Stop() })
	ctx := context.Background()
	s := &system{namespace: namespace}
	s.admin, err = client.New(cp.Config, client.Options{Scheme: harness.Scheme()})
	require.NoError(t, err)
	// The manager keeps its token signing key in its own namespace (--operator-namespace).
	for _, ns := range []string{namespace, operatorNamespace} {
		require.NoError(t, s.admin.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}))
	}

	dir := t.TempDir()
	adminUser, err := cp.AdminUser()
	require.NoError(t, err)
	appUser, err := cp.AddAppServerUser(ctx, namespace, "example-app-server")
	require.NoError(t, err)

	s.emu = harness.StartEmulator(t, emulator.Config{})
	s.manager = startProcess(t, []string{"FACE_ENDPOINT=" + s.emu.URL, "FACE_APIKEY=" + harness.TestAPIKey}, "manager",
		"--kubeconfig", harness.WriteKubeconfig(t, dir, "admin", adminUser),
		"--operator-namespace", operatorNamespace,
		"--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0")
	s.appServer = startProcess(t, nil, "example-app-server",
		"--kubeconfig", harness.WriteKubeconfig(t, dir, "app", appUser), "--namespace", namespace,
		"--listen", "127.0.0.1:0", "--face-emulator-endpoint", s.emu.URL)
	s.appURL = waitForURL(t, s.appServer, "example-app-server listening on ")
	harness.Eventually(t, time.Minute, func() string {
		if strings.Contains(s.manager.String(), "Starting workers") {
			return ""
		}
		return "the manager has not started its workers"
	})
	return s
}

// waitForURL returns the URL on the first line that starts with prefix.
func waitForURL(t *testing.T, o *harness.SyncBuffer, prefix string) string {
	t.Helper()
	var url string
	harness.Eventually(t, 30*time.Second, func() string {
		sc := bufio.NewScanner(strings.NewReader(o.String()))
		for sc.Scan() {
			if rest, ok := strings.CutPrefix(sc.Text(), prefix); ok {
				url = strings.TrimSpace(rest)
				return ""
			}
		}
		return "no line starting " + prefix
	})
	return url
}

// startProcess runs a binary of binDir until the test ends; its output is shown if it fails.
func startProcess(t *testing.T, env []string, name string, args ...string) *harness.SyncBuffer {
	t.Helper()
	out := &harness.SyncBuffer{}
	cmd := exec.Command(filepath.Join(binDir, name), args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	return out
}
