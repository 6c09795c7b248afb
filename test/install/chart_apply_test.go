package install

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The chart's output, with its default values and with every toggle on, is accepted by the
// real API server (the namespaces it expects created first, as docs/install.md says).
func TestChartAppliesToAPIServer(t *testing.T) {
	c := startCluster(t)
	c.namespaces(t, operatorNamespace, "team-a", "team-b", "shop")
	out := c.apply(t, renderChart(t, nil))
	require.Contains(t, out, "deployment.apps/liveness-operator created")
	out = c.apply(t, renderChart(t, fullValues()))
	for _, want := range []string{"servicemonitor.monitoring.coreos.com/liveness-operator created",
		"prometheusrule.monitoring.coreos.com/liveness-operator created", "networkpolicy.networking.k8s.io/liveness-operator created",
		"poddisruptionbudget.policy/liveness-operator created", "role.rbac.authorization.k8s.io/liveness-session-client created"} {
		require.Contains(t, out, want)
	}
}
