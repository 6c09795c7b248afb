package session

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
)

func TestOutcomeOf(t *testing.T) {
	succeeded := func(id int32, decision string) facev1.LivenessAttempt {
		return facev1.LivenessAttempt{AttemptID: id, Status: "Succeeded", LivenessDecision: decision}
	}
	for _, tc := range []struct {
		name     string
		attempts []facev1.LivenessAttempt
		expired  bool
		want     facev1.Outcome
	}{
		{"no attempt yet", nil, false, facev1.OutcomePending},
		{"no attempt, token expired", nil, true, facev1.OutcomeExpired},
		{"live", []facev1.LivenessAttempt{succeeded(1, "realface")}, false, facev1.OutcomeLive},
		{"live, spelled as in an example", []facev1.LivenessAttempt{succeeded(1, "realFace")}, false, facev1.OutcomeLive},
		{"spoof", []facev1.LivenessAttempt{succeeded(1, "spoofface")}, false, facev1.OutcomeSpoof},
		{"uncertain", []facev1.LivenessAttempt{succeeded(1, "uncertain")}, false, facev1.OutcomeUncertain},
		{"succeeded without a decision", []facev1.LivenessAttempt{succeeded(1, "")}, false, facev1.OutcomeUncertain},
		{"failed attempt", []facev1.LivenessAttempt{{AttemptID: 1, Status: "Failed", ErrorCode: "FaceWithMaskDetected"}}, false, facev1.OutcomeFailed},
		{"canceled attempt", []facev1.LivenessAttempt{{AttemptID: 1, Status: "Canceled"}}, false, facev1.OutcomeFailed},
		{"latest attempt wins, whatever the order", []facev1.LivenessAttempt{succeeded(2, "spoofface"), succeeded(1, "realface")}, false, facev1.OutcomeSpoof},
		{"running attempt at expiry may still finish", []facev1.LivenessAttempt{{AttemptID: 1, Status: "Running"}}, true, facev1.OutcomePending},
		{"running attempt before expiry", []facev1.LivenessAttempt{{AttemptID: 1, Status: "Running"}}, false, facev1.OutcomePending},
		{"not-started attempt after expiry", []facev1.LivenessAttempt{{AttemptID: 1, Status: "NotStarted"}}, true, facev1.OutcomeExpired},
		{"finished attempt beats expiry", []facev1.LivenessAttempt{succeeded(1, "realface")}, true, facev1.OutcomeLive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, outcomeOf(tc.attempts, tc.expired))
		})
	}
}

func TestApplyObservationDerivesOutcomeFromAttemptsNotStatus(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)
	ls := &facev1.LivenessSession{}
	ls.Status.AuthTokenExpiresAt = &metav1.Time{Time: now.Add(time.Minute)}
	// Face's own example: status NotStarted next to a succeeded attempt.
	applyObservation(ls, &cloudSession{Status: "NotStarted", Attempts: []facev1.LivenessAttempt{
		{AttemptID: 1, Status: "Succeeded", LivenessDecision: "realface"},
	}}, now)
	require.Equal(t, facev1.OutcomeLive, ls.Status.Outcome)
	require.Equal(t, "NotStarted", ls.Status.SessionStatus)
	c := meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionCompleted)
	require.NotNil(t, c)
	require.Equal(t, metav1.ConditionTrue, c.Status)
	require.Equal(t, "Live", c.Reason)
	require.Equal(t, now, ls.Status.CompletedAt.Time)
}

func TestApplyObservationExpiresWithoutAttempt(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 10, 1, 0, time.UTC)
	ls := &facev1.LivenessSession{}
	ls.Status.AuthTokenExpiresAt = &metav1.Time{Time: now.Add(-time.Second)}
	applyObservation(ls, &cloudSession{Status: "NotStarted"}, now)
	require.Equal(t, facev1.OutcomeExpired, ls.Status.Outcome)
	require.True(t, meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionCompleted))
}

func TestConditionSettersFollowKstatus(t *testing.T) {
	ls := &facev1.LivenessSession{}
	ls.Generation = 3

	setProgressing(ls, facev1.ReasonThrottled, "waiting")
	require.True(t, meta.IsStatusConditionFalse(ls.Status.Conditions, facev1.ConditionReady))
	require.True(t, meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReconciling))
	require.Nil(t, meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionStalled))
	require.Zero(t, ls.Status.ObservedGeneration, "work in progress has not observed the generation yet")

	setStalled(ls, facev1.ReasonFaceRejected, "fix it")
	require.True(t, meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionStalled))
	require.Nil(t, meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionReconciling))
	require.Equal(t, int64(3), ls.Status.ObservedGeneration)

	ls.Status.SessionID, ls.Status.TokenSecretName = "abc", "tok"
	setReady(ls)
	require.True(t, meta.IsStatusConditionTrue(ls.Status.Conditions, facev1.ConditionReady))
	require.Nil(t, meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionStalled))
	require.Nil(t, meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionReconciling))
	require.Equal(t, int64(3), meta.FindStatusCondition(ls.Status.Conditions, facev1.ConditionReady).ObservedGeneration)
}

func TestRetryBackoffGrowsWithTheOutage(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ls := &facev1.LivenessSession{}
	require.Equal(t, accounts.RetryMin, retryBackoff(ls, facev1.ReasonFaceUnavailable, now), "a new failure retries after the minimum")
	ls.Status.Conditions = []metav1.Condition{{Type: facev1.ConditionReady, Status: metav1.ConditionFalse,
		Reason: facev1.ReasonFaceUnavailable, LastTransitionTime: metav1.Time{Time: now.Add(-10 * time.Second)}}}
	require.Equal(t, 10*time.Second, retryBackoff(ls, facev1.ReasonFaceUnavailable, now))
	ls.Status.Conditions[0].LastTransitionTime = metav1.Time{Time: now.Add(-time.Hour)}
	require.Equal(t, retryMax, retryBackoff(ls, facev1.ReasonFaceUnavailable, now))
}

func TestBoundedAttempts(t *testing.T) {
	var in []facev1.LivenessAttempt
	for i := int32(1); i <= 30; i++ {
		in = append(in, facev1.LivenessAttempt{AttemptID: i, Status: "Failed", ErrorMessage: strings.Repeat("é", 400)})
	}
	in = append(in, facev1.LivenessAttempt{AttemptID: 30, Status: "Succeeded", LivenessDecision: "realface"})
	out := boundedAttempts(in)
	require.Len(t, out, maxAttempts)
	require.Equal(t, int32(11), out[0].AttemptID, "the latest are kept")
	require.Equal(t, "Succeeded", out[len(out)-1].Status, "a duplicate id keeps Face's last entry, once")
	require.LessOrEqual(t, len(out[0].ErrorMessage), maxAttemptText)
	require.True(t, utf8.ValidString(out[0].ErrorMessage), "cut on a rune boundary")
}
