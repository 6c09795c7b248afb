package gitops

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// update rewrites the generated argocd-cm patch and its copy in docs/gitops.md from the
// resource customizations: go test ./test/gitops -run TestArgoCDConfigMap -update
var update = flag.Bool("update", false, "rewrite config/argocd/argocd-cm.yaml and its copy in docs/gitops.md")

// Where the argocd-cm form of the customizations lives.
var (
	configMapPath = filepath.Join(repoRoot(), "config", "argocd", "argocd-cm.yaml")
	gitopsDocPath = filepath.Join(repoRoot(), "docs", "gitops.md")
)

// docBlockMarker precedes the copy of argocd-cm.yaml in docs/gitops.md.
const docBlockMarker = "<!-- argocd-cm.yaml: generated, see test/gitops/argocd_configmap_test.go -->"

// resourceActions is Argo CD's ResourceActions as an argocd-cm actions key holds it.
type resourceActions struct {
	DiscoveryLua string `json:"discovery.lua"`
	Definitions  []struct {
		Name      string `json:"name"`
		ActionLua string `json:"action.lua"`
	} `json:"definitions"`
}

// indent prefixes every non-empty line of text.
func indent(text, prefix string) string {
	lines := strings.SplitAfter(text, "\n")
	var b strings.Builder
	for _, line := range lines {
		if strings.TrimSpace(line) != "" {
			b.WriteString(prefix)
		}
		b.WriteString(line)
	}
	return b.String()
}

// configMapKey is the argocd-cm key of a customization type for a group and kind.
func configMapKey(customization, group, kind string) string {
	return "resource.customizations." + customization + "." + group + "_" + kind
}

// buildConfigMap renders the customizations as an argocd-cm patch: one health key per kind and
// one actions key per kind with actions, each script verbatim.
func buildConfigMap(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(`# Argo CD health checks and actions for the liveness-operator's kinds, as argocd-cm keys: a
# patch of the argocd-cm ConfigMap in Argo CD's namespace (kubectl patch --patch-file, or a
# kustomize patch). Generated from config/argocd/resource_customizations; do not edit, run
#   go test ./test/gitops -run TestArgoCDConfigMap -update
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
data:
`)
	for _, kd := range kindDirs(t) {
		fmt.Fprintf(&b, "  %s: |\n", configMapKey("health", kd.GroupKind.Group, kd.GroupKind.Kind))
		b.WriteString(indent(readFile(t, filepath.Join(kd.Path, "health.lua")), "    "))
		actionsDir := filepath.Join(kd.Path, "actions")
		discovery := filepath.Join(actionsDir, "discovery.lua")
		if _, err := os.Stat(discovery); os.IsNotExist(err) {
			continue
		}
		fmt.Fprintf(&b, "  %s: |\n", configMapKey("actions", kd.GroupKind.Group, kd.GroupKind.Kind))
		b.WriteString("    discovery.lua: |\n")
		b.WriteString(indent(readFile(t, discovery), "      "))
		b.WriteString("    definitions:\n")
		scripts, err := filepath.Glob(filepath.Join(actionsDir, "*", "action.lua"))
		require.NoError(t, err)
		require.NotEmpty(t, scripts, "%s has a discovery.lua and no action", actionsDir)
		for _, script := range scripts {
			fmt.Fprintf(&b, "    - name: %s\n      action.lua: |\n", filepath.Base(filepath.Dir(script)))
			b.WriteString(indent(readFile(t, script), "        "))
		}
	}
	return b.String()
}

// docBlock finds the fenced copy of argocd-cm.yaml that follows the marker in docs/gitops.md and
// returns the text before it, the block's content and the text after it.
func docBlock(t *testing.T, doc string) (before, content, after string) {
	t.Helper()
	i := strings.Index(doc, docBlockMarker)
	require.GreaterOrEqual(t, i, 0, "docs/gitops.md has no %q", docBlockMarker)
	open := "\n```yaml\n"
	j := strings.Index(doc[i:], open)
	require.GreaterOrEqual(t, j, 0, "no yaml block after the marker")
	start := i + j + len(open)
	k := strings.Index(doc[start:], "\n```\n")
	require.GreaterOrEqual(t, k, 0, "the yaml block after the marker is not closed")
	return doc[:start], doc[start : start+k+1], doc[start+k+1:]
}

// The argocd-cm form of the customizations, in config/argocd/argocd-cm.yaml and in
// docs/gitops.md, is exactly the files the other tests run, under the keys Argo CD looks up.
func TestArgoCDConfigMap(t *testing.T) {
	want := buildConfigMap(t)
	doc := readFile(t, gitopsDocPath)
	before, _, after := docBlock(t, doc)
	if *update {
		require.NoError(t, os.WriteFile(configMapPath, []byte(want), 0o644))
		require.NoError(t, os.WriteFile(gitopsDocPath, []byte(before+want+after), 0o644))
	}
	require.Equal(t, want, readFile(t, configMapPath), "config/argocd/argocd-cm.yaml is stale: run with -update")
	_, inDoc, _ := docBlock(t, readFile(t, gitopsDocPath))
	require.Equal(t, want, inDoc, "the argocd-cm block of docs/gitops.md is stale: run with -update")

	// Read it back the way Argo CD's settings manager does: the key names the type and the
	// group_kind; health values are scripts, actions values are YAML holding scripts.
	cm := &corev1.ConfigMap{}
	require.NoError(t, yaml.UnmarshalStrict([]byte(want), cm))
	seen := map[string]bool{}
	for key, value := range cm.Data {
		parts := strings.SplitN(key, ".", 4)
		require.Len(t, parts, 4, key)
		require.Equal(t, "resource.customizations", parts[0]+"."+parts[1], key)
		groupKind := strings.Split(parts[3], "_")
		require.Len(t, groupKind, 2, "%s: Argo CD splits group_kind at the one underscore", key)
		dir := filepath.Join(customizationsDir(), groupKind[0], groupKind[1])
		switch parts[2] {
		case "health":
			require.Equal(t, readFile(t, filepath.Join(dir, "health.lua")), value, key)
		case "actions":
			var actions resourceActions
			require.NoError(t, yaml.UnmarshalStrict([]byte(value), &actions), key)
			require.Equal(t, readFile(t, filepath.Join(dir, "actions", "discovery.lua")), actions.DiscoveryLua, key)
			require.NotEmpty(t, actions.Definitions, key)
			for _, d := range actions.Definitions {
				require.Equal(t, readFile(t, filepath.Join(dir, "actions", d.Name, "action.lua")), d.ActionLua, "%s %s", key, d.Name)
			}
		default:
			t.Fatalf("%s: unexpected customization type %s", key, parts[2])
		}
		seen[parts[2]+"/"+groupKind[1]] = true
	}
	for _, kind := range []string{"LivenessSession", "FaceAccount", "ClusterFaceAccount"} {
		require.True(t, seen["health/"+kind], "no health key for %s", kind)
	}
	require.True(t, seen["actions/LivenessSession"], "no actions key for LivenessSession")
}

// The patch merges into an existing argocd-cm with the command docs/gitops.md gives, keeping
// the keys that were there.
func TestArgoCDConfigMapPatchApplies(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "argocd-cm"},
		Data:       map[string]string{"url": "https://argocd.example.com"},
	}))
	cmd := exec.Command("kubectl", "--kubeconfig", adminKubeconfig(t), "-n", ns, "patch", "configmap", "argocd-cm", "--patch-file", configMapPath)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	got := &corev1.ConfigMap{}
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "argocd-cm"}, got))
	want := &corev1.ConfigMap{}
	require.NoError(t, yaml.Unmarshal([]byte(readFile(t, configMapPath)), want))
	require.Equal(t, "https://argocd.example.com", got.Data["url"], "existing keys are kept")
	for key, value := range want.Data {
		require.Equal(t, value, got.Data[key], key)
	}
}
