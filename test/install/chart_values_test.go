package install

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// With its default values the chart installs the three CRDs (kept on uninstall), the
// cluster-wide RBAC of config/rbac/role.yaml, the aggregated roles and a hardened manager with
// no default account; every optional object is off.
func TestChartDefaultValues(t *testing.T) {
	objs := objects(t, renderChart(t, nil))
	crds := ofKind(objs, "CustomResourceDefinition")
	require.Len(t, crds, 3)
	for _, crd := range crds {
		require.Equal(t, "keep", crd.GetAnnotations()["helm.sh/resource-policy"], crd.GetName())
	}
	role := typed[rbacv1.ClusterRole](t, one(t, objs, "ClusterRole", "liveness-operator-manager"))
	require.Equal(t, rulesOfFile(t, "ClusterRole", "config", "rbac", "role.yaml"), role.Rules)
	require.Empty(t, ofKind(objs, "Role")[1:], "only the leader election Role")
	require.Equal(t, "liveness-operator-leader-election", one(t, objs, "Role", "").GetName())
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule", "NetworkPolicy", "PodDisruptionBudget"} {
		require.Empty(t, ofKind(objs, kind), kind)
	}
	d := deployment(t, objs)
	requireHardened(t, d)
	c := d.Spec.Template.Spec.Containers[0]
	require.Equal(t, "liveness-operator:dev", c.Image)
	require.Contains(t, c.Args, "--metrics-secure=true")
	for _, e := range c.Env {
		require.NotContains(t, e.Name, "FACE_", "no default account unless asked for")
	}
	requireAggregatedRoles(t, objs)
}

// With every toggle on, each value lands where docs/install.md says.
func TestChartFullValues(t *testing.T) {
	values := fullValues()
	objs := objects(t, renderChart(t, values))
	cluster := typed[rbacv1.ClusterRole](t, one(t, objs, "ClusterRole", "liveness-operator-manager"))
	require.Equal(t, rulesOfFile(t, "ClusterRole", "config", "rbac-namespaced", "cluster_role.yaml"), cluster.Rules)
	nsRules := rulesOfFile(t, "Role", "config", "rbac-namespaced", "namespace_role.yaml")
	var roleNamespaces []string
	for _, o := range ofKind(objs, "Role") {
		if o.GetName() == "liveness-operator-manager" {
			roleNamespaces = append(roleNamespaces, o.GetNamespace())
			require.Equal(t, nsRules, typed[rbacv1.Role](t, o).Rules)
		}
	}
	require.ElementsMatch(t, []string{"team-a", "team-b", operatorNamespace}, roleNamespaces)
	app := typed[rbacv1.Role](t, one(t, objs, "Role", "liveness-session-client"))
	require.Equal(t, "shop", app.Namespace)
	require.Equal(t, rulesOfFile(t, "Role", "config", "samples", "app-server", "role.yaml"), app.Rules)

	d := deployment(t, objs)
	requireHardened(t, d)
	require.EqualValues(t, 2, *d.Spec.Replicas)
	pod := d.Spec.Template.Spec
	c := pod.Containers[0]
	require.Equal(t, "registry.example.com/liveness-operator:v0.1.0", c.Image)
	require.Equal(t, "Always", string(c.ImagePullPolicy))
	require.Equal(t, "512Mi", c.Resources.Limits.Memory().String())
	for _, arg := range []string{"--watch-namespaces=team-a,team-b", "--allowed-face-endpoints=*.cognitiveservices.azure.com,127.0.0.1",
		"--zap-log-level=debug", "--max-concurrent-reconciles=8", "--metrics-bind-address=:8443", "--leader-elect"} {
		require.Contains(t, c.Args, arg)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
		if e.Name == "FACE_APIKEY" {
			require.Equal(t, "face-credentials", e.ValueFrom.SecretKeyRef.Name)
			require.Equal(t, "apikey", e.ValueFrom.SecretKeyRef.Key)
		}
	}
	require.Equal(t, "https://face.cognitiveservices.azure.com", env["FACE_ENDPOINT"])
	require.Contains(t, env, "FACE_APIKEY")
	require.Equal(t, "false", d.Spec.Template.Annotations["example.com/scrape"])
	require.Equal(t, "linux", pod.NodeSelector["kubernetes.io/os"])
	require.Len(t, pod.Tolerations, 1)
	require.NotNil(t, pod.Affinity.PodAntiAffinity)
	require.Equal(t, "registry", pod.ImagePullSecrets[0].Name)

	sm := one(t, objs, "ServiceMonitor", "")
	require.Equal(t, "prometheus", sm.GetLabels()["release"])
	endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
	ep := endpoints[0].(map[string]any)
	require.Equal(t, "https", ep["scheme"])
	require.Equal(t, "https", ep["port"])
	require.Equal(t, "/var/run/secrets/kubernetes.io/serviceaccount/token", ep["bearerTokenFile"])
	rule := one(t, objs, "PrometheusRule", "")
	groups, _, _ := unstructured.NestedSlice(rule.Object, "spec", "groups")
	require.Equal(t, values["prometheusRule"].(map[string]any)["groups"], groups)
	requireNetworkPolicy(t, typed[networkingv1.NetworkPolicy](t, one(t, objs, "NetworkPolicy", "")), 8443)
	pdb := typed[policyv1.PodDisruptionBudget](t, one(t, objs, "PodDisruptionBudget", ""))
	require.Equal(t, 1, pdb.Spec.MinAvailable.IntValue())
	require.Equal(t, d.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels)
	requireAggregatedRoles(t, objs)
}

// crds.install=false leaves the CRDs to the platform team; a default account needs its key.
func TestChartOptionalValues(t *testing.T) {
	objs := objects(t, renderChart(t, map[string]any{"crds": map[string]any{"install": false},
		"rbac": map[string]any{"aggregateToDefaultRoles": false}, "metrics": map[string]any{"secure": false, "port": 8080},
		"watchLabelSelector": "sharding.liveness-operator.io/key in (shard1)"}))
	require.Empty(t, ofKind(objs, "CustomResourceDefinition"))
	for _, o := range ofKind(objs, "ClusterRole") {
		require.NotContains(t, o.GetLabels(), "rbac.authorization.k8s.io/aggregate-to-edit")
	}
	args := deployment(t, objs).Spec.Template.Spec.Containers[0].Args
	require.Contains(t, args, "--metrics-secure=false")
	// A shard's release: one argument, spaces and parentheses intact.
	require.Contains(t, args, "--watch-label-selector=sharding.liveness-operator.io/key in (shard1)")

	chrt := map[string]any{"defaultAccount": map[string]any{"endpoint": "https://face.cognitiveservices.azure.com"}}
	_, err := renderChartErr(chrt)
	require.ErrorContains(t, err, "defaultAccount.endpoint needs defaultAccount.apiKeySecret.name")
}

// requireAggregatedRoles checks the view, edit and admin aggregation: viewers read
// LivenessSessions and FaceAccounts, editors and admins write them, and no aggregated role
// names a status subresource (docs/security.md: tenants cannot write status).
func requireAggregatedRoles(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	aggregated := map[string][]string{}
	for _, o := range ofKind(objs, "ClusterRole") {
		for label := range o.GetLabels() {
			to, ok := strings.CutPrefix(label, "rbac.authorization.k8s.io/aggregate-to-")
			if !ok {
				continue
			}
			for _, r := range typed[rbacv1.ClusterRole](t, o).Rules {
				for _, res := range r.Resources {
					require.NotContains(t, res, "/", "%s grants a subresource", o.GetName())
					for _, v := range r.Verbs {
						aggregated[to] = append(aggregated[to], res+"/"+v)
					}
				}
			}
		}
	}
	for _, res := range []string{"livenesssessions", "faceaccounts"} {
		for _, v := range []string{"get", "list", "watch"} {
			require.Contains(t, aggregated["view"], res+"/"+v)
		}
		for _, to := range []string{"edit", "admin"} {
			for _, v := range []string{"create", "update", "patch", "delete"} {
				require.Contains(t, aggregated[to], res+"/"+v)
			}
		}
		require.NotContains(t, aggregated["view"], res+"/create")
	}
}
