package account

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// The functions in this file are pure: they turn one observation of an account into its
// conditions, so each is table-tested on its own (conditions_test.go).

// missingObjectGrace is how long after an account's creation a missing key Secret or
// ServiceAccount counts as still coming (Reconciling) before it needs a human (Stalled). A
// GitOps tool applies the account and its Secret together, or an external secret store
// writes the Secret a few seconds later; a minute on, nothing is coming by itself. The
// object's watch wakes the account the moment it appears, either way.
const missingObjectGrace = time.Minute

// accountObservation is what one reconcile learned about an account: Ready's status, and the
// reason and message that explain it.
type accountObservation struct {
	ready   metav1.ConditionStatus
	reason  string
	message string
}

// needsHuman says whether an account whose Ready is False for reason can only recover
// through a human (a spec, key, Secret, ServiceAccount or identity change), given how long
// the account has existed. Reasons not listed (FaceUnavailable, and any added later) are
// retried by the operator on its own.
func needsHuman(reason string, age time.Duration) bool {
	switch reason {
	case facev1.ReasonCredentialsRejected, facev1.ReasonEndpointNotAllowed, facev1.ReasonFaceRejected,
		facev1.ReasonCredentialsUnavailable:
		return true
	case facev1.ReasonKeySecretNotFound, facev1.ReasonServiceAccountNotFound:
		return age >= missingObjectGrace
	}
	return false
}

// setAccountConditions writes an observation as kstatus expects it: Ready with the
// observation's reason; when Ready is True, Reconciling and Stalled removed; when it is False,
// Stalled=True (a human must act) or Reconciling=True (the operator retries) with the same
// reason and message, and the other removed. Every condition carries the generation it
// describes, and status.observedGeneration is set: the generation has been fully processed,
// whatever the answer.
func setAccountConditions(status *facev1.FaceAccountStatus, generation int64, age time.Duration, obs accountObservation) {
	set := func(conditionType string, cs metav1.ConditionStatus) {
		meta.SetStatusCondition(&status.Conditions, metav1.Condition{Type: conditionType, Status: cs,
			Reason: obs.reason, Message: obs.message, ObservedGeneration: generation})
	}
	set(facev1.ConditionReady, obs.ready)
	switch {
	case obs.ready == metav1.ConditionTrue:
		meta.RemoveStatusCondition(&status.Conditions, facev1.ConditionReconciling)
		meta.RemoveStatusCondition(&status.Conditions, facev1.ConditionStalled)
	case needsHuman(obs.reason, age):
		set(facev1.ConditionStalled, metav1.ConditionTrue)
		meta.RemoveStatusCondition(&status.Conditions, facev1.ConditionReconciling)
	default:
		set(facev1.ConditionReconciling, metav1.ConditionTrue)
		meta.RemoveStatusCondition(&status.Conditions, facev1.ConditionStalled)
	}
	status.ObservedGeneration = generation
}

// untilStalled is how long until a reason that is waiting for a missing object turns into
// Stalled (0 when it never will, or already has): the account is reconciled again then, so
// kstatus sees Failed without waiting for the next periodic recheck.
func untilStalled(reason string, age time.Duration) time.Duration {
	if needsHuman(reason, age) || !needsHuman(reason, missingObjectGrace) {
		return 0
	}
	return missingObjectGrace - age
}
