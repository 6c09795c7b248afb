package metrics

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/liveness-operator/liveness-operator/test/harness"
)

// query is one PromQL expression of the shipped monitoring and where it comes from.
type query struct {
	where, expr string
}

// dashboardQueries are the Grafana dashboard's panel queries and its variables' queries.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "monitoring", "grafana-dashboard.json"))
	require.NoError(t, err)
	var dash any
	require.NoError(t, json.Unmarshal(raw, &dash))
	var out []query
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, c := range v {
				if s, ok := c.(string); ok && (k == "expr" || (k == "definition" && strings.HasPrefix(s, "label_values("))) {
					out = append(out, query{where: "dashboard " + path + "." + k, expr: s})
					continue
				}
				walk(path+"."+k, c)
			}
		case []any:
			for _, c := range v {
				walk(path+"[]", c)
			}
		}
	}
	walk("", dash)
	return out
}

// ruleQueries are the PrometheusRule's alert expressions.
func ruleQueries(t *testing.T) []query {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", "monitoring", "prometheusrules.yaml"))
	require.NoError(t, err)
	var rule struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Spec       struct {
			Groups []struct {
				Rules []struct {
					Alert string `json:"alert"`
					Expr  string `json:"expr"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &rule))
	require.Equal(t, "monitoring.coreos.com/v1", rule.APIVersion)
	require.Equal(t, "PrometheusRule", rule.Kind)
	var out []query
	for _, g := range rule.Spec.Groups {
		for _, r := range g.Rules {
			require.NotEmpty(t, r.Alert)
			out = append(out, query{where: "alert " + r.Alert, expr: r.Expr})
		}
	}
	return out
}

// grafanaVariables are the dashboard variables a query may use, with a value that makes the
// query valid PromQL (what Grafana substitutes is of the same shape).
var grafanaVariables = strings.NewReplacer("$__rate_interval", "5m", "$account", ".*")

// labelValues is Grafana's label_values(metric, label) variable query, which is not PromQL.
var labelValues = regexp.MustCompile(`^label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)$`)

// metricNames parses a query with Prometheus' own PromQL parser and returns the metric names
// of its selectors. A selector without a metric name would match anything and is refused.
func metricNames(t *testing.T, q query) []string {
	t.Helper()
	if m := labelValues.FindStringSubmatch(q.expr); m != nil {
		return []string{m[1]}
	}
	expr := grafanaVariables.Replace(q.expr)
	require.NotContains(t, expr, "$", "%s: an unknown Grafana variable in %q", q.where, q.expr)
	parsed, err := parser.ParseExpr(expr)
	require.NoError(t, err, "%s: %q", q.where, q.expr)
	var names []string
	parser.Inspect(parsed, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == labels.MetricName && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		require.NotEmpty(t, name, "%s: a selector without a metric name in %q", q.where, q.expr)
		names = append(names, name)
		return nil
	})
	require.NotEmpty(t, names, "%s: no metric in %q", q.where, q.expr)
	return names
}

// The checks themselves: a histogram's series are found by their suffixes, a counter's are
// not, and an unknown name is not; a selector without a metric name is refused.
func TestExposedAndMetricNames(t *testing.T) {
	families := parseMetrics(t, "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n# TYPE c counter\nc_total 2\n")
	require.True(t, exposed(families, "h_bucket"))
	require.True(t, exposed(families, "h_count"))
	require.True(t, exposed(families, "c_total"))
	require.False(t, exposed(families, "c_total_bucket"))
	require.False(t, exposed(families, "missing_total"))
	require.Equal(t, []string{"a_total", "b_bucket"}, metricNames(t, query{where: "test",
		expr: `sum(rate(a_total{account=~"$account"}[$__rate_interval])) / histogram_quantile(0.5, sum by (le) (rate({__name__="b_bucket"}[5m])))`}))
}
