package gitops

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// newSession is a minimal valid LivenessSession.
func newSession(ns, name string) *facev1.LivenessSession {
	return &facev1.LivenessSession{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: facev1.LivenessSessionSpec{
			OperationMode:       facev1.OperationModePassive,
			DeviceCorrelationID: ns + "-" + name,
		},
	}
}

// keySecret is a Secret holding a Face API key under "apikey".
func keySecret(ns, name, key string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: map[string]string{"apikey": key}}
}

// accountSpec is a Face account at endpoint whose key is in Secret secret.
func accountSpec(endpoint, secret string) facev1.FaceAccountSpec {
	return facev1.FaceAccountSpec{
		Endpoint:    endpoint,
		Credentials: facev1.FaceCredentials{APIKey: &facev1.SecretKeySelector{Name: secret, Key: "apikey"}},
	}
}

// sessionToken reads the auth token the operator published for a session.
func sessionToken(t *testing.T, ns, name string) string {
	t.Helper()
	s := &corev1.Secret{}
	require.NoError(t, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, s))
	return string(s.Data[facev1.SecretKeyAuthToken])
}

// requestSync annotates a session the way an app server does when its frontend reports that
// the end user finished.
func requestSync(t *testing.T, ns, name string) {
	t.Helper()
	ls := &facev1.LivenessSession{}
	require.NoError(t, k8sClient.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, ls))
	base := ls.DeepCopy()
	if ls.Annotations == nil {
		ls.Annotations = map[string]string{}
	}
	ls.Annotations[facev1.AnnotationSyncRequestedAt] = time.Now().UTC().Format(time.RFC3339Nano)
	require.NoError(t, k8sClient.Patch(context.Background(), ls, client.MergeFrom(base)))
}
