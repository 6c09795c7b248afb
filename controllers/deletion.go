package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
)

// sessionLifetime is how long Face keeps a session after creating it. After that the session
// is certainly gone, so a finalizer that cannot reach Face may be released.
const sessionLifetime = 48 * time.Hour

// reconcileDelete deletes the cloud session (policy Delete) and then removes the finalizer; the
// token Secret goes with its owner by garbage collection. Face answering 404 counts as done.
// A session recorded only in the token Secret (a create whose id never reached status) is found
// there. Throttling and transient failures are retried without removing the finalizer. Rejected
// credentials hold the finalizer too, until the session has certainly expired (48 h after
// creation, or earlier once its token has expired and its outcome is final): then the finalizer
// is released with a Warning event, so a lost key cannot pin resources forever.
func (r *LivenessSessionReconciler) reconcileDelete(ctx context.Context, ls *facev1.LivenessSession, sw *statusWriter) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(ls, facev1.FinalizerName) {
		return ctrl.Result{}, nil
	}
	if ls.Spec.DeletionPolicy != facev1.DeletionPolicyOrphan {
		id, err := r.sessionIDForDeletion(ctx, ls, sw)
		if err != nil {
			return ctrl.Result{}, err
		}
		if id != "" {
			// The account is needed only when there is a cloud session to delete.
			fc, err := r.Face.ClientFor(ctx, ls)
			if err != nil {
				if res, done := r.onAccountUnavailableForDelete(ls, id, err); !done {
					return res, nil
				}
			} else if res, done := r.deleteOrRetry(ctx, ls, fc, id); !done {
				return res, nil
			}
		}
	}
	if err := r.deleteSessionImageSecret(ctx, ls); err != nil {
		return ctrl.Result{}, err
	}
	base := ls.DeepCopy()
	controllerutil.RemoveFinalizer(ls, facev1.FinalizerName)
	if err := r.patchMetadata(ctx, ls, base); err != nil && !apierrors.IsNotFound(err) {
		if apierrors.IsConflict(err) {
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, fmt.Errorf("remove finalizer: %w", err)
	}
	r.polls.forget(ls.UID)
	return ctrl.Result{}, nil
}

// deleteSessionImageSecret deletes the exported session image (biometric data) with the
// resource, whatever the deletion policy, instead of leaving it to garbage collection, which may
// lag or not run at all. Only a Secret this resource owns is deleted.
func (r *LivenessSessionReconciler) deleteSessionImageSecret(ctx context.Context, ls *facev1.LivenessSession) error {
	if ls.Spec.SessionImageSecretName == "" {
		return nil
	}
	s := &corev1.Secret{}
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ls.Namespace, Name: ls.Spec.SessionImageSecretName}, s)
	if apierrors.IsNotFound(err) || (err == nil && !ownsSecret(ls, s)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read session image Secret: %w", err)
	}
	if err := r.Client.Delete(ctx, s, client.Preconditions{UID: &s.UID}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete session image Secret: %w", err)
	}
	return nil
}

// sessionIDForDeletion is the session to delete: the one in status, else one recorded only in
// this resource's token Secret. An unresolved claim with neither means the create's outcome is
// unknown; that is reported (durably, before the finalizer goes) and there is nothing to delete.
func (r *LivenessSessionReconciler) sessionIDForDeletion(ctx context.Context, ls *facev1.LivenessSession, sw *statusWriter) (string, error) {
	if ls.Status.SessionID != "" {
		return ls.Status.SessionID, nil
	}
	secret, err := r.lookupTokenSecret(ctx, ls)
	if err != nil {
		return "", err
	}
	if secret != nil && ownsSecret(ls, secret) {
		if id, _, ok := sessionFromSecret(secret); ok {
			return id, nil
		}
	}
	if claim := ls.Annotations[facev1.AnnotationCreatePending]; claim != "" && claim != ls.Status.ResolvedCreateClaim {
		r.reportCreateOutcomeUnknown(ls, claim, "the resource was deleted while a create was interrupted")
		if err := sw.write(ctx, ls); err != nil {
			return "", fmt.Errorf("record the interrupted create: %w", err)
		}
	}
	return "", nil
}

// deleteOrRetry deletes the cloud session. It returns done=true when the session is gone (or
// certainly expired); otherwise it sets the conditions for the failure and the requeue.
func (r *LivenessSessionReconciler) deleteOrRetry(ctx context.Context, ls *facev1.LivenessSession, fc face.Client, id string) (ctrl.Result, bool) {
	err := deleteCloudSession(ctx, fc, ls, id)
	if err == nil {
		return ctrl.Result{}, true
	}
	now := r.Clock.Now()
	if face.IsCredentials(err) && certainlyExpired(ls, now) {
		r.Events.Eventf(ls, nil, corev1.EventTypeWarning, facev1.ReasonFinalizerReleased, "Delete",
			"Face rejected the credentials; session %s has certainly expired, so the finalizer is released without a delete", id)
		return ctrl.Result{}, true
	}
	res := onFaceError(ls, "delete", err, now)
	if face.IsInvalidRequest(err) {
		// Face will not delete it and says why; retrying the same call would not help, but the
		// resource must not be pinned: the session expires on its own.
		r.Events.Eventf(ls, nil, corev1.EventTypeWarning, facev1.ReasonFinalizerReleased, "Delete",
			"Face refused to delete session %s (%s); the finalizer is released and the session expires on its own", id, describeFaceError(err))
		return ctrl.Result{}, true
	}
	return res, false
}

// onAccountUnavailableForDelete decides what to do when the session's account cannot serve the
// delete (gone, key missing, credentials rejected, throttled). Once the cloud session has
// certainly expired, the finalizer is released with a Warning event: nothing is left to delete,
// and a lost key must not pin resources forever. Until then the delete is retried.
func (r *LivenessSessionReconciler) onAccountUnavailableForDelete(ls *facev1.LivenessSession, id string, err error) (ctrl.Result, bool) {
	now := r.Clock.Now()
	if certainlyExpired(ls, now) {
		r.Events.Eventf(ls, nil, corev1.EventTypeWarning, facev1.ReasonFinalizerReleased, "Delete",
			"the account cannot delete session %s (%v); it has certainly expired, so the finalizer is released without a delete", id, err)
		return ctrl.Result{}, true
	}
	wait := accountWait
	var unavailable *AccountUnavailableError
	if errors.As(err, &unavailable) {
		wait = max(unavailable.RetryAfter, retryMin)
		setProgressing(ls, unavailable.Reason, "cannot delete the cloud session yet: "+unavailable.Message)
	}
	if until := expiryCertainAt(ls); !until.IsZero() && until.Sub(now) < wait {
		wait = until.Sub(now) + time.Second
	}
	return ctrl.Result{RequeueAfter: wait}, false
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
