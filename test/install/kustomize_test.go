package install

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// components are config/components, each used by the overlay of the same name in
// testdata/overlays (config/default plus that component).
var components = []string{"namespaced-rbac", "servicemonitor", "networkpolicy", "high-availability"}

// config/default installs all three CRDs, the RBAC, a hardened Deployment and the HTTPS metrics
// Service, and the default account's Secret is optional: with face-credentials absent the
// variables stay unset and no file is expected (--face-apikey-file fails on a missing file).
func TestKustomizeDefaultContents(t *testing.T) {
	objs := objects(t, kustomize(t, "config", "default"))
	var crds []string
	for _, o := range ofKind(objs, "CustomResourceDefinition") {
		crds = append(crds, o.GetName())
	}
	require.ElementsMatch(t, []string{"livenesssessions.face.liveness-operator.io",
		"faceaccounts.face.liveness-operator.io", "clusterfaceaccounts.face.liveness-operator.io"}, crds)
	one(t, objs, "ClusterRole", "liveness-operator-manager-role")
	one(t, objs, "ClusterRoleBinding", "liveness-operator-manager-rolebinding")

	svc := typed[corev1.Service](t, one(t, objs, "Service", "liveness-operator-controller-manager-metrics-service"))
	require.Len(t, svc.Spec.Ports, 1)
	require.Equal(t, "https", svc.Spec.Ports[0].Name)
	require.EqualValues(t, 8443, svc.Spec.Ports[0].Port)
	require.Equal(t, "metrics", svc.Spec.Ports[0].TargetPort.String())

	d := deployment(t, objs)
	requireHardened(t, d)
	c := d.Spec.Template.Spec.Containers[0]
	require.Contains(t, c.Args, "--metrics-bind-address=:8443")
	require.Empty(t, d.Spec.Template.Spec.Volumes, "no Secret volume: the key is an optional variable")
	for _, a := range c.Args {
		require.NotContains(t, a, "--face-apikey-file")
	}
	optional := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			ref := e.ValueFrom.SecretKeyRef
			require.Equal(t, "face-credentials", ref.Name)
			require.True(t, *ref.Optional, e.Name)
			optional[e.Name] = ref.Key
		}
	}
	require.Equal(t, map[string]string{"FACE_ENDPOINT": "endpoint", "FACE_APIKEY": "apikey"}, optional)
}

// Each component changes config/default as docs/install.md says.
func TestKustomizeComponentsContents(t *testing.T) {
	render := func(name string) []*unstructured.Unstructured {
		return objects(t, kustomize(t, "test", "install", "testdata", "overlays", name))
	}
	t.Run("namespaced-rbac", func(t *testing.T) {
		objs := render("namespaced-rbac")
		require.Empty(t, namesOf(ofKind(objs, "ClusterRole"), "liveness-operator-manager-role"), "the cluster-wide role is gone")
		require.Empty(t, namesOf(ofKind(objs, "ClusterRoleBinding"), "liveness-operator-manager-rolebinding"))
		role := one(t, objs, "Role", "liveness-operator-manager")
		require.Equal(t, "liveness-operator-system", role.GetNamespace())
		one(t, objs, "ClusterRole", "liveness-operator-manager-cluster")
		require.Contains(t, deployment(t, objs).Spec.Template.Spec.Containers[0].Args, "--watch-namespaces=team-a")
	})
	t.Run("servicemonitor", func(t *testing.T) {
		sm := one(t, render("servicemonitor"), "ServiceMonitor", "")
		endpoints, _, _ := unstructured.NestedSlice(sm.Object, "spec", "endpoints")
		require.Len(t, endpoints, 1)
		ep := endpoints[0].(map[string]any)
		require.Equal(t, "https", ep["port"])
		require.Equal(t, "https", ep["scheme"])
		require.Equal(t, "/var/run/secrets/kubernetes.io/serviceaccount/token", ep["bearerTokenFile"])
		require.Equal(t, map[string]any{"insecureSkipVerify": true}, ep["tlsConfig"])
	})
	t.Run("networkpolicy", func(t *testing.T) {
		np := typed[networkingv1.NetworkPolicy](t, one(t, render("networkpolicy"), "NetworkPolicy", ""))
		requireNetworkPolicy(t, np, 8443)
	})
	t.Run("high-availability", func(t *testing.T) {
		objs := render("high-availability")
		d := deployment(t, objs)
		require.EqualValues(t, 2, *d.Spec.Replicas)
		requireHardened(t, d)
		pdb := typed[policyv1.PodDisruptionBudget](t, one(t, objs, "PodDisruptionBudget", ""))
		require.Equal(t, 1, pdb.Spec.MinAvailable.IntValue())
		require.Equal(t, d.Spec.Selector.MatchLabels, pdb.Spec.Selector.MatchLabels)
	})
}

// config/default and every component overlay are accepted by the real API server, applied
// one after the other as an upgrade would apply them.
func TestKustomizeAppliesToAPIServer(t *testing.T) {
	c := startCluster(t)
	out := c.apply(t, kustomize(t, "config", "default"))
	require.Contains(t, out, "deployment.apps/liveness-operator-controller-manager created")
	require.Contains(t, out, "service/liveness-operator-controller-manager-metrics-service created")
	c.namespaces(t, "team-a")
	for _, name := range components {
		t.Run(name, func(t *testing.T) {
			c.apply(t, kustomize(t, "test", "install", "testdata", "overlays", name))
		})
	}
	// The namespaced RBAC's Role in a watched namespace, as docs/install.md applies it.
	c.kubectl(t, "", "apply", "-n", "team-a", "-f", repoPath("config", "rbac-namespaced", "namespace_role.yaml"))
	c.kubectl(t, "", "get", "-n", "liveness-operator-system", "servicemonitor,networkpolicy,poddisruptionbudget")
}

// namesOf are the objects' names equal to name.
func namesOf(objs []*unstructured.Unstructured, name string) []string {
	var out []string
	for _, o := range objs {
		if o.GetName() == name {
			out = append(out, o.GetName())
		}
	}
	return out
}

// requireNetworkPolicy checks a NetworkPolicy lets in only metrics and probes and lets out
// only HTTPS (443, and the API server's 6443) and DNS.
func requireNetworkPolicy(t *testing.T, np *networkingv1.NetworkPolicy, metricsPort int) {
	t.Helper()
	require.ElementsMatch(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}, np.Spec.PolicyTypes)
	require.Equal(t, map[string]bool{"TCP/8081": true, "TCP/" + strconv.Itoa(metricsPort): true}, policyPorts(np.Spec.Ingress[0].Ports))
	require.Len(t, np.Spec.Ingress, 1)
	egress := map[string]bool{}
	for _, rule := range np.Spec.Egress {
		require.Empty(t, rule.To, "Face's addresses are unknown: egress is by port")
		for k := range policyPorts(rule.Ports) {
			egress[k] = true
		}
	}
	require.Equal(t, map[string]bool{"TCP/443": true, "TCP/6443": true, "UDP/53": true, "TCP/53": true}, egress)
}

func policyPorts(ports []networkingv1.NetworkPolicyPort) map[string]bool {
	out := map[string]bool{}
	for _, p := range ports {
		out[string(*p.Protocol)+"/"+p.Port.String()] = true
	}
	return out
}
