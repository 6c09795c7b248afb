package session

import (
	"context"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/log"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
)

// sessionLifetime is how long Face keeps a session after creating it. After that the session
// is certainly gone, so a finalizer that cannot reach Face may be released.
const sessionLifetime = 48 * time.Hour

// reconcileDelete deletes the cloud session (policy Delete), then the token Secret and any
// session image Secret, and then removes the finalizer.
// Face answering 404 counts as done. A session recorded only in the token Secret (a create whose
// id never reached status) is found there. Throttling and transient failures are retried
// without removing the finalizer. Rejected credentials or an account that cannot serve hold the
// finalizer too, until the session has certainly expired (48 h after creation, or earlier once
// its token has expired and its outcome is final): then the finalizer is released with a
// Warning event, so a lost key cannot pin resources forever.
func (r *Reconciler) reconcileDelete(ctx context.Context, ls *facev1.LivenessSession, sw *statusWriter, fa *faceAccess) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(ls, facev1.FinalizerName) || r.finalized.has(ls.UID, r.Clock.Now()) {
		// Done, or done by this process moments ago and the cache has not caught up: a second
		// pass would send a second Face delete and write to a resource that is gone.
		return ctrl.Result{}, nil
	}
	if ls.Spec.DeletionPolicy != facev1.DeletionPolicyOrphan {
		id, err := r.sessionIDForDeletion(ctx, ls, sw)
		if err != nil {
			return onWriteError(err, "find the session to delete")
		}
		if id != "" {
			if res, done, err := r.deleteOrRetry(ctx, ls, fa, id); !done {
				return res, err
			}
		}
	}
	if err := r.deleteSessionImageSecret(ctx, ls); err != nil {
		return ctrl.Result{}, err
	}
	base := ls.DeepCopy()
	controllerutil.RemoveFinalizer(ls, facev1.FinalizerName)
	if err := r.patchMetadata(ctx, ls, base); err != nil && !apierrors.IsNotFound(err) {
		return onWriteError(err, "remove finalizer")
	}
	r.finalized.add(ls.UID, r.Clock.Now())
	r.forgetTicket(ctrl.Request{NamespacedName: client.ObjectKeyFromObject(ls)})
	// The token Secret goes too, at once: its token is dead, and garbage collection may lag or
	// not run at all. After the finalizer, not before: the Secret's deletion event must find
	// the resource gone, or it would start a second deletion pass (measured: 0.7 extra writes
	// and a second Face delete per session). If this fails, garbage collection remains.
	if err := r.deleteOwnedSecret(ctx, ls, ls.TokenSecretNameOrDefault(), "token"); err != nil {
		log.FromContext(ctx).Info("token Secret left to garbage collection", "error", err.Error())
	}
	return ctrl.Result{}, nil
}

// sessionIDForDeletion is the session to delete: the one in status, else one recorded only in
// this resource's token Secret. An unresolved claim with neither means the create's outcome is
// unknown; that is reported (durably, before the finalizer goes) and there is nothing to delete.
func (r *Reconciler) sessionIDForDeletion(ctx context.Context, ls *facev1.LivenessSession, sw *statusWriter) (string, error) {
	if ls.Status.SessionID != "" {
		return ls.Status.SessionID, nil
	}
	secret, err := r.lookupTokenSecret(ctx, ls)
	if err != nil {
		return "", err
	}
	if _, claimed := unresolvedClaim(ls); claimed && secret != nil {
		// Only a session this resource claimed, published and signed: a forged Secret naming
		// another tenant's session id never gets that session deleted.
		if id, _, ok := r.trustedSession(ls, secret); ok {
			return id, nil
		}
	}
	if err := r.reportInterruptedCreate(ctx, ls, sw, "the resource was deleted while a create was interrupted"); err != nil {
		return "", fmt.Errorf("record the interrupted create: %w", err)
	}
	return "", nil
}

// deleteOrRetry deletes the cloud session through the session's account. It returns done=true
// when the session is gone, Face refused to delete it (it expires on its own), or it has
// certainly expired while its account cannot serve or its credentials are rejected; the
// finalizer may then go (with a Warning event where no delete happened). Otherwise it sets the
// conditions for the failure and the requeue.
func (r *Reconciler) deleteOrRetry(ctx context.Context, ls *facev1.LivenessSession, fa *faceAccess, id string) (ctrl.Result, bool, error) {
	now := r.Clock.Now()
	fc, err := fa.client(ctx)
	if err != nil {
		switch {
		case certainlyExpired(ls, now):
			r.releaseWithoutDelete(ls, fmt.Sprintf("the account cannot delete session %s (%v); it has certainly expired", id, err))
			return ctrl.Result{}, true, nil
		case r.namespaceTerminating(ctx, ls):
			// The whole namespace is going (its account and key Secret with it): nothing will
			// ever be able to delete the session, and waiting 48 h would block the namespace.
			// The session's token expires on its own.
			r.releaseWithoutDelete(ls, fmt.Sprintf("the account cannot delete session %s (%v) and namespace %s is being deleted", id, err, ls.Namespace))
			return ctrl.Result{}, true, nil
		}
		res, err := r.onAccountUnavailable(ls, err)
		return res, false, err
	}
	err = deleteCloudSession(ctx, fc, ls, id)
	switch {
	case err == nil:
		return ctrl.Result{}, true, nil
	case certainlyExpired(ls, now):
		// However Face fails (credentials, 5xx, 429, no connection), a session that has
		// certainly expired needs no delete: the finalizer must not hang on it.
		r.releaseWithoutDelete(ls, fmt.Sprintf("the delete of session %s failed (%s); it has certainly expired", id, accounts.DescribeFaceError(err)))
		return ctrl.Result{}, true, nil
	}
	res := onFaceError(ls, "delete", err, now)
	if face.IsInvalidRequest(err) {
		// Face will not delete it and says why; retrying the same call would not help, but the
		// resource must not be pinned: the session expires on its own.
		r.Events.Eventf(ls, nil, corev1.EventTypeWarning, facev1.ReasonFinalizerReleased, "Delete",
			"Face refused to delete session %s (%s); the finalizer is released and the session expires on its own", id, accounts.DescribeFaceError(err))
		return ctrl.Result{}, true, nil
	}
	return res, false, nil
}

// namespaceTerminating says whether the session's namespace is being deleted.
func (r *Reconciler) namespaceTerminating(ctx context.Context, ls *facev1.LivenessSession) bool {
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, types.NamespacedName{Name: ls.Namespace}, ns); err != nil {
		return false
	}
	return !ns.DeletionTimestamp.IsZero()
}

// releaseWithoutDelete records, as a Warning event, that the finalizer goes without a delete.
func (r *Reconciler) releaseWithoutDelete(ls *facev1.LivenessSession, why string) {
	r.Events.Eventf(ls, nil, corev1.EventTypeWarning, facev1.ReasonFinalizerReleased, "Delete",
		"%s, so the finalizer is released without a delete", why)
}

// expiryCertainAt is when certainlyExpired becomes true (zero when unknown).
func expiryCertainAt(ls *facev1.LivenessSession) time.Time {
	switch {
	case ls.Status.CreatedAt != nil && isFinal(ls.Status.Outcome) && ls.Status.AuthTokenExpiresAt != nil:
		return ls.Status.AuthTokenExpiresAt.Time
	case ls.Status.CreatedAt != nil:
		return ls.Status.CreatedAt.Add(sessionLifetime)
	default:
		return ls.CreationTimestamp.Add(sessionLifetime)
	}
}

// certainlyExpired says whether Face has certainly forgotten the session or it can no longer
// change: 48 h after creation, or once its token has expired and its outcome is final.
func certainlyExpired(ls *facev1.LivenessSession, now time.Time) bool {
	if ls.Status.CreatedAt != nil && now.After(ls.Status.CreatedAt.Add(sessionLifetime)) {
		return true
	}
	if ls.Status.CreatedAt == nil {
		// Never recorded: its age is bounded by the resource's.
		return now.After(ls.CreationTimestamp.Add(sessionLifetime))
	}
	return isFinal(ls.Status.Outcome) && ls.Status.AuthTokenExpiresAt != nil && now.After(ls.Status.AuthTokenExpiresAt.Time)
}

// finalizedMemory is how long a process remembers the resources it released: longer than the
// cache takes to observe a deletion.
const finalizedMemory = 2 * time.Minute

// finalizedSet remembers, in memory, the resources whose finalizer this process removed, so a
// reconcile started from a cache that has not yet seen the deletion does no second pass.
type finalizedSet struct {
	mu   sync.Mutex
	uid  map[types.UID]time.Time
	adds int
}

// add records a released resource; every 256 additions, entries older than finalizedMemory
// are dropped (so the set holds about two minutes of deletions).
func (f *finalizedSet) add(uid types.UID, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.uid == nil {
		f.uid = map[types.UID]time.Time{}
	}
	if f.adds++; f.adds%256 == 0 {
		for k, at := range f.uid {
			if now.Sub(at) > finalizedMemory {
				delete(f.uid, k)
			}
		}
	}
	f.uid[uid] = now
}

// has says whether the resource was released within finalizedMemory.
func (f *finalizedSet) has(uid types.UID, now time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	at, ok := f.uid[uid]
	return ok && now.Sub(at) <= finalizedMemory
}
