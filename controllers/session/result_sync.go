package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// finalOutcomeMemory is how long a saved final outcome is remembered: longer than the cache
// takes to show it. A final session's record is then dropped (or at its deletion).
const finalOutcomeMemory = 2 * time.Minute

// minForcedPollInterval is the shortest time between two polls a sync request forces.
const minForcedPollInterval = time.Second

// syncResult follows the end user's check and owns the Completed condition and the outcome
// fields. It polls Face on the session's own schedule (nextPollAt), or at once when the app
// server annotated the resource with sync-requested-at after the last poll, and stops for good
// once the outcome is final. Polls that learn nothing new write nothing. It requeues for the
// next scheduled poll; a throttled poll waits for Face's Retry-After.
func (r *Reconciler) syncResult(ctx context.Context, ls *facev1.LivenessSession, fa *faceAccess) (ctrl.Result, error) {
	if isFinal(ls.Status.Outcome) || ls.Status.CreatedAt == nil || ls.Status.AuthTokenExpiresAt == nil {
		r.polls.forget(ls.UID)
		return ctrl.Result{}, nil
	}
	now := r.Clock.Now()
	created, expires := ls.Status.CreatedAt.Time, ls.Status.AuthTokenExpiresAt.Time
	request := ls.Annotations[facev1.AnnotationSyncRequestedAt]
	last, known := r.polls.lastPoll(ls.UID)
	if known && last.final {
		// This process saved the final outcome already; the cache that still says Pending has
		// not caught up. Polling again would cost a Face call for nothing.
		if now.Sub(last.at) > finalOutcomeMemory {
			r.polls.forget(ls.UID)
		}
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	if !known && request == "" {
		// A session this process has not polled yet (it restarted): resume the session's own
		// schedule rather than poll now, or a restart would poll every open session at once
		// (measured: ~90 polls per restart at 300 open sessions, against a quota of 10/s).
		r.polls.record(ls.UID, now, request, false)
		return scheduled(nextPollAt(created, expires, now).Sub(now)), nil
	}
	var obs *cloudSession
	switch {
	case known && last.unsaved != nil && (last.syncRequest == request || isFinal(outcomeOf(last.unsaved.Attempts, false))):
		// The last poll's status write lost a race (for example with the app server's
		// sync-requested-at annotation): redo it from what that poll saw. A finished attempt
		// cannot change, so a new sync request needs no new poll either.
		obs = last.unsaved
	case known && last.syncRequest == request && now.Before(nextPollAt(created, expires, last.at)):
		return scheduled(nextPollAt(created, expires, last.at).Sub(now)), nil
	case known && last.polled && last.syncRequest != request && now.Before(last.at.Add(minForcedPollInterval)):
		// sync-requested-at is the tenant's to write as often as it likes: at most one forced
		// poll per second per session, the new request answered by the next allowed one.
		return ctrl.Result{RequeueAfter: last.at.Add(minForcedPollInterval).Sub(now)}, nil
	default:
		fc, err := fa.client(ctx)
		if err != nil {
			return r.onAccountUnavailable(ls, err)
		}
		pollCtx, cancel := context.WithTimeout(ctx, pollQuotaBudget)
		obs, err = getCloudSession(pollCtx, fc, ls)
		cancel()
		if err != nil {
			if !errors.Is(err, quota.ErrQueued) {
				// A queued poll was not made: the session stays due, so the reconcile its
				// ticket's grant wakes polls at once.
				r.polls.record(ls.UID, now, request, true)
			}
			return r.onPollError(ctx, ls, err, now)
		}
		r.polls.remember(ls.UID, now, request, obs)
	}
	applyObservation(ls, obs, now)
	if isFinal(ls.Status.Outcome) {
		// No event: Completed=True with the outcome as reason says it, and an event would be one
		// more API write per session (TARGETS: at most six over a session's life).
		return ctrl.Result{}, nil
	}
	return scheduled(nextPollAt(created, expires, now).Sub(now)), nil
}

// onPollError handles a failed result poll. A failed poll does not make the session less ready
// (it exists and its token is published), so Ready is left alone; the poll is retried on
// schedule, or after Face's Retry-After. A session Face no longer knows cannot produce a result:
// the outcome becomes Expired if its token had expired, otherwise the loss is reported as
// Stalled (SessionGone), since someone deleted it outside the operator.
func (r *Reconciler) onPollError(ctx context.Context, ls *facev1.LivenessSession, err error, now time.Time) (ctrl.Result, error) {
	if face.IsNotFound(err) {
		r.polls.forget(ls.UID)
		if !now.Before(ls.Status.AuthTokenExpiresAt.Time) {
			setOutcome(ls, facev1.OutcomeExpired, now)
			return ctrl.Result{}, nil
		}
		r.stall(ls, facev1.ReasonSessionGone, fmt.Sprintf(
			"Face no longer knows session %s; it was deleted outside the operator; recreate the LivenessSession", ls.Status.SessionID))
		return ctrl.Result{}, nil
	}
	next := nextPollAt(ls.Status.CreatedAt.Time, ls.Status.AuthTokenExpiresAt.Time, now).Sub(now)
	switch {
	case errors.Is(err, quota.ErrQueued):
		return onQueued(ls, "poll", err, now), nil
	case errors.Is(err, quota.ErrWaitAborted):
		// Yielded to creates and deletes on a busy account: not a failure, poll again soon.
		r.polls.forget(ls.UID)
		return scheduled(quotaRetry), nil
	case face.IsThrottled(err):
		next = accounts.RetryAfter(err)
	}
	log.FromContext(ctx).Info("result poll failed; retrying", "error", accounts.DescribeFaceError(err))
	return scheduled(next), nil
}

// untilFirstPoll is how long a session recorded just now waits for its first poll: a second
// after a new session's creation, at once for an adopted one created long ago, and never less
// than conflictRetry, to give this reconcile's status write time to reach the cache (a
// reconcile that read the version before it would write from a stale copy and meet a
// conflict). Under a burst, a fixed 100 ms follow-up met such conflicts: 6 in 1,500 sessions.
func untilFirstPoll(ls *facev1.LivenessSession, now time.Time) time.Duration {
	if ls.Status.CreatedAt == nil || ls.Status.AuthTokenExpiresAt == nil {
		return conflictRetry
	}
	created := ls.Status.CreatedAt.Time
	return max(nextPollAt(created, ls.Status.AuthTokenExpiresAt.Time, created).Sub(now), conflictRetry)
}

// startPollSchedule starts a new session's poll schedule at its creation, answering the sync
// request in force then (a request made before the session existed needs no extra poll).
func (r *Reconciler) startPollSchedule(ls *facev1.LivenessSession, created time.Time) {
	r.polls.record(ls.UID, created, ls.Annotations[facev1.AnnotationSyncRequestedAt], false)
}

// afterStatusWrite is result sync's hook after the reconcile's status write (err is the write's
// error, nil when it succeeded or had nothing to write). A saved observation is dropped from the
// tracker; a conflict keeps it, so the retry saves it without polling Face again. A session whose
// outcome just became final, that is gone, or whose finalizer was just removed is forgotten, and
// a newly final outcome is counted once.
func (r *Reconciler) afterStatusWrite(ls *facev1.LivenessSession, becameFinal bool, err error) {
	switch {
	case apierrors.IsNotFound(err),
		err == nil && !ls.DeletionTimestamp.IsZero() && !controllerutil.ContainsFinalizer(ls, facev1.FinalizerName):
		r.polls.forget(ls.UID)
	case err == nil:
		r.polls.saved(ls.UID)
		if becameFinal {
			// Remembered as final for a while (not forgotten at once): a reconcile working from a
			// cache that has not seen this write yet must not poll again.
			r.polls.finished(ls.UID, r.Clock.Now())
			r.Metrics.SessionsCompleted.WithLabelValues(string(ls.Status.Outcome)).Inc()
		}
	}
}
