package gitops

import (
	"context"
	"os"
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
	cp        *harness.ControlPlane
	k8sClient client.Client
	shared    = harness.SharedControlPlane{OnStart: func(c *harness.ControlPlane, a client.Client) { cp, k8sClient = c, a }}
)

// TestMain stops the shared control plane, if a test started one, after all tests ran.
func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(shared.Run(m))
}

// needControlPlane starts the shared control plane on first use. The client reads straight
// from the API server: the tests judge what the server holds, not a cache.
func needControlPlane(t *testing.T) {
	t.Helper()
	shared.Start(t)
}

// newNamespace creates a namespace named after the test.
func newNamespace(t *testing.T) string {
	t.Helper()
	needControlPlane(t)
	name := harness.NamespaceName("g", t)
	require.NoError(t, k8sClient.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	return name
}
