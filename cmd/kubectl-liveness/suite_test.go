package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// One control plane for the package; each test has its own namespace (and, where it needs
// one, emulator and operator), and runs the plugin as a user with only the app server Role.
var (
	admin  client.Client
	shared = harness.SharedControlPlane{OnStart: func(_ *harness.ControlPlane, a client.Client) { admin = a }}
)

func TestMain(m *testing.M) {
	ctrl.SetLogger(logr.Discard())
	os.Exit(shared.Run(m))
}

// pluginEnv is one test's namespace and the kubeconfig the plugin uses.
type pluginEnv struct {
	ns, kubeconfig string
	emu            *harness.Emulator
}

func newPluginEnv(t *testing.T, withOperator bool) *pluginEnv {
	t.Helper()
	a := shared.AppServerNamespace(t, "kl", "kubectl-", withOperator)
	return &pluginEnv{ns: a.Name, emu: a.Emulator, kubeconfig: harness.WriteKubeconfig(t, t.TempDir(), "kubectl-"+a.Name, a.User)}
}

// result is one plugin run.
type result struct {
	stdout, stderr string
	err            error
}

// kubectlLiveness runs the plugin in process with --kubeconfig and -n set.
func (e *pluginEnv) kubectlLiveness(t *testing.T, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRootCommand(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &stdout, ErrOut: &stderr})
	root.SetArgs(append([]string{"--kubeconfig", e.kubeconfig, "-n", e.ns}, args...))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := root.ExecuteContext(ctx)
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// ok runs the plugin and requires success.
func (e *pluginEnv) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := e.kubectlLiveness(t, args...)
	require.NoError(t, r.err, "kubectl liveness %s\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.stdout, r.stderr)
	return r.stdout
}

func (e *pluginEnv) get(t *testing.T, name string) *facev1.LivenessSession {
	t.Helper()
	ls := &facev1.LivenessSession{}
	require.NoError(t, admin.Get(context.Background(), types.NamespacedName{Namespace: e.ns, Name: name}, ls))
	return ls
}
