package session

import (
	"errors"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// Retry timing for failed Face calls.
const (
	// retryMax bounds the wait after a transient failure (accounts.RetryMin is the floor). The
	// wait grows with the time the failure has lasted (read from the condition), so it needs no
	// stored counter.
	retryMax = time.Minute
	// quotaRetry is the wait after a call gave up waiting for its account's quota.
	quotaRetry = 2 * time.Second
	// createQuotaBudget and pollQuotaBudget bound how long one call may hold a worker, waiting
	// for its account's quota plus the call itself. Creates and deletes go first in the
	// account's queue, so they rarely wait long; polls yield to them and give up sooner rather
	// than hold a worker that another session's create could use.
	createQuotaBudget = time.Minute
	// createCommitBudget bounds a claimed create (the POST and the token Secret), which goes on
	// through a shutdown: shorter than the manager's default --shutdown-grace-period (20 s),
	// itself shorter than the Deployment's terminationGracePeriodSeconds (30 s).
	createCommitBudget = 15 * time.Second
	pollQuotaBudget    = 15 * time.Second
	// deleteBudget and imageBudget bound a delete and a session image download the same way:
	// every Face call has an overall deadline, so a hanging endpoint cannot hold a worker.
	deleteBudget = time.Minute
	imageBudget  = time.Minute
)

// onFaceError turns a failed Face call into conditions and a requeue. It owns the Ready,
// Reconciling and Stalled conditions for that failure:
//   - 401/403: Stalled, reason CredentialsRejected, retried every accounts.CredentialsRetry;
//   - other 4xx: Stalled, reason FaceRejected with Face's code and message, never retried
//     (the spec is immutable, so the same request would fail again);
//   - waiting in the account's fair queue (quota.ErrQueued): see onQueued;
//   - 429: Reconciling, reason Throttled, retried after Face's Retry-After;
//   - 5xx, timeouts, lost connections: Reconciling, reason FaceUnavailable, retried with a
//     backoff that grows with the outage.
//
// It never returns an error: the failure is fully handled by the status it sets.
func onFaceError(ls *facev1.LivenessSession, operation string, err error, now time.Time) ctrl.Result {
	switch {
	case face.IsCredentials(err):
		setStalled(ls, facev1.ReasonCredentialsRejected, fmt.Sprintf(
			"Face rejected the credentials on %s (%s): check the Face endpoint and key", operation, accounts.DescribeFaceError(err)))
		return ctrl.Result{RequeueAfter: accounts.CredentialsRetry}
	case face.IsInvalidRequest(err):
		setStalled(ls, facev1.ReasonFaceRejected, fmt.Sprintf(
			"Face rejected the %s request: %s; fix the spec and recreate the LivenessSession", operation, accounts.DescribeFaceError(err)))
		return ctrl.Result{}
	case errors.Is(err, quota.ErrQueued):
		// Never sent: waiting in the account's fair queue, woken when its turn comes.
		return onQueued(ls, operation, err, now)
	case errors.Is(err, quota.ErrAccountBusy):
		// Never sent: the account already has its maximum of calls in flight (a slow or
		// hanging endpoint); other sessions' workers stay free.
		setProgressing(ls, facev1.ReasonAccountThrottled, fmt.Sprintf(
			"the Face account has too many calls in flight (its endpoint may be hanging); %s will be retried", operation))
		return ctrl.Result{RequeueAfter: quotaRetry}
	case errors.Is(err, quota.ErrWaitAborted):
		// Never sent: the account's quota had no room for it in time. Not Face's failure.
		setProgressing(ls, facev1.ReasonAccountThrottled, fmt.Sprintf(
			"waiting for the Face account's request quota; %s will be retried", operation))
		return ctrl.Result{RequeueAfter: quotaRetry}
	case face.IsThrottled(err):
		wait := accounts.RetryAfter(err)
		setProgressing(ls, facev1.ReasonThrottled, fmt.Sprintf(
			"Face is throttling requests (429); %s will be retried after %s", operation, wait))
		return ctrl.Result{RequeueAfter: wait}
	default:
		wait := retryBackoff(ls, facev1.ReasonFaceUnavailable, now)
		if ra := accounts.RetryAfter(err); ra > wait {
			wait = ra
		}
		setProgressing(ls, facev1.ReasonFaceUnavailable, fmt.Sprintf(
			"Face call %s failed (%s); retrying", operation, accounts.DescribeFaceError(err)))
		return ctrl.Result{RequeueAfter: wait}
	}
}

// retryBackoff is the wait before retrying a failure that has lasted since the Ready
// condition took the given reason: about as long as it has lasted, within [accounts.RetryMin, retryMax].
func retryBackoff(ls *facev1.LivenessSession, reason string, now time.Time) time.Duration {
	return retryBackoffFor(ls, facev1.ConditionReady, reason, now)
}

// retryBackoffFor is retryBackoff for any condition.
func retryBackoffFor(ls *facev1.LivenessSession, conditionType, reason string, now time.Time) time.Duration {
	return min(max(conditionSince(ls, conditionType, reason, now), accounts.RetryMin), retryMax)
}
