package gitops

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/emulator"
	"github.com/liveness-operator/liveness-operator/test/harness"
)

// kstatus' messages for the verdicts that carry no condition message.
const (
	kstatusReady    = "Resource is Ready"
	kstatusNoStatus = "Resource is current"
)

// A LivenessSession through its life, as the real operator writes it to a real API server:
// each snapshot is judged by kstatus and by the Argo CD health check.
func TestSessionLifecycleVerdicts(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	// Face answers 503 to everything until the faults are cleared.
	emu := harness.StartEmulator(t, emulator.Config{Faults: emulator.Faults{ErrorRate503: 1}})
	harness.StartManager(t, cp.Config, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey})
	ctx := context.Background()

	// Face is unavailable: the operator retries on its own (Reconciling).
	require.NoError(t, k8sClient.Create(ctx, newSession(ns, "login")))
	snap := waitSnapshot(t, sessionGVK, ns, "login", hasCondition(facev1.ConditionReconciling, "True", facev1.ReasonFaceUnavailable))
	msg := conditionMessage(snap, facev1.ConditionReconciling)
	requireVerdict(t, verdict{status.InProgressStatus, msg, healthStatus{"Progressing", msg}}, snap, "while Face is unavailable")

	// Face recovers: the session is created and its token published (Ready).
	require.NoError(t, emu.SetFaults(emulator.Faults{}))
	snap = waitSnapshot(t, sessionGVK, ns, "login", hasCondition(facev1.ConditionReady, "True", facev1.ReasonSessionReady))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady, healthStatus{"Healthy", conditionMessage(snap, facev1.ConditionReady)}},
		snap, "once Ready")

	// The end user's attempt is a spoof: a final outcome is a result, not a failure.
	_, err := emu.Attempt(sessionToken(t, ns, "login"), emulator.AttemptRequest{LivenessDecision: "spoofface"})
	require.NoError(t, err)
	requestSync(t, ns, "login")
	snap = waitSnapshot(t, sessionGVK, ns, "login", hasCondition(facev1.ConditionCompleted, "True", string(facev1.OutcomeSpoof)))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady,
		healthStatus{"Healthy", "outcome Spoof: " + conditionMessage(snap, facev1.ConditionCompleted)}}, snap, "finished with Spoof")

	// A failed attempt (a masked face) is final too.
	require.NoError(t, k8sClient.Create(ctx, newSession(ns, "masked")))
	waitSnapshot(t, sessionGVK, ns, "masked", hasCondition(facev1.ConditionReady, "True", facev1.ReasonSessionReady))
	_, err = emu.Attempt(sessionToken(t, ns, "masked"), emulator.AttemptRequest{ErrorCode: "FaceWithMaskDetected"})
	require.NoError(t, err)
	requestSync(t, ns, "masked")
	snap = waitSnapshot(t, sessionGVK, ns, "masked", hasCondition(facev1.ConditionCompleted, "True", string(facev1.OutcomeFailed)))
	requireVerdict(t, verdict{status.CurrentStatus, kstatusReady,
		healthStatus{"Healthy", "outcome Failed: " + conditionMessage(snap, facev1.ConditionCompleted)}}, snap, "finished with Failed")
}

// A session whose token Secret name belongs to someone else stops for a human (Stalled,
// SecretConflict): kstatus says Failed, Argo CD Degraded, both with the operator's message.
func TestStalledSessionVerdicts(t *testing.T) {
	t.Parallel()
	ns := newNamespace(t)
	emu := harness.StartEmulator(t, emulator.Config{})
	harness.StartManager(t, cp.Config, ns, harness.ManagerOptions{Endpoint: emu.URL, APIKey: harness.TestAPIKey})
	ctx := context.Background()
	require.NoError(t, k8sClient.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "taken"},
		StringData: map[string]string{"password": "not the operator's"},
	}))
	ls := newSession(ns, "conflict")
	ls.Spec.TokenSecretName = "taken"
	require.NoError(t, k8sClient.Create(ctx, ls))

	snap := waitSnapshot(t, sessionGVK, ns, "conflict", hasCondition(facev1.ConditionStalled, "True", facev1.ReasonSecretConflict))
	msg := conditionMessage(snap, facev1.ConditionStalled)
	requireVerdict(t, verdict{status.FailedStatus, msg, healthStatus{"Degraded", msg}}, snap, "with its Secret name taken")
}
