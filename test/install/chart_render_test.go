package install

import (
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/chart/loader"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// operatorNamespace is the release namespace of every chart render here, the operator's
// namespace as config/default has it.
const operatorNamespace = "liveness-operator-system"

// renderChart renders charts/liveness-operator as `helm template` does (Helm's own install
// action, client-only dry run), CRDs included, and returns the manifest.
func renderChart(t *testing.T, values map[string]any) string {
	t.Helper()
	manifest, err := renderChartErr(values)
	require.NoError(t, err)
	return manifest
}

// renderChartErr is renderChart that returns the chart's error (a fail in a template).
func renderChartErr(values map[string]any) (string, error) {
	chrt, err := loader.LoadDir(repoPath("charts", "liveness-operator"))
	if err != nil {
		return "", err
	}
	return harness.RenderChart(chrt, operatorNamespace, values)
}

// fullValues turn on every toggle of the chart, with watchNamespaces set.
func fullValues() map[string]any {
	return map[string]any{
		"replicas":         2,
		"image":            map[string]any{"repository": "registry.example.com/liveness-operator", "tag": "v0.1.0", "pullPolicy": "Always"},
		"imagePullSecrets": []any{map[string]any{"name": "registry"}},
		"resources": map[string]any{"requests": map[string]any{"cpu": "200m", "memory": "128Mi"},
			"limits": map[string]any{"memory": "512Mi"}},
		"defaultAccount": map[string]any{"endpoint": "https://face.cognitiveservices.azure.com",
			"apiKeySecret": map[string]any{"name": "face-credentials", "key": "apikey"}},
		"allowedFaceEndpoints": []any{"*.cognitiveservices.azure.com", "127.0.0.1"},
		"watchNamespaces":      []any{"team-a", "team-b"},
		"logLevel":             "debug",
		"metrics":              map[string]any{"secure": true, "port": 8443},
		"serviceMonitor":       map[string]any{"enabled": true, "interval": "30s", "labels": map[string]any{"release": "prometheus"}},
		"prometheusRule": map[string]any{"enabled": true, "labels": map[string]any{"release": "prometheus"},
			"groups": []any{map[string]any{"name": "liveness-operator", "rules": []any{map[string]any{
				"alert": "LivenessOperatorAbsent", "expr": `absent(up{job="liveness-operator-metrics"} == 1)`, "for": "10m",
			}}}}},
		"networkPolicy":       map[string]any{"enabled": true},
		"podDisruptionBudget": map[string]any{"enabled": true, "minAvailable": 1},
		"rbac":                map[string]any{"aggregateToDefaultRoles": true},
		"appServerRole":       map[string]any{"enabled": true, "namespaces": []any{"shop"}},
		"serviceAccount":      map[string]any{"annotations": map[string]any{"example.com/owner": "platform"}},
		"extraArgs":           []any{"--max-concurrent-reconciles=8"},
		"podAnnotations":      map[string]any{"example.com/scrape": "false"},
		"nodeSelector":        map[string]any{"kubernetes.io/os": "linux"},
		"tolerations":         []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": "operators", "effect": "NoSchedule"}},
		"affinity": map[string]any{"podAntiAffinity": map[string]any{"preferredDuringSchedulingIgnoredDuringExecution": []any{
			map[string]any{"weight": 100, "podAffinityTerm": map[string]any{"topologyKey": "kubernetes.io/hostname",
				"labelSelector": map[string]any{"matchLabels": map[string]any{"control-plane": "controller-manager"}}}}}}},
	}
}
