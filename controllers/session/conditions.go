package session

import (
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// The functions in this file are pure: they compute status from what was observed and never
// call out, so each is table-tested on its own (conditions_test.go).

// setReady marks the session Ready: the cloud session exists and its token is published.
// Reconciling and Stalled are cleared, as kstatus expects of a Current resource.
func setReady(ls *facev1.LivenessSession) {
	setCondition(ls, facev1.ConditionReady, metav1.ConditionTrue, facev1.ReasonSessionReady,
		"cloud session "+ls.Status.SessionID+" exists; its auth token is in Secret "+ls.Status.TokenSecretName)
	meta.RemoveStatusCondition(&ls.Status.Conditions, facev1.ConditionReconciling)
	meta.RemoveStatusCondition(&ls.Status.Conditions, facev1.ConditionStalled)
	ls.Status.ObservedGeneration = ls.Generation
}

// setProgressing reports work under way that needs no human: Ready=False and Reconciling=True
// with the same reason, Stalled cleared.
func setProgressing(ls *facev1.LivenessSession, reason, message string) {
	setCondition(ls, facev1.ConditionReady, metav1.ConditionFalse, reason, message)
	setCondition(ls, facev1.ConditionReconciling, metav1.ConditionTrue, reason, message)
	meta.RemoveStatusCondition(&ls.Status.Conditions, facev1.ConditionStalled)
}

// setStalled reports that progress needs a human (fix the spec, the key, or a conflicting
// Secret): Ready=False and Stalled=True with the same reason, Reconciling cleared. The
// generation counts as observed: the operator did all it can with it.
func setStalled(ls *facev1.LivenessSession, reason, message string) {
	setCondition(ls, facev1.ConditionReady, metav1.ConditionFalse, reason, message)
	setCondition(ls, facev1.ConditionStalled, metav1.ConditionTrue, reason, message)
	meta.RemoveStatusCondition(&ls.Status.Conditions, facev1.ConditionReconciling)
	ls.Status.ObservedGeneration = ls.Generation
}

// setCondition sets one condition, keeping lastTransitionTime when the status is unchanged
// so that a repeated observation does not cause a status write.
func setCondition(ls *facev1.LivenessSession, conditionType string, status metav1.ConditionStatus, reason, message string) {
	meta.SetStatusCondition(&ls.Status.Conditions, metav1.Condition{
		Type:               conditionType,
		Status:             status,
		Reason:             reason,
		Message:            message,
		ObservedGeneration: ls.Generation,
	})
}

// conditionSince returns how long a condition has had its reason, or 0 when it does not have it.
// Retry backoff is derived from it, so the backoff survives restarts without extra state.
func conditionSince(ls *facev1.LivenessSession, conditionType, reason string, now time.Time) time.Duration {
	c := meta.FindStatusCondition(ls.Status.Conditions, conditionType)
	if c == nil || c.Reason != reason {
		return 0
	}
	return now.Sub(c.LastTransitionTime.Time)
}

// outcomeOf derives the consumer-facing outcome from the attempts, not from the session
// status: Face's examples report status NotStarted next to a succeeded attempt.
// tokenExpired says whether the auth token has expired; with no finished attempt that makes
// the outcome Expired, unless an attempt is still running (it may yet finish).
func outcomeOf(attempts []facev1.LivenessAttempt, tokenExpired bool) facev1.Outcome {
	latest := latestAttempt(attempts)
	if latest == nil {
		if tokenExpired {
			return facev1.OutcomeExpired
		}
		return facev1.OutcomePending
	}
	switch {
	case strings.EqualFold(latest.Status, "Succeeded"):
		switch strings.ToLower(latest.LivenessDecision) {
		case "realface":
			if latest.IsIdentical != nil {
				if *latest.IsIdentical {
					return facev1.OutcomeVerified
				}
				return facev1.OutcomeNotVerified
			}
			return facev1.OutcomeLive
		case "spoofface":
			return facev1.OutcomeSpoof
		default:
			return facev1.OutcomeUncertain
		}
	case strings.EqualFold(latest.Status, "Failed"), strings.EqualFold(latest.Status, "Canceled"):
		return facev1.OutcomeFailed
	case tokenExpired && !strings.EqualFold(latest.Status, "Running"):
		return facev1.OutcomeExpired
	default:
		return facev1.OutcomePending
	}
}

// latestAttempt is the attempt with the highest attemptId, or nil.
func latestAttempt(attempts []facev1.LivenessAttempt) *facev1.LivenessAttempt {
	var latest *facev1.LivenessAttempt
	for i := range attempts {
		if latest == nil || attempts[i].AttemptID > latest.AttemptID {
			latest = &attempts[i]
		}
	}
	return latest
}

// applyObservation copies what Face reported about the session into status and derives the
// outcome. When the outcome becomes final it sets Completed=True with the outcome as reason
// and stamps completedAt; until then Completed=False with reason WaitingForAttempt.
func applyObservation(ls *facev1.LivenessSession, obs *cloudSession, now time.Time) {
	ls.Status.SessionStatus = obs.Status
	if obs.ModelVersion != "" {
		ls.Status.ModelVersion = obs.ModelVersion
	}
	ls.Status.Attempts = obs.Attempts
	if len(obs.VerifyReferences) > 0 {
		ls.Status.VerifyReferences = obs.VerifyReferences
	}
	expired := ls.Status.AuthTokenExpiresAt != nil && !now.Before(ls.Status.AuthTokenExpiresAt.Time)
	setOutcome(ls, outcomeOf(obs.Attempts, expired), now)
}

// setOutcome records the outcome, the latest decision and the Completed condition.
func setOutcome(ls *facev1.LivenessSession, outcome facev1.Outcome, now time.Time) {
	ls.Status.Outcome = outcome
	if latest := latestAttempt(ls.Status.Attempts); latest != nil {
		ls.Status.LivenessDecision = latest.LivenessDecision
	}
	if outcome == facev1.OutcomePending {
		setCondition(ls, facev1.ConditionCompleted, metav1.ConditionFalse, facev1.ReasonWaitingForAttempt,
			"waiting for the end user's liveness attempt")
		return
	}
	if ls.Status.CompletedAt == nil {
		ls.Status.CompletedAt = &metav1.Time{Time: now}
	}
	setCondition(ls, facev1.ConditionCompleted, metav1.ConditionTrue, string(outcome), completedMessage(ls, outcome))
}

// completedMessage says what the outcome means, with the Face error when an attempt failed.
func completedMessage(ls *facev1.LivenessSession, outcome facev1.Outcome) string {
	latest := latestAttempt(ls.Status.Attempts)
	switch outcome {
	case facev1.OutcomeLive:
		return "the end user passed the liveness check (realface)"
	case facev1.OutcomeVerified:
		return "the end user passed the liveness check and matches the reference image (match confidence " + latest.MatchConfidence + ")"
	case facev1.OutcomeNotVerified:
		return "the end user passed the liveness check but does not match the reference image (match confidence " + latest.MatchConfidence + ")"
	case facev1.OutcomeSpoof:
		return "the liveness check found a spoofed face (spoofface)"
	case facev1.OutcomeUncertain:
		return "Face could not decide whether the face was live (uncertain)"
	case facev1.OutcomeFailed:
		if latest != nil && latest.ErrorCode != "" {
			return "the liveness attempt failed: " + latest.ErrorCode + ": " + latest.ErrorMessage
		}
		return "the liveness attempt failed"
	case facev1.OutcomeExpired:
		return "the auth token expired before any liveness attempt finished"
	}
	return string(outcome)
}

// isFinal says whether the outcome can no longer change, so result polling stops.
func isFinal(o facev1.Outcome) bool {
	return o != "" && o != facev1.OutcomePending
}

// hasReason says whether the condition is present with the given reason.
func hasReason(ls *facev1.LivenessSession, conditionType, reason string) bool {
	c := meta.FindStatusCondition(ls.Status.Conditions, conditionType)
	return c != nil && c.Reason == reason
}

// isReady says whether the Ready condition is True.
func isReady(ls *facev1.LivenessSession) bool {
	return meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReady)
}

// reportCreateOutcomeUnknown makes a possibly lost cloud session visible: a Warning event, the
// liveness_operator_create_outcome_unknown_total metric, status.unconfirmedCreates, and the
// CreateOutcomeUnknown reason on Ready and Reconciling; and marks the claim as accounted for.
func (r *Reconciler) reportCreateOutcomeUnknown(ls *facev1.LivenessSession, claim, why string) {
	r.Metrics.CreateOutcomeUnknown.Inc()
	ls.Status.UnconfirmedCreates++
	ls.Status.ResolvedCreateClaim = claim
	msg := why + "; a session it may have made cannot be reached and expires with its token; creating a new session"
	setProgressing(ls, facev1.ReasonCreateOutcomeUnknown, msg)
	r.Events.Eventf(ls, nil, corev1.EventTypeWarning, facev1.ReasonCreateOutcomeUnknown, "Create", "%s", msg)
}

// stall sets Stalled with the reason and message, with a Warning event when the reason is new.
func (r *Reconciler) stall(ls *facev1.LivenessSession, reason, message string) {
	if !hasReason(ls, facev1.ConditionStalled, reason) {
		r.Events.Eventf(ls, nil, corev1.EventTypeWarning, reason, "Reconcile", "%s", message)
	}
	setStalled(ls, reason, message)
}
