package gitops

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// actionTests is Argo CD's actions/action_test.yaml.
type actionTests struct {
	DiscoveryTests []discoveryTest `json:"discoveryTests"`
	ActionTests    []actionTest    `json:"actionTests"`
}

// discoveryTest is one input and the actions discovery.lua must offer for it.
type discoveryTest struct {
	InputPath string           `json:"inputPath"`
	Result    []resourceAction `json:"result"`
}

// actionTest is one run of an action on an input, and the object it must return.
type actionTest struct {
	Action             string `json:"action"`
	InputPath          string `json:"inputPath"`
	ExpectedOutputPath string `json:"expectedOutputPath"`
}

// syncRequestPlaceholder stands in expected outputs for the time sync-now writes.
const syncRequestPlaceholder = "0001-01-01T00:00:00Z"

// TestArgoCDActions runs, for every Kind folder with actions, discovery.lua on each discovery
// case and each action on each action case, as Argo CD runs them (no open libraries). It fails
// when no folder has actions or a file has no cases.
func TestArgoCDActions(t *testing.T) {
	ran := 0
	for _, kd := range kindDirs(t) {
		dir := filepath.Join(kd.Path, "actions")
		if _, err := os.Stat(filepath.Join(dir, "action_test.yaml")); os.IsNotExist(err) {
			continue
		}
		t.Run(kd.GroupKind.String(), func(t *testing.T) {
			var tests actionTests
			readYAML(t, filepath.Join(dir, "action_test.yaml"), &tests)
			require.NotEmpty(t, tests.DiscoveryTests, "%s/action_test.yaml has no discovery cases", dir)
			require.NotEmpty(t, tests.ActionTests, "%s/action_test.yaml has no action cases", dir)
			discovery := readFile(t, filepath.Join(dir, "discovery.lua"))

			for _, tc := range tests.DiscoveryTests {
				t.Run("discovery/"+tc.InputPath, func(t *testing.T) {
					obj := readObject(t, filepath.Join(dir, tc.InputPath), kd.GroupKind)
					got, err := argoDiscovery(obj.Object, discovery)
					require.NoError(t, err)
					require.ElementsMatch(t, tc.Result, got)
				})
				ran++
			}
			for _, tc := range tests.ActionTests {
				t.Run("actions/"+tc.Action+"/"+tc.InputPath, func(t *testing.T) {
					script := readFile(t, filepath.Join(dir, tc.Action, "action.lua"))
					obj := readObject(t, filepath.Join(dir, tc.InputPath), kd.GroupKind)
					before := time.Now().Truncate(time.Second)
					out, err := argoAction(obj.Object, script)
					after := time.Now()
					require.NoError(t, err)
					require.Len(t, out, 1, "sync-now changes one object")
					require.Equal(t, "patch", out[0].Operation)

					patched := &unstructured.Unstructured{Object: out[0].Object}
					requireSyncRequestedWithin(t, patched, before, after)
					annotations := patched.GetAnnotations()
					annotations[facev1.AnnotationSyncRequestedAt] = syncRequestPlaceholder
					patched.SetAnnotations(annotations)

					want := readObject(t, filepath.Join(dir, tc.ExpectedOutputPath), kd.GroupKind)
					require.Equal(t, want.Object, patched.Object)
				})
				ran++
			}
		})
	}
	require.Positive(t, ran, "no action cases ran")
}

// requireSyncRequestedWithin checks that the sync-requested-at annotation is an RFC 3339 time
// between before and after, as the operator expects it.
func requireSyncRequestedWithin(t *testing.T, u *unstructured.Unstructured, before, after time.Time) {
	t.Helper()
	value := u.GetAnnotations()[facev1.AnnotationSyncRequestedAt]
	at, err := time.Parse(time.RFC3339, value)
	require.NoError(t, err, "sync-requested-at %q is not RFC 3339", value)
	require.Equal(t, time.UTC, at.Location(), "sync-requested-at %q is not UTC", value)
	require.False(t, at.Before(before) || at.After(after), "sync-requested-at %s is not between %s and %s", at, before, after)
}
