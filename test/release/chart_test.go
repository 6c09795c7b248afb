package release

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/liveness-operator/liveness-operator/internal/release"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// The packaged chart carries the release's version, its image defaults to the manager's
// repository@digest, and `helm lint --strict` finds nothing.
func TestPackagedChartLintsStrict(t *testing.T) {
	require.Equal(t, release.ChartFile(testVersion), manifest.Chart)
	require.Equal(t, "liveness-operator-0.0.0-test.1.tgz", manifest.Chart)
	chrt, err := loader.Load(filepath.Join(opts.Out, manifest.Chart))
	require.NoError(t, err)
	require.Equal(t, "0.0.0-test.1", chrt.Metadata.Version)
	require.Equal(t, testVersion, chrt.Metadata.AppVersion)
	manager := imageRecord(t, release.ManagerImage)
	image := chrt.Values["image"].(map[string]any)
	require.Equal(t, manager.Repository, image["repository"])
	require.Equal(t, manager.Digest, image["digest"])
	require.NotNil(t, chrt.Schema, "values.schema.json is packaged")

	lint := action.NewLint()
	lint.Strict, lint.Namespace = true, operatorNamespace
	lint.KubeVersion, err = chartutil.ParseKubeVersion(harness.ChartKubeVersion)
	require.NoError(t, err)
	result := lint.Run([]string{filepath.Join(opts.Out, manifest.Chart)}, nil)
	for _, m := range result.Messages {
		t.Logf("helm lint: %s", m)
	}
	require.Empty(t, result.Errors, "helm lint --strict")
	require.Equal(t, 1, result.TotalChartsLinted)
}

// The packaged chart with its default values renders what install.yaml holds: the same
// CRDs, the same rules for the manager and for leader election, and the same image by digest.
func TestPackagedChartRendersInstallYAML(t *testing.T) {
	chart := decodeObjects(t, renderPackagedChart(t, operatorNamespace, nil))
	install := decodeObjects(t, readDist(t, manifest.Install))

	crds := func(objs []*unstructured.Unstructured) map[string]any {
		out := map[string]any{}
		for _, o := range objs {
			if o.GetKind() == "CustomResourceDefinition" {
				out[o.GetName()] = o.Object["spec"]
			}
		}
		return out
	}
	require.Len(t, crds(install), 3)
	require.Equal(t, crds(install), crds(chart), "the same CRDs")

	require.Equal(t, rulesOf(t, install, "ClusterRole", "liveness-operator-manager-role"),
		rulesOf(t, chart, "ClusterRole", "liveness-operator-manager"), "the manager's rules")
	require.Equal(t, rulesOf(t, install, "Role", "liveness-operator-leader-election-role"),
		rulesOf(t, chart, "Role", "liveness-operator-leader-election"), "the leader election rules")

	fromInstall, fromChart := deploymentOf(t, install), deploymentOf(t, chart)
	require.Equal(t, fromInstall.Spec.Template.Spec.Containers[0].Image, fromChart.Spec.Template.Spec.Containers[0].Image)
	require.Equal(t, fromInstall.Spec.Template.Spec.SecurityContext, fromChart.Spec.Template.Spec.SecurityContext)
	require.Equal(t, fromInstall.Spec.Template.Spec.Containers[0].SecurityContext, fromChart.Spec.Template.Spec.Containers[0].SecurityContext)
}

// The packaged chart's values.schema.json refuses a value of the wrong type and an unknown
// key, naming it, before anything renders.
func TestPackagedChartSchemaRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		values map[string]any
		want   string
	}{
		{map[string]any{"replicas": "two"}, "replicas"},
		{map[string]any{"image": map[string]any{"digest": "latest"}}, "digest"},
		{map[string]any{"replica": 2}, "replica"},
	} {
		_, err := renderPackagedChartErr(operatorNamespace, tc.values)
		require.Error(t, err, "%v", tc.values)
		require.Contains(t, err.Error(), "values don't meet the specifications of the schema")
		require.Contains(t, err.Error(), tc.want)
	}
}

// renderPackagedChart renders the release's chart archive as `helm template` does, CRDs
// included, into a namespace.
func renderPackagedChart(t *testing.T, namespace string, values map[string]any) string {
	t.Helper()
	out, err := renderPackagedChartErr(namespace, values)
	require.NoError(t, err)
	return out
}

func renderPackagedChartErr(namespace string, values map[string]any) (string, error) {
	chrt, err := loader.Load(filepath.Join(opts.Out, manifest.Chart))
	if err != nil {
		return "", err
	}
	return harness.RenderChart(chrt, namespace, values)
}

// rulesOf is the rules of the (Cluster)Role with that name.
func rulesOf(t *testing.T, objs []*unstructured.Unstructured, kind, name string) []rbacv1.PolicyRule {
	t.Helper()
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			r := &rbacv1.ClusterRole{}
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, r))
			require.NotEmpty(t, r.Rules)
			return r.Rules
		}
	}
	var names []string
	for _, o := range objs {
		if o.GetKind() == kind {
			names = append(names, o.GetName())
		}
	}
	t.Fatalf("no %s %q among %s", kind, name, strings.Join(names, ", "))
	return nil
}
