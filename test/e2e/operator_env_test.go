package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// operatorEnv is the real operator as a platform team runs it: a control plane, config/default
// applied, the face-emulator binary, and bin/manager under exactly the generated ClusterRole.
type operatorEnv struct {
	cp *harness.ControlPlane
	// admin is an administrator's client; adminKC its kubeconfig.
	admin   client.Client
	adminKC string
	// operatorKC is the kubeconfig of the operator's user, for further replicas.
	operatorKC string
	// emulatorURL is the Face emulator's endpoint; emulatorKey its API key.
	emulatorURL, emulatorKey string
	// managerOut is the manager's combined output; managerPID its process id.
	managerOut *harness.SyncBuffer
	managerPID int
}

// startOperatorEnv starts everything; managerArgs are appended to the manager's flags.
func startOperatorEnv(t *testing.T, managerArgs ...string) *operatorEnv {
	t.Helper()
	return startOperatorEnvWithRBAC(t, bindGeneratedClusterRole, nil, managerArgs...)
}

// bindGeneratedClusterRole binds exactly the generated ClusterRole to the operator's user.
func bindGeneratedClusterRole(t *testing.T, admin client.Client, user string) {
	t.Helper()
	role := &rbacv1.ClusterRole{}
	raw, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "rbac", "role.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096).Decode(role))
	ctx := context.Background()
	require.NoError(t, admin.Create(ctx, role))
	require.NoError(t, admin.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: objectMeta("liveness-operator"),
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: user, APIGroup: "rbac.authorization.k8s.io"}},
	}))
}

// startOperatorEnvWithRBAC is startOperatorEnv with the operator's permissions granted by
// grant (after config/default is applied and namespaces, if any, are created).
func startOperatorEnvWithRBAC(t *testing.T, grant func(*testing.T, client.Client, string), namespaces []string, managerArgs ...string) *operatorEnv {
	t.Helper()
	cp, err := harness.StartControlPlane()
	require.NoError(t, err)
	t.Cleanup(func() { _ = cp.Stop() })
	dir := t.TempDir()

	admin, err := cp.AdminUser()
	require.NoError(t, err)
	env := &operatorEnv{cp: cp, adminKC: harness.WriteKubeconfig(t, dir, "admin", admin), emulatorKey: "e2e-face-key-7f3a"}
	operator, err := cp.AddUser(envtest.User{Name: "liveness-operator"})
	require.NoError(t, err)
	env.operatorKC = harness.WriteKubeconfig(t, dir, "operator", operator)

	env.admin, err = client.New(cp.Config, client.Options{Scheme: harness.Scheme()})
	require.NoError(t, err)

	// The deploy manifests are accepted by the real API server (applied for real: with no
	// kubelet here the Deployment's pods never run, so nothing competes with the test's manager).
	applied := kubectl(t, env.adminKC, "apply", "-k", filepath.Join(harness.RepoRoot(), "config", "default"))
	require.Contains(t, applied, "deployment.apps/liveness-operator-controller-manager created")
	for _, ns := range namespaces {
		env.namespace(t, ns)
	}
	// Grant the operator exactly what is asked for, nothing more.
	grant(t, env.admin, "liveness-operator")

	emuOut := startProcess(t, nil, "face-emulator", "--listen", "127.0.0.1:0", "--api-key", env.emulatorKey)
	env.emulatorURL = harness.EmulatorURL(t, emuOut)
	args := append([]string{"--kubeconfig", env.operatorKC, "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0"}, managerArgs...)
	var cmd *exec.Cmd
	env.managerOut, cmd = startCommand(t, []string{"FACE_ENDPOINT=" + env.emulatorURL, "FACE_APIKEY=" + env.emulatorKey}, "manager", args...)
	env.managerPID = cmd.Process.Pid
	harness.Eventually(t, 30*time.Second, func() string {
		if !strings.Contains(env.managerOut.String(), "Starting workers") {
			return "the manager has not started its workers"
		}
		return ""
	})
	return env
}

// namespace creates a namespace for one tenant.
func (e *operatorEnv) namespace(t *testing.T, name string) {
	t.Helper()
	require.NoError(t, e.admin.Create(context.Background(), &corev1.Namespace{ObjectMeta: objectMeta(name)}))
}

// emulatorSessions is what the Face emulator holds, deleted and expired sessions included.
func (e *operatorEnv) emulatorSessions(t *testing.T) map[string]emulator.SessionInfo {
	t.Helper()
	return emulatorSessionsAt(t, e.emulatorURL)
}

// emulatorSessionsAt is what the Face emulator at url holds, by session id.
func emulatorSessionsAt(t *testing.T, url string) map[string]emulator.SessionInfo {
	t.Helper()
	var out struct {
		Sessions []emulator.SessionInfo `json:"sessions"`
	}
	emulatorGetAt(t, url, "/emulator/sessions", &out)
	m := map[string]emulator.SessionInfo{}
	for _, s := range out.Sessions {
		m[s.SessionID] = s
	}
	return m
}

// emulatorStats are the emulator's request counters.
func (e *operatorEnv) emulatorStats(t *testing.T) emulator.Stats {
	t.Helper()
	var st emulator.Stats
	e.emulatorGet(t, "/emulator/stats", &st)
	return st
}

func (e *operatorEnv) emulatorGet(t *testing.T, path string, into any) {
	t.Helper()
	emulatorGetAt(t, e.emulatorURL, path, into)
}

// emulatorGetAt decodes the JSON answer of the emulator at url to GET path.
func emulatorGetAt(t *testing.T, url, path string, into any) {
	t.Helper()
	resp, err := http.Get(url + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, path)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(into))
}
