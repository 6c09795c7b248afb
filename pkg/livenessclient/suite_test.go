package livenessclient_test

import (
	"bytes"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// One control plane serves the package's tests; each test has its own namespace, emulator
// and manager, and talks to the API server as a user holding only the app server Role.
var (
	cp     *harness.ControlPlane
	admin  client.Client
	shared = harness.SharedControlPlane{OnStart: func(c *harness.ControlPlane, a client.Client) { cp, admin = c, a }}
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(shared.Run(m))
}

// env is one test's world.
type env struct {
	ns     string
	emu    *harness.Emulator
	client *livenessclient.Client
}

// newEnv starts the control plane if needed, a namespace, an emulator and (unless
// withoutOperator) the operator, and a livenessclient with the app server's permissions.
func newEnv(t *testing.T, withoutOperator bool) *env {
	t.Helper()
	a := shared.AppServerNamespace(t, "lc", "app-", !withoutOperator)
	e := &env{ns: a.Name, emu: a.Emulator}
	var err error
	e.client, err = livenessclient.New(a.User.Config(), a.Name)
	require.NoError(t, err)
	return e
}

// referenceFace is the sample reference image of config/samples/verify.
func referenceFace(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "samples", "verify", "reference-face.png"))
	require.NoError(t, err)
	return b
}

// tinyPNG is a real PNG that is too small for Face (under 1 KB and 36x36 pixels): it passes
// any format check and only the operator's validation refuses it.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, image.NewGray(image.Rect(0, 0, 20, 20))))
	return buf.Bytes()
}
