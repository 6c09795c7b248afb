package account

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// Each observation as kstatus must read it: Stalled for what only a human fixes, Reconciling
// for what the operator retries, neither once Ready; every condition with its generation.
func TestSetAccountConditions(t *testing.T) {
	for _, c := range []struct {
		name        string
		reason      string
		ready       metav1.ConditionStatus
		age         time.Duration
		stalled     bool
		reconciling bool
	}{
		{"credentials valid", facev1.ReasonCredentialsValid, metav1.ConditionTrue, time.Hour, false, false},
		{"key rejected", facev1.ReasonCredentialsRejected, metav1.ConditionFalse, time.Second, true, false},
		{"endpoint not allowed", facev1.ReasonEndpointNotAllowed, metav1.ConditionFalse, 0, true, false},
		{"invalid quota", facev1.ReasonFaceRejected, metav1.ConditionFalse, 0, true, false},
		{"identity misconfigured", facev1.ReasonCredentialsUnavailable, metav1.ConditionFalse, 0, true, false},
		{"key Secret may still come", facev1.ReasonKeySecretNotFound, metav1.ConditionFalse, 10 * time.Second, false, true},
		{"key Secret is not coming", facev1.ReasonKeySecretNotFound, metav1.ConditionFalse, missingObjectGrace, true, false},
		{"ServiceAccount may still come", facev1.ReasonServiceAccountNotFound, metav1.ConditionFalse, 0, false, true},
		{"ServiceAccount is not coming", facev1.ReasonServiceAccountNotFound, metav1.ConditionFalse, time.Hour, true, false},
		{"Face unavailable", facev1.ReasonFaceUnavailable, metav1.ConditionFalse, time.Hour, false, true},
		{"a reason added later", "SomethingNew", metav1.ConditionFalse, time.Hour, false, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			// Start from the opposite state so that stale conditions must be removed.
			status := &facev1.FaceAccountStatus{ObservedGeneration: 1}
			for _, ct := range []string{facev1.ConditionStalled, facev1.ConditionReconciling} {
				meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: ct, Status: metav1.ConditionTrue, Reason: "Old", ObservedGeneration: 1})
			}
			setAccountConditions(status, 3, c.age, accountObservation{ready: c.ready, reason: c.reason, message: "what to do"})

			require.Equal(t, int64(3), status.ObservedGeneration)
			ready := meta.FindStatusCondition(status.Conditions, facev1.ConditionReady)
			require.NotNil(t, ready)
			require.Equal(t, c.ready, ready.Status)
			require.Equal(t, c.reason, ready.Reason)
			require.Equal(t, c.stalled, meta.IsStatusConditionTrue(status.Conditions, facev1.ConditionStalled), "Stalled")
			require.Equal(t, c.reconciling, meta.IsStatusConditionTrue(status.Conditions, facev1.ConditionReconciling), "Reconciling")
			require.Len(t, status.Conditions, 1+btoi(c.stalled)+btoi(c.reconciling), "no stale condition left: %+v", status.Conditions)
			for _, cond := range status.Conditions {
				require.Equal(t, int64(3), cond.ObservedGeneration, "%s carries the generation it describes", cond.Type)
				require.Equal(t, c.reason, cond.Reason, "%s has Ready's reason", cond.Type)
				require.Equal(t, "what to do", cond.Message)
			}
		})
	}
}

// A missing key Secret is looked at again when its grace ends, so kstatus turns Failed then;
// reasons that never wait, or already stalled, ask for no such reconcile.
func TestUntilStalled(t *testing.T) {
	require.Equal(t, missingObjectGrace-15*time.Second, untilStalled(facev1.ReasonKeySecretNotFound, 15*time.Second))
	require.Zero(t, untilStalled(facev1.ReasonKeySecretNotFound, missingObjectGrace+time.Second))
	require.Zero(t, untilStalled(facev1.ReasonCredentialsRejected, 0))
	require.Zero(t, untilStalled(facev1.ReasonFaceUnavailable, 0))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
