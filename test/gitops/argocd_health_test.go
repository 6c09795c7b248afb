package gitops

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// healthTests is Argo CD's health_test.yaml.
type healthTests struct {
	Tests []healthTest `json:"tests"`
}

// healthTest is one case: an input object and the health Argo CD must show for it.
type healthTest struct {
	HealthStatus healthStatus `json:"healthStatus"`
	InputPath    string       `json:"inputPath"`
}

// operatorKinds are the kinds whose health Argo CD must be taught.
var operatorKinds = []string{
	"LivenessSession.face.liveness-operator.io",
	"FaceAccount.face.liveness-operator.io",
	"ClusterFaceAccount.face.liveness-operator.io",
}

// libraryModes are the two ways Argo CD runs a health script: without the open libraries (an
// argocd-cm customization, the default) and with them (a built-in script, or useOpenLibs). The
// scripts must give the same answer in both, so they work wherever they are installed.
var libraryModes = []struct {
	name     string
	openLibs bool
}{{"argocd-cm", false}, {"openLibs", true}}

// TestArgoCDHealthChecks runs every health.lua against every case of its health_test.yaml, in
// both library modes, and fails when a Kind folder has no cases or a testdata file is in no
// case (an untested input is a combination nobody checked).
func TestArgoCDHealthChecks(t *testing.T) {
	dirs := kindDirs(t)
	var kinds []string
	for _, kd := range dirs {
		kinds = append(kinds, kd.GroupKind.String())
	}
	require.ElementsMatch(t, operatorKinds, kinds, "one health check per kind the operator serves")

	total := 0
	for _, kd := range dirs {
		t.Run(kd.GroupKind.String(), func(t *testing.T) {
			script := readFile(t, filepath.Join(kd.Path, "health.lua"))
			var tests healthTests
			readYAML(t, filepath.Join(kd.Path, "health_test.yaml"), &tests)
			require.NotEmpty(t, tests.Tests, "%s/health_test.yaml has no cases", kd.Path)

			used := map[string]bool{}
			for _, tc := range tests.Tests {
				path := filepath.Join(kd.Path, tc.InputPath)
				used[path] = true
				require.NotEmpty(t, tc.HealthStatus.Status, "%s: case without a status", tc.InputPath)
				for _, mode := range libraryModes {
					t.Run(tc.InputPath+"/"+mode.name, func(t *testing.T) {
						obj := readObject(t, path, kd.GroupKind)
						got, err := argoHealth(obj.Object, script, mode.openLibs)
						require.NoError(t, err)
						require.Equal(t, tc.HealthStatus, got)
					})
				}
				total++
			}
			for _, f := range testdataFiles(t, kd.Path) {
				require.True(t, used[f], "%s is in no case of health_test.yaml", f)
			}
		})
	}
	require.Positive(t, total, "no health cases ran")
}

// The two account kinds have the same status and the same reconciler, so they must have the
// same script: a fix to one that misses the other would show the same account state two ways.
func TestAccountKindsShareOneHealthScript(t *testing.T) {
	dir := filepath.Join(customizationsDir(), "face.liveness-operator.io")
	require.Equal(t,
		readFile(t, filepath.Join(dir, "FaceAccount", "health.lua")),
		readFile(t, filepath.Join(dir, "ClusterFaceAccount", "health.lua")))
}
