package install

import (
	"encoding/json"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/lint"
	"helm.sh/helm/v3/pkg/lint/support"
	"sigs.k8s.io/yaml"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// testDigest is a well-formed image digest.
const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// The default values and fullValues pass values.schema.json: a schema that refuses them is
// wrong, not the values.
func TestChartSchemaAcceptsDefaultAndFullValues(t *testing.T) {
	_, err := renderChartErr(nil)
	require.NoError(t, err)
	_, err = renderChartErr(fullValues())
	require.NoError(t, err)
}

// Values the chart supports in forms other than the defaults' pass the schema too.
func TestChartSchemaAcceptsValidForms(t *testing.T) {
	for name, values := range map[string]map[string]any{
		"digest":                  {"image": map[string]any{"digest": testDigest}},
		"registry with port":      {"image": map[string]any{"repository": "localhost:5000/liveness-operator"}},
		"minAvailable percentage": {"podDisruptionBudget": map[string]any{"enabled": true, "minAvailable": "50%"}},
		"minAvailable 0":          {"podDisruptionBudget": map[string]any{"enabled": true, "minAvailable": 0}},
		"logLevel integer":        {"logLevel": 3},
		"logLevel quoted integer": {"logLevel": "2"},
		"logLevel panic":          {"logLevel": "panic"},
		"cpu as a number":         {"resources": map[string]any{"requests": map[string]any{"cpu": 1}}},
		"interval":                {"serviceMonitor": map[string]any{"enabled": true, "interval": "1m30s"}},
		"one egress port":         {"networkPolicy": map[string]any{"enabled": true, "egressHTTPSPorts": []any{443}}},
		"service account name":    {"serviceAccount": map[string]any{"name": "liveness-operator.manager"}},
		"fullnameOverride":        {"fullnameOverride": "face-liveness"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := renderChartErr(values)
			require.NoError(t, err)
		})
	}
}

// Each bad value is refused before any template runs, with an error that names it.
func TestChartSchemaRefusesBadValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values map[string]any
		want   []string // each in the error
	}{
		{"replicas string", map[string]any{"replicas": "two"}, []string{"'/replicas'", "want integer"}},
		{"replicas 0", map[string]any{"replicas": 0}, []string{"'/replicas'", "minimum"}},
		{"metrics.port string", map[string]any{"metrics": map[string]any{"port": "8443"}}, []string{"'/metrics/port'", "want integer"}},
		{"metrics.port 70000", map[string]any{"metrics": map[string]any{"port": 70000}}, []string{"'/metrics/port'", "maximum"}},
		{"crds.install string", map[string]any{"crds": map[string]any{"install": "yes"}}, []string{"'/crds/install'", "want boolean"}},
		{"watchNamespaces string", map[string]any{"watchNamespaces": "team-a"}, []string{"'/watchNamespaces'", "want array"}},
		{"watchNamespaces bad name", map[string]any{"watchNamespaces": []any{"Team_A"}}, []string{"'/watchNamespaces/0'"}},
		{"unknown top-level key", map[string]any{"replica": 2}, []string{"'replica'", "not allowed"}},
		{"unknown nested key", map[string]any{"image": map[string]any{"tags": "v1"}}, []string{"'/image'", "'tags'", "not allowed"}},
		{"unknown deeper key", map[string]any{"defaultAccount": map[string]any{"apiKeySecret": map[string]any{"namespace": "x"}}},
			[]string{"'/defaultAccount/apiKeySecret'", "'namespace'", "not allowed"}},
		{"pullPolicy", map[string]any{"image": map[string]any{"pullPolicy": "Sometimes"}}, []string{"'/image/pullPolicy'", "IfNotPresent"}},
		{"digest without algorithm", map[string]any{"image": map[string]any{"digest": strings.TrimPrefix(testDigest, "sha256:")}},
			[]string{"'/image/digest'", "pattern"}},
		{"digest too short", map[string]any{"image": map[string]any{"digest": "sha256:abc"}}, []string{"'/image/digest'", "pattern"}},
		{"digest upper case", map[string]any{"image": map[string]any{"digest": "sha256:" + strings.ToUpper(strings.TrimPrefix(testDigest, "sha256:"))}}, []string{"'/image/digest'"}},
		{"tag in repository", map[string]any{"image": map[string]any{"repository": "liveness-operator:v1"}}, []string{"'/image/repository'"}},
		{"egress port 0", map[string]any{"networkPolicy": map[string]any{"egressHTTPSPorts": []any{0}}},
			[]string{"'/networkPolicy/egressHTTPSPorts/0'", "minimum"}},
		{"no egress port", map[string]any{"networkPolicy": map[string]any{"egressHTTPSPorts": []any{}}},
			[]string{"'/networkPolicy/egressHTTPSPorts'", "minItems"}},
		{"minAvailable negative", map[string]any{"podDisruptionBudget": map[string]any{"minAvailable": -1}}, []string{"'/podDisruptionBudget/minAvailable'"}},
		{"minAvailable word", map[string]any{"podDisruptionBudget": map[string]any{"minAvailable": "half"}}, []string{"'/podDisruptionBudget/minAvailable'"}},
		{"minAvailable 150%", map[string]any{"podDisruptionBudget": map[string]any{"minAvailable": "150%"}}, []string{"'/podDisruptionBudget/minAvailable'"}},
		{"logLevel word", map[string]any{"logLevel": "verbose"}, []string{"'/logLevel'"}},
		{"logLevel 0", map[string]any{"logLevel": 0}, []string{"'/logLevel'"}},
		{"annotation not a string", map[string]any{"podAnnotations": map[string]any{"example.com/scrape": false}},
			[]string{"'/podAnnotations/example.com~1scrape'", "want string"}},
		{"pull secret as a string", map[string]any{"imagePullSecrets": []any{"registry"}}, []string{"'/imagePullSecrets/0'", "want object"}},
		{"interval", map[string]any{"serviceMonitor": map[string]any{"interval": "30 seconds"}}, []string{"'/serviceMonitor/interval'"}},
		{"endpoint without scheme", map[string]any{"defaultAccount": map[string]any{"endpoint": "face.cognitiveservices.azure.com",
			"apiKeySecret": map[string]any{"name": "face-credentials"}}}, []string{"'/defaultAccount/endpoint'"}},
		{"allowed endpoint URL", map[string]any{"allowedFaceEndpoints": []any{"https://face.example.com"}}, []string{"'/allowedFaceEndpoints/0'"}},
		{"extraArgs string", map[string]any{"extraArgs": "--max-concurrent-reconciles=8"}, []string{"'/extraArgs'", "want array"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderChartErr(tc.values)
			require.Error(t, err)
			require.Contains(t, err.Error(), "values don't meet the specifications of the schema")
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

// Every key of values.yaml is in the schema with a description, and the schema has no key
// values.yaml lacks (but global, which Helm gives a subchart), so the two cannot drift.
func TestChartSchemaDescribesEveryValue(t *testing.T) {
	raw, err := os.ReadFile(repoPath("charts", "liveness-operator", "values.yaml"))
	require.NoError(t, err)
	var values map[string]any
	require.NoError(t, yaml.Unmarshal(raw, &values))
	schema := chartSchema(t)
	require.Equal(t, "http://json-schema.org/draft-07/schema#", schema["$schema"])

	// The objects whose keys the chart defines; the rest (Kubernetes objects) are open.
	closed := []string{"", "image", "leaderElection", "crds", "defaultAccount", "defaultAccount.apiKeySecret", "metrics",
		"serviceMonitor", "prometheusRule", "networkPolicy", "podDisruptionBudget", "rbac", "appServerRole", "serviceAccount"}
	var gotClosed []string
	var walk func(path string, node map[string]any, value any)
	walk = func(path string, node map[string]any, value any) {
		if path != "" {
			require.NotEmpty(t, node["description"], "%s has no description", path)
			require.NotContains(t, node["description"], "\n", "%s: one line", path)
		}
		if node["additionalProperties"] == false {
			gotClosed = append(gotClosed, path)
		}
		props, _ := node["properties"].(map[string]any)
		m, isMap := value.(map[string]any)
		if node["additionalProperties"] == false {
			require.True(t, isMap, "%s is closed but not a map in values.yaml", path)
			for key := range props {
				if path == "" && key == "global" {
					continue
				}
				require.Contains(t, m, key, "the schema has %s.%s, values.yaml does not", path, key)
			}
		}
		if !isMap || (props == nil && len(m) > 0 && node["additionalProperties"] != false) {
			return // a free-form map (resources' quantities, labels): its keys are the user's
		}
		for key, v := range m {
			sub, ok := props[key].(map[string]any)
			require.True(t, ok, "values.yaml key %s.%s is not in values.schema.json", path, key)
			walk(strings.TrimPrefix(path+"."+key, "."), sub, v)
		}
	}
	walk("", schema, values)
	sort.Strings(closed)
	sort.Strings(gotClosed)
	require.Equal(t, closed, gotClosed)
}

// Used as a subchart, the chart gets the umbrella's global values, which the closed top level
// must let through; unknown keys are still refused.
func TestChartSchemaAsSubchart(t *testing.T) {
	sub, err := loader.LoadDir(repoPath("charts", "liveness-operator"))
	require.NoError(t, err)
	umbrella := &chart.Chart{Metadata: &chart.Metadata{APIVersion: "v2", Name: "umbrella", Version: "0.1.0",
		Dependencies: []*chart.Dependency{{Name: sub.Name(), Version: sub.Metadata.Version}}}, Values: map[string]any{}}
	umbrella.AddDependency(sub)
	kv, err := chartutil.ParseKubeVersion(harness.ChartKubeVersion)
	require.NoError(t, err)
	render := func(values map[string]any) error {
		install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
		install.DryRun, install.ClientOnly, install.Replace, install.IncludeCRDs = true, true, true, true
		install.ReleaseName, install.Namespace, install.KubeVersion = "umbrella", operatorNamespace, kv
		_, err := install.Run(umbrella, values)
		return err
	}
	require.NoError(t, render(map[string]any{"global": map[string]any{"imageRegistry": "registry.example.com"},
		sub.Name(): map[string]any{"replicas": 2}}))
	err = render(map[string]any{sub.Name(): map[string]any{"replica": 2}})
	require.ErrorContains(t, err, "'replica'")
}

// helm lint passes with no warning for the default values and fullValues, and fails (an
// error, as `helm lint` reports it) for values the schema refuses.
func TestChartSchemaLint(t *testing.T) {
	kv, err := chartutil.ParseKubeVersion(harness.ChartKubeVersion)
	require.NoError(t, err)
	dir := repoPath("charts", "liveness-operator")
	for name, values := range map[string]map[string]any{"default": nil, "full": fullValues()} {
		linter := lint.AllWithKubeVersion(dir, values, operatorNamespace, kv)
		for _, m := range linter.Messages {
			require.Less(t, m.Severity, support.WarningSev, "%s values: %s", name, m.Error())
		}
	}
	linter := lint.AllWithKubeVersion(dir, map[string]any{"image": map[string]any{"tags": "v1"}}, operatorNamespace, kv)
	require.Equal(t, support.ErrorSev, linter.HighestSeverity)
	var msgs []string
	for _, m := range linter.Messages {
		msgs = append(msgs, m.Error())
	}
	require.Contains(t, strings.Join(msgs, "\n"), "'tags'")
}

// image.digest set: the manager runs repository@digest, whatever the tag; unset: the tag or
// the chart's appVersion.
func TestChartImageDigest(t *testing.T) {
	image := func(values map[string]any) string {
		return deployment(t, objects(t, renderChart(t, values))).Spec.Template.Spec.Containers[0].Image
	}
	chrt, err := loader.LoadDir(repoPath("charts", "liveness-operator"))
	require.NoError(t, err)
	require.NotEmpty(t, chrt.Metadata.AppVersion)

	require.Equal(t, "registry.example.com/liveness-operator@"+testDigest, image(map[string]any{"image": map[string]any{
		"repository": "registry.example.com/liveness-operator", "digest": testDigest}}))
	require.Equal(t, "registry.example.com/liveness-operator@"+testDigest, image(map[string]any{"image": map[string]any{
		"repository": "registry.example.com/liveness-operator", "tag": "v0.1.0", "digest": testDigest}}), "digest wins over tag")
	require.Equal(t, "liveness-operator:"+chrt.Metadata.AppVersion, image(nil))
	require.Equal(t, "liveness-operator:v0.1.0", image(map[string]any{"image": map[string]any{"tag": "v0.1.0"}}))
}

// chartSchema is charts/liveness-operator/values.schema.json.
func chartSchema(t *testing.T) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(repoPath("charts", "liveness-operator", "values.schema.json"))
	require.NoError(t, err)
	var schema map[string]any
	require.NoError(t, json.Unmarshal(raw, &schema))
	return schema
}
