package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	"github.com/liveness-operator/liveness-operator/internal/release"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// operatorNamespace is where install.yaml puts the manager (config/default's namespace).
const operatorNamespace = "liveness-operator-system"

// emulatorKey is the Face key the face-emulator taken out of the release accepts.
const emulatorKey = "release-face-key-51d2"

// install.yaml pins the manager to the release's image by digest and holds what
// config/default installs: the three CRDs, the RBAC, the Deployment; no dev image anywhere.
func TestInstallYAMLPinsManagerByDigest(t *testing.T) {
	raw := readDist(t, manifest.Install)
	require.NotContains(t, raw, "liveness-operator:dev")
	require.NotContains(t, raw, "controller:latest")
	objs := decodeObjects(t, raw)
	d := deploymentOf(t, objs)
	manager, err := manifest.Image(release.ManagerImage)
	require.NoError(t, err)
	require.Equal(t, "registry.example.com/team/liveness-operator@"+manager.Digest, d.Spec.Template.Spec.Containers[0].Image)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
	}
	require.Equal(t, 3, kinds["CustomResourceDefinition"])
	require.Equal(t, 1, kinds["Deployment"])
	require.Equal(t, 1, kinds["Namespace"])
	require.Equal(t, 1, kinds["ServiceAccount"])
	require.NotZero(t, kinds["ClusterRole"])
	require.NotZero(t, kinds["ClusterRoleBinding"])
}

// install.yaml applied server-side to a real API server installs the operator; the manager
// and the emulator, both taken out of the release's images, run with exactly what a pod of
// install.yaml's Deployment would have (its arguments, its ServiceAccount's RBAC and no
// other), and a session reaches Ready and is deleted with its cloud session. The packaged
// chart's manifest is then validated by the same API server (a server-side dry run).
func TestInstallYAMLRunsASessionUnderItsRBAC(t *testing.T) {
	cp, err := harness.StartControlPlane()
	require.NoError(t, err)
	t.Cleanup(func() { _ = cp.Stop() })
	admin, err := cp.AdminUser()
	require.NoError(t, err)
	kubeconfig := harness.WriteKubeconfig(t, t.TempDir(), "admin", admin)
	kubectl := func(stdin string, args ...string) string {
		t.Helper()
		cmd := exec.Command("kubectl", append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Stdin = strings.NewReader(stdin)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "kubectl %s:\n%s", strings.Join(args, " "), out)
		return string(out)
	}
	kubectl("", "apply", "--server-side", "--field-manager=install", "-f", filepath.Join(opts.Out, manifest.Install))
	kubectl("", "wait", "--for=condition=Established", "--timeout=30s", "crd/livenesssessions.face.liveness-operator.io",
		"crd/faceaccounts.face.liveness-operator.io", "crd/clusterfaceaccounts.face.liveness-operator.io")

	emulatorOut, _ := harness.StartProcess(t, []string{"HOME=" + t.TempDir()},
		extractBinary(t, imageRecord(t, "face-emulator"), imageOf(t, "face-emulator")),
		"--listen", "127.0.0.1:0", "--api-key", emulatorKey)
	emulatorURL := harness.EmulatorURL(t, emulatorOut)

	d := deploymentOf(t, decodeObjects(t, kubectl("", "get", "deployment", "-n", operatorNamespace, "-o", "yaml")))
	var args []string
	for _, a := range d.Spec.Template.Spec.Containers[0].Args {
		// The pod's ports become loopback ones: many tests share this machine.
		if !strings.HasPrefix(a, "--metrics-bind-address=") && !strings.HasPrefix(a, "--health-probe-bind-address=") {
			args = append(args, a)
		}
	}
	require.Contains(t, args, "--leader-elect")
	args = append(args, "--kubeconfig", cp.ServiceAccountKubeconfig(t, operatorNamespace, d.Spec.Template.Spec.ServiceAccountName),
		"--metrics-bind-address=127.0.0.1:0", "--health-probe-bind-address=127.0.0.1:0",
		"--leader-election-namespace="+operatorNamespace)
	// What the Deployment's environment gives the pod: its namespace, and the default account
	// from the optional face-credentials Secret, here the emulator.
	env := []string{"HOME=" + t.TempDir(), "POD_NAMESPACE=" + operatorNamespace, "FACE_ENDPOINT=" + emulatorURL, "FACE_APIKEY=" + emulatorKey}
	managerBin := extractBinary(t, imageRecord(t, release.ManagerImage), imageOf(t, release.ManagerImage))
	managerOut, _ := harness.StartProcess(t, env, managerBin, args...)
	harness.Eventually(t, 60*time.Second, func() string {
		if !strings.Contains(managerOut.String(), "Starting workers") {
			return "the manager has not started its workers"
		}
		return ""
	})
	require.Contains(t, managerOut.String(), testVersion, "the manager logs its version at start")

	kubectl("", "create", "namespace", "team-a")
	kubectl(`apiVersion: face.liveness-operator.io/v1alpha1
kind: LivenessSession
metadata:
  name: login-check-42
  namespace: team-a
spec:
  operationMode: Passive
  deviceCorrelationId: release-install-1
`, "apply", "--server-side", "-f", "-")
	kubectl("", "wait", "-n", "team-a", "--for=condition=Ready", "livenesssession/login-check-42", "--timeout=90s")
	require.NotEmpty(t, kubectl("", "get", "secret", "-n", "team-a", "login-check-42", "-o", "jsonpath={.data.authToken}"))
	kubectl("", "delete", "livenesssession", "-n", "team-a", "login-check-42", "--timeout=60s")
	out := managerOut.String()
	require.Contains(t, out, "Successfully acquired lease")
	require.NotContains(t, out, "forbidden", "install.yaml's RBAC must be enough")
	require.NotContains(t, out, emulatorKey, "the API key must never be logged")

	// The packaged chart, rendered with its defaults into another namespace, is accepted by the
	// same API server (CRDs are cluster-scoped and already installed: only the rest is checked).
	kubectl("", "create", "namespace", "chart-check")
	var rest []string
	for _, doc := range strings.Split(renderPackagedChart(t, "chart-check", nil), "\n---") {
		if !strings.Contains(doc, "kind: CustomResourceDefinition") {
			rest = append(rest, doc)
		}
	}
	kubectl(strings.Join(rest, "\n---"), "apply", "--server-side", "--dry-run=server", "--field-manager=chart", "-f", "-")
}

// readDist is a file of the test's release, by its path relative to dist/.
func readDist(t *testing.T, rel string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(opts.Out, rel))
	require.NoError(t, err)
	return string(raw)
}

// decodeObjects parses a multi-document YAML manifest (or a kubectl List) into objects.
func decodeObjects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, doc := range strings.Split(manifest, "\n---") {
		o := &unstructured.Unstructured{}
		require.NoError(t, yaml.Unmarshal([]byte(doc), &o.Object), "decode:\n%s", doc)
		if o.Object == nil || o.GetKind() == "" {
			continue
		}
		if o.IsList() {
			list, err := o.ToList()
			require.NoError(t, err)
			for i := range list.Items {
				objs = append(objs, &list.Items[i])
			}
			continue
		}
		objs = append(objs, o)
	}
	return objs
}

// deploymentOf is the one Deployment of objs.
func deploymentOf(t *testing.T, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == "Deployment" {
			found = append(found, o)
		}
	}
	require.Len(t, found, 1)
	d := &appsv1.Deployment{}
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(found[0].Object, d))
	return d
}

// imageRecord and imageOf are the release's record and definition of the image with that name.
func imageRecord(t *testing.T, name string) release.ImageRecord {
	t.Helper()
	rec, err := manifest.Image(name)
	require.NoError(t, err)
	return rec
}

func imageOf(t *testing.T, name string) release.Image {
	t.Helper()
	for _, img := range release.Images {
		if img.Name == name {
			return img
		}
	}
	t.Fatalf("no image %q", name)
	return release.Image{}
}

// readFile is a file's contents.
func readFile(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(raw)
}
