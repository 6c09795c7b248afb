package controllers

import (
	"context"

	"k8s.io/apimachinery/pkg/api/equality"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

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
