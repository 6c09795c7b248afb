package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// ruleSets decodes the rules of every RBAC object in a multi-document YAML file under config/.
func ruleSets(t *testing.T, rel string) []rbacv1.PolicyRule {
	t.Helper()
	var rules []rbacv1.PolicyRule
	for _, doc := range yamlDocs(t, rel) {
		var obj struct {
			Rules []rbacv1.PolicyRule `json:"rules"`
		}
		require.NoError(t, json.Unmarshal(doc, &obj))
		rules = append(rules, obj.Rules...)
	}
	return rules
}

// yamlDocs are the documents of a YAML file under config/, as JSON.
func yamlDocs(t *testing.T, rel string) []json.RawMessage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(harness.RepoRoot(), "config", rel))
	require.NoError(t, err)
	dec := yaml.NewYAMLOrJSONDecoder(bytes.NewReader(raw), 4096)
	var docs []json.RawMessage
	for {
		var doc json.RawMessage
		if err := dec.Decode(&doc); err != nil {
			require.ErrorIs(t, err, io.EOF)
			return docs
		}
		docs = append(docs, doc)
	}
}

// grants flattens rules into "group/resource/verb" triples.
func grants(rules []rbacv1.PolicyRule) map[string]bool {
	out := map[string]bool{}
	for _, r := range rules {
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					out[g+"/"+res+"/"+v] = true
				}
			}
		}
	}
	return out
}

// The namespaced variant grants exactly what the generated ClusterRole grants: nothing is
// missing (the manager would fail) and nothing is added (it must stay least privilege).
func TestNamespacedRBACCoversTheGeneratedRole(t *testing.T) {
	generated := ruleSets(t, "rbac/role.yaml")
	cluster := ruleSets(t, "rbac-namespaced/cluster_role.yaml")
	namespaced := ruleSets(t, "rbac-namespaced/namespace_role.yaml")
	want := grants(generated)
	require.NotEmpty(t, want)
	got := grants(append(cluster, namespaced...))
	require.Equal(t, want, got)
}

// The real manager with --watch-namespaces runs a session under the namespaced RBAC alone.
func TestManagerBinaryUnderNamespacedRBAC(t *testing.T) {
	grant := func(t *testing.T, admin client.Client, user string) {
		for _, ns := range []string{"liveness-operator-system", "team-a"} {
			applyAsUser(t, admin, "rbac-namespaced/namespace_role.yaml", ns, user)
		}
		applyAsUser(t, admin, "rbac-namespaced/cluster_role.yaml", "", user)
	}
	env := startOperatorEnvWithRBAC(t, grant, []string{"team-a", "team-b"}, "--watch-namespaces=team-a")
	ctx := context.Background()
	for _, ns := range []string{"team-a", "team-b"} {
		require.NoError(t, env.admin.Create(ctx, &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "check"},
			Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: ns}}))
	}
	waitSession(t, env, "team-a", "check", isReady)
	kubectl(t, env.adminKC, "delete", "livenesssession", "-n", "team-a", "check", "--timeout=60s")
	outside := waitSession(t, env, "team-b", "check", func(*facev1.LivenessSession) bool { return true })
	require.Empty(t, outside.Status.Conditions, "a namespace that is not watched is left alone")
	require.NotContains(t, env.managerOut.String(), "forbidden", "the namespaced RBAC must be enough")
}

// applyAsUser creates the file's Role/ClusterRole and binding, with the binding's subject
// replaced by the test's operator user and namespaced objects put in ns.
func applyAsUser(t *testing.T, admin client.Client, rel, ns, user string) {
	t.Helper()
	ctx := context.Background()
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, Name: user, APIGroup: rbacv1.GroupName}}
	for _, doc := range yamlDocs(t, rel) {
		var typeMeta metav1.TypeMeta
		require.NoError(t, json.Unmarshal(doc, &typeMeta))
		var obj client.Object
		switch typeMeta.Kind {
		case "Role":
			o := &rbacv1.Role{}
			require.NoError(t, json.Unmarshal(doc, o))
			o.Namespace, obj = ns, o
		case "RoleBinding":
			o := &rbacv1.RoleBinding{}
			require.NoError(t, json.Unmarshal(doc, o))
			o.Namespace, o.Subjects, obj = ns, subject, o
		case "ClusterRole":
			o := &rbacv1.ClusterRole{}
			require.NoError(t, json.Unmarshal(doc, o))
			obj = o
		case "ClusterRoleBinding":
			o := &rbacv1.ClusterRoleBinding{}
			require.NoError(t, json.Unmarshal(doc, o))
			o.Subjects, obj = subject, o
		default:
			t.Fatalf("%s: unexpected kind %q", rel, typeMeta.Kind)
		}
		require.NoError(t, admin.Create(ctx, obj))
	}
}
