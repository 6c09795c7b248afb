package livenessclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// forgedTokenSecret is what someone allowed to create Secrets could put under a session's
// token Secret name before the operator does: the right type, an owner reference to the
// session, and a token of their choosing.
func forgedTokenSecret(ls *facev1.LivenessSession, sessionID string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ls.Namespace, Name: ls.Name,
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: facev1.GroupVersion.String(), Kind: "LivenessSession", Name: ls.Name, UID: ls.UID, Controller: ptr.To(true),
			}},
		},
		Type: facev1.SecretType,
		StringData: map[string]string{
			facev1.SecretKeyAuthToken: "forged-token", facev1.SecretKeySessionID: sessionID,
			facev1.SecretKeyExpiresAt: time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		},
	}
}

// A Secret planted before the operator publishes is never handed out: the operator stalls
// the session, and the client waits for the operator's record rather than for any Secret.
func TestAPlantedTokenSecretIsNeverHandedOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, err := e.client.Create(ctx, livenessclient.Spec{Name: "planted"})
	require.NoError(t, err)
	ls := &facev1.LivenessSession{}
	require.NoError(t, admin.Get(ctx, types.NamespacedName{Namespace: e.ns, Name: name}, ls))
	require.NoError(t, admin.Create(ctx, forgedTokenSecret(ls, "someone-elses-session")))

	harness.StartManager(t, cp.Config, e.ns, harness.ManagerOptions{Endpoint: e.emu.URL, APIKey: harness.TestAPIKey})
	_, err = e.client.Session(ctx, name)
	var stalled *livenessclient.StalledError
	require.ErrorAs(t, err, &stalled)
	require.Equal(t, facev1.ReasonSecretConflict, stalled.Reason)
}

// Even with a session id in status, a Secret whose session id is not the recorded one is
// refused.
func TestATokenSecretForAnotherSessionIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	name, err := e.client.Create(ctx, livenessclient.Spec{Name: "mismatch"})
	require.NoError(t, err)
	ls := &facev1.LivenessSession{}
	require.NoError(t, admin.Get(ctx, types.NamespacedName{Namespace: e.ns, Name: name}, ls))
	require.NoError(t, admin.Create(ctx, forgedTokenSecret(ls, "someone-elses-session")))
	base := ls.DeepCopy()
	ls.Status.SessionID, ls.Status.TokenSecretName = "the-recorded-session", name
	require.NoError(t, admin.Status().Patch(ctx, ls, client.MergeFrom(base)))

	_, err = e.client.Session(ctx, name)
	require.ErrorIs(t, err, livenessclient.ErrTokenUnavailable)
	require.NotContains(t, err.Error(), "forged-token")
}

// A token Secret deleted after publication is gone for good (Face never returns a token
// twice): Session says so instead of waiting.
func TestALostTokenSecretIsReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := e.client.Start(ctx, livenessclient.Spec{})
	require.NoError(t, err)
	require.NoError(t, admin.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: s.Name}}))
	_, err = e.client.Session(ctx, s.Name)
	var stalled *livenessclient.StalledError
	if !errors.Is(err, livenessclient.ErrTokenUnavailable) {
		require.ErrorAs(t, err, &stalled)
		require.Equal(t, facev1.ReasonTokenSecretLost, stalled.Reason)
	}
}
