package harness

import (
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
)

// ChartKubeVersion is the Kubernetes version charts are rendered for: the tests' control
// plane (Helm's client-only default is v1.20).
const ChartKubeVersion = "v1.37.2"

// RenderChart renders a loaded chart as `helm template` does (Helm's own install action,
// client-only dry run, CRDs included) as release "liveness-operator" in namespace, and returns
// the manifest or the chart's error (a schema refusal, a fail in a template).
func RenderChart(chrt *chart.Chart, namespace string, values map[string]any) (string, error) {
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.DryRun, install.ClientOnly, install.Replace, install.IncludeCRDs = true, true, true, true
	install.ReleaseName, install.Namespace = "liveness-operator", namespace
	var err error
	if install.KubeVersion, err = chartutil.ParseKubeVersion(ChartKubeVersion); err != nil {
		return "", err
	}
	rel, err := install.Run(chrt, values)
	if err != nil {
		return "", err
	}
	return rel.Manifest, nil
}
