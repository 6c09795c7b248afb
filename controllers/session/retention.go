package session

import (
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// retentionFor is how long a finished session is kept: spec.ttlSecondsAfterFinished, else the
// manager's default. keep says finished sessions are kept for good (a default of 0).
func (r *Reconciler) retentionFor(ls *facev1.LivenessSession) (ttl time.Duration, keep bool) {
	if t := ls.Spec.TTLSecondsAfterFinished; t != nil {
		return time.Duration(*t) * time.Second, false
	}
	if r.DefaultTTLAfterFinished <= 0 {
		return 0, true
	}
	return r.DefaultTTLAfterFinished, false
}

// reconcileRetention removes a finished session once its time is up: it owns
// status.removeAfter, which is set in the same status write that makes the outcome final (so it
// costs no write of its own), and requeues for that moment. The removal is the resource's
// deletion, so the finalizer deletes the cloud session and the session image Secret as for any
// deletion, and garbage collection takes the token Secret. The delete is conditioned on the
// UID: a namesake created since is never removed.
func (r *Reconciler) reconcileRetention(ctx context.Context, ls *facev1.LivenessSession) (ctrl.Result, error) {
	ttl, keep := r.retentionFor(ls)
	if !isFinal(ls.Status.Outcome) || ls.Status.CompletedAt == nil || keep {
		ls.Status.RemoveAfter = nil
		return ctrl.Result{}, nil
	}
	at := ls.Status.CompletedAt.Add(ttl)
	ls.Status.RemoveAfter = &metav1.Time{Time: at}
	if wait := at.Sub(r.Clock.Now()); wait > 0 {
		return scheduled(wait), nil
	}
	uid := ls.UID
	if err := r.Client.Delete(ctx, ls, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return ctrl.Result{}, fmt.Errorf("remove the finished session after its ttlSecondsAfterFinished: %w", err)
	}
	return ctrl.Result{}, nil
}

// sooner combines two step results: the earlier requeue wins.
func sooner(a, b ctrl.Result) ctrl.Result {
	switch {
	case a.RequeueAfter == 0:
		return b
	case b.RequeueAfter == 0 || a.RequeueAfter < b.RequeueAfter:
		return a
	}
	return b
}
