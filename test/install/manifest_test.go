package install

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/yaml"
)

// objects are the documents of a multi-document manifest, empty documents dropped.
func objects(t *testing.T, manifest string) []*unstructured.Unstructured {
	t.Helper()
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(manifest)), 4096)
	var out []*unstructured.Unstructured
	for {
		obj := map[string]any{}
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		if len(obj) > 0 {
			out = append(out, &unstructured.Unstructured{Object: obj})
		}
	}
}

// ofKind are the objects of one kind.
func ofKind(objs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind {
			out = append(out, o)
		}
	}
	return out
}

// one is the only object of a kind and name ("" matches any name).
func one(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	var found []*unstructured.Unstructured
	for _, o := range ofKind(objs, kind) {
		if name == "" || o.GetName() == name {
			found = append(found, o)
		}
	}
	require.Len(t, found, 1, "%s %q", kind, name)
	return found[0]
}

// typed converts an object into its Go type.
func typed[T any](t *testing.T, o *unstructured.Unstructured) *T {
	t.Helper()
	out := new(T)
	require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, out))
	return out
}

// deployment is the manifest's only Deployment.
func deployment(t *testing.T, objs []*unstructured.Unstructured) *appsv1.Deployment {
	t.Helper()
	return typed[appsv1.Deployment](t, one(t, objs, "Deployment", ""))
}

// rulesOfFile are the rules of the object of one kind in a YAML file of the repository.
func rulesOfFile(t *testing.T, kind string, elem ...string) []rbacv1.PolicyRule {
	t.Helper()
	raw, err := os.ReadFile(repoPath(elem...))
	require.NoError(t, err)
	return typed[rbacv1.ClusterRole](t, one(t, objects(t, string(raw)), kind, "")).Rules
}

// kustomize renders a kustomization of the repository with kubectl's built-in kustomize.
func kustomize(t *testing.T, elem ...string) string {
	t.Helper()
	out, err := exec.Command("kubectl", "kustomize", repoPath(elem...)).CombinedOutput()
	require.NoError(t, err, "kubectl kustomize:\n%s", out)
	return string(out)
}

// requireHardened checks the manager's pod keeps the restricted Pod Security profile.
func requireHardened(t *testing.T, d *appsv1.Deployment) {
	t.Helper()
	pod := d.Spec.Template.Spec
	require.NotNil(t, pod.TerminationGracePeriodSeconds)
	require.EqualValues(t, 30, *pod.TerminationGracePeriodSeconds)
	require.True(t, *pod.SecurityContext.RunAsNonRoot)
	require.Equal(t, "RuntimeDefault", string(pod.SecurityContext.SeccompProfile.Type))
	require.Len(t, pod.Containers, 1)
	sc := pod.Containers[0].SecurityContext
	require.False(t, *sc.AllowPrivilegeEscalation)
	require.True(t, *sc.ReadOnlyRootFilesystem)
	require.True(t, *sc.RunAsNonRoot)
	require.Equal(t, []string{"ALL"}, capabilityNames(sc.Capabilities.Drop))
	require.Contains(t, pod.Containers[0].Args, "--leader-elect")
}

func capabilityNames[T ~string](caps []T) []string {
	out := make([]string, len(caps))
	for i, c := range caps {
		out[i] = string(c)
	}
	return out
}
