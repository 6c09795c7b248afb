package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// conflictRetry is the wait after an optimistic-concurrency conflict: the object changed under
// us, so the reconcile starts over from the newer version shortly.
const conflictRetry = 100 * time.Millisecond

// onWriteError ends a step whose write failed: a conflict (the object changed since it was read)
// retries shortly from the newer version; any other error goes to the controller's backoff,
// saying what the write was for.
func onWriteError(err error, what string) (ctrl.Result, error) {
	if apierrors.IsConflict(err) {
		return ctrl.Result{RequeueAfter: conflictRetry}, nil
	}
	return ctrl.Result{}, fmt.Errorf("%s: %w", what, err)
}

// statusWriter writes one LivenessSession's status during a reconcile: normally once, at the
// end, and earlier only where durability demands it (a report that must survive a crash). It
// remembers what the server holds, so each write is a merge patch of what changed, with
// optimistic concurrency: a reconcile working from a stale copy gets a conflict instead of
// overwriting newer status.
type statusWriter struct {
	client client.Client
	stored facev1.LivenessSessionStatus
}

func newStatusWriter(c client.Client, ls *facev1.LivenessSession) *statusWriter {
	return &statusWriter{client: c, stored: *ls.Status.DeepCopy()}
}

// changed says whether status differs from what the server holds.
func (w *statusWriter) changed(ls *facev1.LivenessSession) bool {
	return !equality.Semantic.DeepEqual(w.stored, ls.Status)
}

// write patches status if it changed.
func (w *statusWriter) write(ctx context.Context, ls *facev1.LivenessSession) error {
	if !w.changed(ls) {
		return nil
	}
	base := ls.DeepCopy()
	base.Status = w.stored
	status := ls.Status.DeepCopy()
	if err := w.client.Status().Patch(ctx, ls, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return err
	}
	ls.Status = *status
	w.stored = *status.DeepCopy()
	return nil
}

// patchStatus writes status at the end of a reconcile if it changed, with optimistic
// concurrency so a reconcile that worked from a stale copy can never overwrite newer status. On
// a conflict the reconcile is retried shortly, from the newer version and the observation the
// poll tracker kept, so Face is not polled again. Result sync's bookkeeping learns the write's
// fate through afterStatusWrite.
func (r *Reconciler) patchStatus(ctx context.Context, ls *facev1.LivenessSession, sw *statusWriter, result ctrl.Result, err error) (ctrl.Result, error) {
	becameFinal := !isFinal(sw.stored.Outcome) && isFinal(ls.Status.Outcome)
	lc := lifecycleChanges(sw.stored, ls) // metrics_lifecycle.go
	perr := sw.write(ctx, ls)
	r.afterStatusWrite(ls, becameFinal, perr)
	r.observeLifecycle(ls, lc, perr) // metrics_lifecycle.go
	switch {
	case perr == nil, apierrors.IsNotFound(perr):
		return result, err
	case apierrors.IsConflict(perr):
		// The poll's observation stays in the tracker; the retry saves it without polling.
		return ctrl.Result{RequeueAfter: conflictRetry}, err
	default:
		return result, errors.Join(err, fmt.Errorf("patch status: %w", perr))
	}
}

// addFinalizer adds the finalizer in a write of its own.
func (r *Reconciler) addFinalizer(ctx context.Context, ls *facev1.LivenessSession) error {
	base := ls.DeepCopy()
	controllerutil.AddFinalizer(ls, facev1.FinalizerName)
	if err := r.patchMetadata(ctx, ls, base); err != nil {
		return fmt.Errorf("add finalizer: %w", err)
	}
	return nil
}

// patchMetadata writes a metadata change with optimistic concurrency. The status in memory is
// kept: the server's answer would otherwise replace status computed in this reconcile.
func (r *Reconciler) patchMetadata(ctx context.Context, ls, base *facev1.LivenessSession) error {
	status := ls.Status.DeepCopy()
	err := r.Client.Patch(ctx, ls, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	ls.Status = *status
	return err
}
