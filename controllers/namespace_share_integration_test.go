package controllers_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// An administrator's per-namespace cap on a shared account is checked at admission: a value
// outside 1-100 is refused with a message naming the field and its bounds; a valid one, and
// none, are accepted.
func TestNamespaceShareIsValidatedAtAdmission(t *testing.T) {
	t.Parallel()
	_ = newNamespace(t) // the package's control plane is started on first use
	ctx := context.Background()
	account := func(name string, percent *int32) *facev1.ClusterFaceAccount {
		return &facev1.ClusterFaceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: facev1.ClusterFaceAccountSpec{
				FaceAccountSpec: facev1.FaceAccountSpec{
					Endpoint:    "https://contoso.cognitiveservices.azure.com",
					Credentials: facev1.FaceCredentials{APIKey: &facev1.SecretKeySelector{Name: "k", Key: "apikey"}},
				},
				MaxNamespaceSharePercent: percent,
			},
		}
	}
	for _, c := range []struct {
		percent int32
		message string
	}{
		{0, "spec.maxNamespaceSharePercent: Invalid value: 0: spec.maxNamespaceSharePercent in body should be greater than or equal to 1"},
		{150, "spec.maxNamespaceSharePercent: Invalid value: 150: spec.maxNamespaceSharePercent in body should be less than or equal to 100"},
	} {
		err := k8sClient.Create(ctx, account("share-invalid", ptr.To(c.percent)))
		require.Error(t, err, "maxNamespaceSharePercent %d", c.percent)
		require.Contains(t, err.Error(), c.message)
	}
	for name, percent := range map[string]*int32{"share-quarter": ptr.To(int32(25)), "share-none": nil} {
		a := account(name, percent)
		require.NoError(t, k8sClient.Create(ctx, a))
		require.NoError(t, k8sClient.Delete(ctx, a))
	}
}
