package metrics

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// The component config/components/monitoring-rules ships the PrometheusRule and the dashboard
// ConfigMap (with the label Grafana's sidecar looks for) into an overlay that uses it. The
// repository's files are copied into an in-memory file system, so the build reads nothing else.
func TestMonitoringComponentShipsRulesAndDashboard(t *testing.T) {
	fs := filesys.MakeFsInMemory()
	for _, dir := range []string{"config/monitoring", "config/components/monitoring-rules"} {
		entries, err := os.ReadDir(filepath.Join(harness.RepoRoot(), dir))
		require.NoError(t, err)
		for _, e := range entries {
			raw, err := os.ReadFile(filepath.Join(harness.RepoRoot(), dir, e.Name()))
			require.NoError(t, err)
			require.NoError(t, fs.WriteFile("/repo/"+dir+"/"+e.Name(), raw))
		}
	}
	require.NoError(t, fs.WriteFile("/repo/overlay/kustomization.yaml", []byte(
		"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\ncomponents:\n- ../config/components/monitoring-rules\n")))
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/repo/overlay")
	require.NoError(t, err)
	kinds := map[string]string{}
	for _, r := range res.Resources() {
		kinds[r.GetKind()] = r.GetName()
		if r.GetKind() == "ConfigMap" {
			require.Equal(t, "1", r.GetLabels()["grafana_dashboard"])
			data := r.GetDataMap()
			require.Contains(t, data, "grafana-dashboard.json")
		}
	}
	require.Equal(t, map[string]string{"PrometheusRule": "liveness-operator-alerts", "ConfigMap": "liveness-operator-grafana-dashboard"}, kinds)
}
