package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// A hostile tenant forges a token Secret that "belongs" to its own LivenessSession (an owner
// reference anyone can write) and names the victim's cloud session id, then tries to make the
// real manager adopt it (a forged create claim, so it looks like a crash left it) and delete it
// (deleting its own session). The manager trusts only Secrets carrying its own signature: the
// victim's cloud session is neither adopted nor deleted, and the tenant's sessions are Stalled
// (SecretConflict) or simply go.
func TestAttackForgedTokenSecretNamingAnotherTenantsSession(t *testing.T) {
	env := startOperatorEnv(t)
	ctx := context.Background()
	env.namespace(t, "victim")
	env.namespace(t, "tenant-a")

	victim := &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: "victim", Name: "kyc-1"},
		Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: "victim-device"}}
	require.NoError(t, env.admin.Create(ctx, victim))
	victim = waitSession(t, env, "victim", "kyc-1", isReady)
	victimID := victim.Status.SessionID
	require.NotEmpty(t, victimID)

	// Bait 1: Face rejects its create (an unknown model), so it never has a cloud session of its
	// own; the tenant then forges its token Secret and a fresh create claim, and deletes it.
	bait := &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "bait"},
		Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: "bait-device",
			LivenessModelVersion: "2020-01-01", TokenSecretName: "bait-token"}}
	require.NoError(t, env.admin.Create(ctx, bait))
	bait = waitSession(t, env, "tenant-a", "bait", func(ls *facev1.LivenessSession) bool {
		c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionStalled)
		return c != nil && c.Reason == facev1.ReasonFaceRejected
	})
	require.NoError(t, env.admin.Create(ctx, forgedTokenSecret(bait, "bait-token", victimID)))
	forgeClaim(t, env, bait)

	// Bait 2: a verify session waiting for its reference image, so it has no cloud session yet;
	// the forged Secret and claim look exactly like a create that crashed before its status.
	bait2 := &facev1.LivenessSession{ObjectMeta: metav1.ObjectMeta{Namespace: "tenant-a", Name: "bait2"},
		Spec: facev1.LivenessSessionSpec{OperationMode: facev1.OperationModePassive, DeviceCorrelationID: "bait2-device",
			Verification: &facev1.VerificationSpec{ReferenceImage: facev1.ReferenceImageSource{
				SecretKeyRef: &facev1.ImageKeyRef{Name: "never-there", Key: "face.png"}}}}}
	require.NoError(t, env.admin.Create(ctx, bait2))
	bait2 = waitSession(t, env, "tenant-a", "bait2", func(ls *facev1.LivenessSession) bool {
		c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionReady)
		return c != nil && c.Reason == facev1.ReasonReferenceImageNotFound
	})
	require.NoError(t, env.admin.Create(ctx, forgedTokenSecret(bait2, "bait2", victimID)))
	forgeClaim(t, env, bait2)
	bait2 = waitSession(t, env, "tenant-a", "bait2", func(ls *facev1.LivenessSession) bool {
		c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionStalled)
		return c != nil && c.Reason == facev1.ReasonSecretConflict
	})
	require.Empty(t, bait2.Status.SessionID, "the forged Secret must not be adopted")

	for _, name := range []string{"bait", "bait2"} {
		kubectl(t, env.adminKC, "delete", "livenesssession", "-n", "tenant-a", name, "--timeout=60s")
	}

	info, ok := env.emulatorSessions(t)[victimID]
	require.True(t, ok)
	require.False(t, info.Deleted, "the victim's cloud session must not be deleted")
	require.Zero(t, env.emulatorStats(t).ByOperation[emulator.OpDeleteLivenessSession].Total, "no delete was sent at all")
	victim = waitSession(t, env, "victim", "kyc-1", func(ls *facev1.LivenessSession) bool { return true })
	require.True(t, meta.IsStatusConditionTrue(victim.Status.Conditions, facev1.ConditionReady), "the victim is untouched")
	secret := &corev1.Secret{}
	require.NoError(t, env.admin.Get(ctx, types.NamespacedName{Namespace: "victim", Name: "kyc-1"}, secret))
	require.Equal(t, victimID, string(secret.Data[facev1.SecretKeySessionID]))
}

// forgedTokenSecret is what a tenant can write: an owner reference to its own session and the
// operator's label and annotations, with someone else's session id and a made-up signature.
func forgedTokenSecret(owner *facev1.LivenessSession, name, sessionID string) *corev1.Secret {
	exp := time.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339)
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: owner.Namespace, Name: name,
			Labels: map[string]string{facev1.LabelManagedBy: facev1.ManagedByValue},
			Annotations: map[string]string{facev1.AnnotationSessionID: sessionID, facev1.AnnotationExpiresAt: exp,
				facev1.AnnotationSignature: "Zm9yZ2VkLXNpZ25hdHVyZQ"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: facev1.GroupVersion.String(), Kind: "LivenessSession",
				Name: owner.Name, UID: owner.UID, Controller: ptr.To(true)}}},
		Type: facev1.SecretType,
		StringData: map[string]string{facev1.SecretKeySessionID: sessionID, facev1.SecretKeyExpiresAt: exp,
			facev1.SecretKeyAuthToken: "forged"},
	}
}

// forgeClaim sets a create claim the operator never made, as a tenant with edit rights can, with
// another annotation beside it so that the operator reconciles at once (it ignores changes of
// its own claim alone).
func forgeClaim(t *testing.T, env *operatorEnv, ls *facev1.LivenessSession) {
	t.Helper()
	now := time.Now().Format("150405.000")
	kubectl(t, env.adminKC, "annotate", "--overwrite", "livenesssession", "-n", ls.Namespace, ls.Name,
		facev1.AnnotationCreatePending+"=forged-"+now, "attack.example/nudge="+now)
}

// isReady says whether the session is Ready, for waitSession.
func isReady(ls *facev1.LivenessSession) bool {
	return meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReady)
}

// waitSession waits until the session satisfies ok and returns it.
func waitSession(t *testing.T, env *operatorEnv, ns, name string, ok func(*facev1.LivenessSession) bool) *facev1.LivenessSession {
	t.Helper()
	return waitSessionWithin(t, env, ns, name, 30*time.Second, ok)
}

// waitSessionWithin is waitSession with its own timeout.
func waitSessionWithin(t *testing.T, env *operatorEnv, ns, name string, within time.Duration, ok func(*facev1.LivenessSession) bool) *facev1.LivenessSession {
	t.Helper()
	var ls *facev1.LivenessSession
	harness.Eventually(t, within, func() string {
		ls = &facev1.LivenessSession{}
		if err := env.admin.Get(context.Background(), types.NamespacedName{Namespace: ns, Name: name}, ls); err != nil {
			return err.Error()
		}
		if !ok(ls) {
			return "not yet: " + ns + "/" + name + " conditions " + conditionsOf(ls)
		}
		return ""
	})
	return ls
}

func conditionsOf(ls *facev1.LivenessSession) string {
	s := ""
	for _, c := range ls.Status.Conditions {
		s += c.Type + "=" + string(c.Status) + "/" + c.Reason + " "
	}
	return s
}
