package gitops

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// Accounts as the real operator reports them, judged by kstatus (Flux, kubectl wait) and the
// Argo CD health check: a rejected key, an endpoint the administrator did not allow and an
// identity that cannot work are Failed (Stalled: a human must act); Face failing transiently
// and a key Secret that may still come are InProgress (Reconciling); each becomes Current
// once fixed.
func TestAccountVerdicts(t *testing.T) {
	t.Parallel()
	ns, operatorNS := newNamespace(t), newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	flaky := harness.StartEmulator(t, emulator.Config{Faults: emulator.Faults{ErrorRate503: 1}})
	harness.StartManager(t, cp.Config, ns, harness.ManagerOptions{OperatorNamespace: operatorNS, ClusterFaceAccounts: true})
	ctx := context.Background()
	for _, s := range []*corev1.Secret{
		keySecret(ns, "good-key", harness.TestAPIKey),
		keySecret(ns, "wrong-key", "not-the-key"),
		keySecret(operatorNS, "shared-key", harness.TestAPIKey),
		keySecret(operatorNS, "shared-wrong-key", "not-the-key"),
	} {
		require.NoError(t, k8sClient.Create(ctx, s))
	}
	for name, spec := range map[string]facev1.FaceAccountSpec{
		"good":     accountSpec(emu.URL, "good-key"),
		"rejected": accountSpec(emu.URL, "wrong-key"),
		"no-key":   accountSpec(emu.URL, "missing-key"),
		"flaky":    accountSpec(flaky.URL, "good-key"),
		// Not loopback: outside the manager's allowed endpoints.
		"elsewhere": accountSpec("https://face.example.com", "good-key"),
	} {
		require.NoError(t, k8sClient.Create(ctx, &facev1.FaceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: spec}))
	}
	// ClusterFaceAccounts are cluster-wide: named after the namespace, deleted while the manager
	// still runs (cleanups run last-registered first) so it can release their finalizers.
	for name, secret := range map[string]string{ns + "-shared": "shared-key", ns + "-shared-rejected": "shared-wrong-key"} {
		cfa := &facev1.ClusterFaceAccount{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec:       facev1.ClusterFaceAccountSpec{FaceAccountSpec: accountSpec(emu.URL, secret)},
		}
		require.NoError(t, k8sClient.Create(ctx, cfa))
		t.Cleanup(func() { _ = k8sClient.Delete(context.Background(), cfa) })
	}
	ref := facev1.AccountReference{Name: "rejected"}
	waiting := newSession(ns, "waits")
	waiting.Spec.AccountRef = &ref
	require.NoError(t, k8sClient.Create(ctx, waiting))

	accepted := healthStatus{"Healthy", "Face accepted the credentials at " + emu.URL}
	snap := waitSnapshot(t, faceAccountGVK, ns, "good", hasCondition(facev1.ConditionReady, "True", facev1.ReasonCredentialsValid))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady, accepted}, snap, "with a good key")
	snap = waitSnapshot(t, clusterFaceAccountGVK, "", ns+"-shared", hasCondition(facev1.ConditionReady, "True", facev1.ReasonCredentialsValid))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady, accepted}, snap, "with a good key")

	for _, c := range []struct {
		gvk       schema.GroupVersionKind
		namespace string
		name      string
		reason    string
	}{
		{faceAccountGVK, ns, "rejected", facev1.ReasonCredentialsRejected},
		{faceAccountGVK, ns, "elsewhere", facev1.ReasonEndpointNotAllowed},
		{clusterFaceAccountGVK, "", ns + "-shared-rejected", facev1.ReasonCredentialsRejected},
	} {
		snap = waitSnapshot(t, c.gvk, c.namespace, c.name, hasCondition(facev1.ConditionStalled, "True", c.reason))
		msg := conditionMessage(snap, facev1.ConditionStalled)
		require.Equal(t, conditionMessage(snap, facev1.ConditionReady), msg, "Stalled says what Ready says")
		requireVerdict(t, verdict{status.FailedStatus, msg, healthStatus{"Degraded", msg}}, snap, "Stalled "+c.reason)
	}

	// A key Secret created with the account may still be on its way (a GitOps sync, an external
	// secret store): Reconciling for a minute, Stalled after that (conditions_test.go).
	snap = waitSnapshot(t, faceAccountGVK, ns, "no-key", hasCondition(facev1.ConditionReconciling, "True", facev1.ReasonKeySecretNotFound))
	msg := conditionMessage(snap, facev1.ConditionReconciling)
	requireVerdict(t, verdict{status.InProgressStatus, msg, healthStatus{"Progressing", msg}}, snap, "waiting for its key Secret")

	// Face fails transiently: the operator re-checks on its own; neither tool calls it failed.
	snap = waitSnapshot(t, faceAccountGVK, ns, "flaky", hasCondition(facev1.ConditionReconciling, "True", facev1.ReasonFaceUnavailable))
	msg = conditionMessage(snap, facev1.ConditionReconciling)
	requireVerdict(t, verdict{status.InProgressStatus, msg, healthStatus{"Progressing", msg}}, snap, "while Face is unavailable")

	// A session of the rejected account waits for it (Reconciling, not Stalled).
	snap = waitSnapshot(t, sessionGVK, ns, "waits", hasCondition(facev1.ConditionReconciling, "True", facev1.ReasonCredentialsRejected))
	msg = conditionMessage(snap, facev1.ConditionReconciling)
	requireVerdict(t, verdict{status.InProgressStatus, msg, healthStatus{"Progressing", msg}}, snap, "waiting for a rejected account")

	// The key is fixed and Face recovers: the accounts, and the waiting session, become healthy.
	key := &corev1.Secret{}
	require.NoError(t, k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "wrong-key"}, key))
	key.Data["apikey"] = []byte(harness.TestAPIKey)
	require.NoError(t, k8sClient.Update(ctx, key))
	require.NoError(t, flaky.SetFaults(emulator.Faults{}))
	snap = waitSnapshot(t, faceAccountGVK, ns, "rejected", hasCondition(facev1.ConditionReady, "True", facev1.ReasonCredentialsValid))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady, accepted}, snap, "after the key was fixed")
	requireNoCondition(t, snap, facev1.ConditionStalled)
	// An account's endpoint is immutable: the fix for an endpoint outside the allowed ones is
	// the account recreated at an allowed endpoint.
	elsewhere := &facev1.FaceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "elsewhere"}}
	require.NoError(t, k8sClient.Delete(ctx, elsewhere))
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, types.NamespacedName{Namespace: ns, Name: "elsewhere"}, &facev1.FaceAccount{}))
	}, 30*time.Second, 50*time.Millisecond, "the account at a disallowed endpoint goes away")
	require.NoError(t, k8sClient.Create(ctx, &facev1.FaceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "elsewhere"},
		Spec: accountSpec(emu.URL, "good-key")}))
	snap = waitSnapshot(t, faceAccountGVK, ns, "elsewhere", hasCondition(facev1.ConditionReady, "True", facev1.ReasonCredentialsValid))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady, accepted}, snap, "after the endpoint was fixed")
	requireNoCondition(t, snap, facev1.ConditionStalled)
	require.NoError(t, k8sClient.Create(ctx, keySecret(ns, "missing-key", harness.TestAPIKey)))
	snap = waitSnapshot(t, faceAccountGVK, ns, "no-key", hasCondition(facev1.ConditionReady, "True", facev1.ReasonCredentialsValid))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady, accepted}, snap, "once its key Secret came")
	requireNoCondition(t, snap, facev1.ConditionReconciling)
	snap = waitSnapshot(t, faceAccountGVK, ns, "flaky", hasCondition(facev1.ConditionReady, "True", facev1.ReasonCredentialsValid))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady, healthStatus{"Healthy", "Face accepted the credentials at " + flaky.URL}},
		snap, "after Face recovered")
	snap = waitSnapshot(t, sessionGVK, ns, "waits", hasCondition(facev1.ConditionReady, "True", facev1.ReasonSessionReady))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady, healthStatus{"Healthy", conditionMessage(snap, facev1.ConditionReady)}},
		snap, "once its account is Ready")
}
