package gitops

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// One control plane serves the integration tests of this package, started by the first test
// that needs it, so the Lua tests run without one; each test has its own namespace, emulator
// and manager.
var (
	cpOnce    sync.Once
	cp        *harness.ControlPlane
	cpErr     error
	k8sClient client.Client
)

// TestMain stops the shared control plane, if a test started one, after all tests ran.
func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	code := m.Run()
	if cp != nil {
		if err := cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop control plane:", err)
		}
	}
	os.Exit(code)
}

// needControlPlane starts the shared control plane on first use. The client reads straight
// from the API server: the tests judge what the server holds, not a cache.
func needControlPlane(t *testing.T) {
	t.Helper()
	cpOnce.Do(func() {
		cp, cpErr = harness.StartControlPlane()
		if cpErr != nil {
			return
		}
		k8sClient, cpErr = client.New(cp.Config, client.Options{Scheme: harness.Scheme()})
	})
	require.NoError(t, cpErr)
}

// newNamespace creates a namespace named after the test.
func newNamespace(t *testing.T) string {
	t.Helper()
	needControlPlane(t)
	name := harness.NamespaceName("g", t)
	require.NoError(t, k8sClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	return name
}
