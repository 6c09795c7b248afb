package install

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// A user bound only to the built-in edit ClusterRole, once config/default's aggregated roles
// are in, creates a LivenessSession but cannot patch its status (docs/security.md).
func TestEditRoleCreatesSessionsButNotStatus(t *testing.T) {
	c := startCluster(t)
	c.apply(t, kustomize(t, "config", "default"))
	c.namespaces(t, "shop")
	aggregate(t, c, "edit")
	ctx := context.Background()
	require.NoError(t, c.admin.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "tenant-edit"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "tenant"}},
	}))
	user, err := c.cp.AddUser(envtest.User{Name: "tenant"})
	require.NoError(t, err)
	tenant, err := client.New(user.Config(), client.Options{Scheme: c.admin.Scheme()})
	require.NoError(t, err)

	ls := &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "login-1"},
		Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: "tenant-1"}}
	require.NoError(t, tenant.Create(ctx, ls))
	err = tenant.Status().Patch(ctx, ls, client.RawPatch(types.MergePatchType, []byte(`{"status":{"outcome":"Live"}}`)))
	require.True(t, apierrors.IsForbidden(err), "status patch: %v", err)
	fa := &facev1.FaceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "x"}}
	require.NoError(t, tenant.List(ctx, &facev1.FaceAccountList{}, client.InNamespace("shop")))
	err = tenant.Status().Patch(ctx, fa, client.RawPatch(types.MergePatchType, []byte(`{"status":{}}`)))
	require.True(t, apierrors.IsForbidden(err), "FaceAccount status patch: %v", err)
}

// aggregate does what kube-controller-manager's clusterrole-aggregation controller does (envtest
// runs no controller-manager): the role's rules become those of every ClusterRole its
// aggregationRule selects. Authorization itself is the real API server's.
func aggregate(t *testing.T, c *cluster, name string) {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.ClusterRole{}
	require.NoError(t, c.admin.Get(ctx, client.ObjectKey{Name: name}, role))
	require.NotNil(t, role.AggregationRule)
	var rules []rbacv1.PolicyRule
	for _, sel := range role.AggregationRule.ClusterRoleSelectors {
		selector, err := metav1.LabelSelectorAsSelector(&sel)
		require.NoError(t, err)
		var list rbacv1.ClusterRoleList
		require.NoError(t, c.admin.List(ctx, &list, client.MatchingLabelsSelector{Selector: selector}))
		for _, r := range list.Items {
			if r.Name != name {
				rules = append(rules, r.Rules...)
			}
		}
	}
	role.Rules = rules
	require.NoError(t, c.admin.Update(ctx, role))
}
