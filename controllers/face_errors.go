package controllers

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
)

// Retry timing for failed Face calls.
const (
	// retryMin and retryMax bound the wait after a transient failure. The wait grows with the
	// time the failure has lasted (read from the condition), so it needs no stored counter.
	retryMin = time.Second
	retryMax = time.Minute
	// credentialsRetry is how often rejected credentials are tried again: a fixed key is
	// picked up without a human having to touch every session.
	credentialsRetry = 2 * time.Minute
)

// onFaceError turns a failed Face call into conditions and a requeue. It owns the Ready,
// Reconciling and Stalled conditions for that failure:
//   - 401/403: Stalled, reason CredentialsRejected, retried every credentialsRetry;
//   - other 4xx: Stalled, reason FaceRejected with Face's code and message, never retried
//     (the spec is immutable, so the same request would fail again);
//   - 429: Reconciling, reason Throttled, retried after Face's Retry-After;
//   - 5xx, timeouts, lost connections: Reconciling, reason FaceUnavailable, retried with a
//     backoff that grows with the outage.
//
// It never returns an error: the failure is fully handled by the status it sets.
func onFaceError(ls *facev1.LivenessSession, operation string, err error, now time.Time) ctrl.Result {
	switch {
	case face.IsCredentials(err):
		setStalled(ls, facev1.ReasonCredentialsRejected, fmt.Sprintf(
			"Face rejected the credentials on %s (%s): check the Face endpoint and key", operation, describeFaceError(err)))
		return ctrl.Result{RequeueAfter: credentialsRetry}
	case face.IsInvalidRequest(err):
		setStalled(ls, facev1.ReasonFaceRejected, fmt.Sprintf(
			"Face rejected the %s request: %s; fix the spec and recreate the LivenessSession", operation, describeFaceError(err)))
		return ctrl.Result{}
	case face.IsThrottled(err):
		wait := max(face.RetryAfter(err), retryMin)
		setProgressing(ls, facev1.ReasonThrottled, fmt.Sprintf(
			"Face is throttling requests (429); %s will be retried after %s", operation, wait))
		return ctrl.Result{RequeueAfter: wait}
	default:
		wait := retryBackoff(ls, facev1.ReasonFaceUnavailable, now)
		if ra := face.RetryAfter(err); ra > wait {
			wait = ra
		}
		setProgressing(ls, facev1.ReasonFaceUnavailable, fmt.Sprintf(
			"Face call %s failed (%s); retrying", operation, describeFaceError(err)))
		return ctrl.Result{RequeueAfter: wait}
	}
}

// retryBackoff is the wait before retrying a failure that has lasted since the Ready
// condition took the given reason: about as long as it has lasted, within [retryMin, retryMax].
func retryBackoff(ls *facev1.LivenessSession, reason string, now time.Time) time.Duration {
	return retryBackoffFor(ls, facev1.ConditionReady, reason, now)
}

// retryBackoffFor is retryBackoff for any condition.
func retryBackoffFor(ls *facev1.LivenessSession, conditionType, reason string, now time.Time) time.Duration {
	return min(max(conditionSince(ls, conditionType, reason, now), retryMin), retryMax)
}

// describeFaceError is a short, stable description of a Face failure for a condition message:
// the HTTP status and Face's code and message, never a request id (it would change the message
// on every retry and cause a status write each time) and never a credential.
func describeFaceError(err error) string {
	var re *face.ResponseError
	if errors.As(err, &re) {
		s := fmt.Sprintf("HTTP %d %s", re.StatusCode, http.StatusText(re.StatusCode))
		if re.Code != "" {
			s += ": " + re.Code
		}
		if re.Message != "" {
			s += ": " + re.Message
		}
		return s
	}
	if errors.Is(err, face.ErrOutcomeUnknown) {
		return "no answer after the request was sent"
	}
	return "no answer from Face"
}
