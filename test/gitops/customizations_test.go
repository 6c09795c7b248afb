package gitops

import (
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// repoRoot is the repository's top folder, found from this file so the tests read nothing
// outside the repository whatever the working directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// customizationsDir holds the Argo CD resource customizations in Argo CD's own layout:
// <group>/<Kind>/health.lua, health_test.yaml, testdata/, actions/.
func customizationsDir() string {
	return filepath.Join(repoRoot(), "config", "argocd", "resource_customizations")
}

// kindDir is one <group>/<Kind> folder of the customizations.
type kindDir struct {
	// GroupKind is the group and kind the folder is named after.
	GroupKind schema.GroupKind
	// Path is the folder.
	Path string
}

// kindDirs lists every <group>/<Kind> folder with a health.lua. It fails the test when there
// is none, so a moved folder cannot make the health tests pass by finding nothing.
func kindDirs(t *testing.T) []kindDir {
	t.Helper()
	matches, err := filepath.Glob(filepath.Join(customizationsDir(), "*", "*", "health.lua"))
	require.NoError(t, err)
	require.NotEmpty(t, matches, "no health.lua under %s", customizationsDir())
	var dirs []kindDir
	for _, m := range matches {
		dir := filepath.Dir(m)
		dirs = append(dirs, kindDir{
			GroupKind: schema.GroupKind{Group: filepath.Base(filepath.Dir(dir)), Kind: filepath.Base(dir)},
			Path:      dir,
		})
	}
	sort.Slice(dirs, func(i, j int) bool { return dirs[i].Path < dirs[j].Path })
	return dirs
}

// readFile reads a file of the repository as a string.
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// readYAML decodes a YAML file into out, refusing unknown fields so that a misspelt key in a
// test file fails instead of being ignored.
func readYAML(t *testing.T, path string, out any) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.UnmarshalStrict(data, out), "decode %s", path)
}

// readObject reads a testdata object. It must also decode strictly into the operator's Go type
// for its kind: the inputs are then objects the operator's API can hold, with no misspelt
// field that the scripts would silently read as absent.
func readObject(t *testing.T, path string, want schema.GroupKind) *unstructured.Unstructured {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	u := &unstructured.Unstructured{}
	require.NoError(t, yaml.Unmarshal(data, &u.Object), "decode %s", path)
	require.Equal(t, want, u.GroupVersionKind().GroupKind(), "kind of %s", path)
	require.Equal(t, facev1.GroupVersion.String(), u.GetAPIVersion(), "apiVersion of %s", path)

	var typed any
	switch want.Kind {
	case "LivenessSession":
		typed = &facev1.LivenessSession{}
	case "FaceAccount":
		typed = &facev1.FaceAccount{}
	case "ClusterFaceAccount":
		typed = &facev1.ClusterFaceAccount{}
	default:
		t.Fatalf("%s: no Go type known for kind %s", path, want.Kind)
	}
	require.NoError(t, yaml.UnmarshalStrict(data, typed), "%s is not a valid %s", path, want.Kind)
	return u
}

// testdataFiles lists the YAML files of a testdata folder.
func testdataFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "testdata", "*.yaml"))
	require.NoError(t, err)
	return files
}
