package install

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// chartCopies are what hack/sync-chart.sh copies into charts/liveness-operator/files: the
// folder there and the files of config/ it holds.
var chartCopies = map[string]string{
	"crds":            "config/crd/bases/*.yaml",
	"rbac":            "config/rbac/*role.yaml",
	"rbac-namespaced": "config/rbac-namespaced/*_role.yaml",
	"app-server":      "config/samples/app-server/role.yaml",
}

// The chart's CRDs and RBAC rules are verbatim copies of config/ (one source of truth): this
// fails when `make manifests` or an edit changed config/ without `make helm-sync`.
func TestChartFilesMatchConfig(t *testing.T) {
	files := repoPath("charts", "liveness-operator", "files")
	dirs, err := os.ReadDir(files)
	require.NoError(t, err)
	for _, d := range dirs {
		require.Contains(t, chartCopies, d.Name(), "files/%s is not synced from config/", d.Name())
	}
	for dir, glob := range chartCopies {
		sources, err := filepath.Glob(repoPath(glob))
		require.NoError(t, err)
		require.NotEmpty(t, sources, glob)
		want := map[string]string{}
		for _, src := range sources {
			raw, err := os.ReadFile(src)
			require.NoError(t, err)
			want[filepath.Base(src)] = string(raw)
		}
		got := map[string]string{}
		copies, err := os.ReadDir(filepath.Join(files, dir))
		require.NoError(t, err)
		for _, c := range copies {
			raw, err := os.ReadFile(filepath.Join(files, dir, c.Name()))
			require.NoError(t, err)
			got[c.Name()] = string(raw)
		}
		require.ElementsMatch(t, keys(want), keys(got), "charts/liveness-operator/files/%s vs %s: run make helm-sync", dir, glob)
		for name, content := range want {
			// A boolean, not the two texts: a CRD diff would be thousands of lines.
			require.True(t, got[name] == content, "charts/liveness-operator/files/%s/%s differs from config/: run make helm-sync", dir, name)
		}
	}
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
