package session

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/identity"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// exportSessionImage downloads the session image of the final attempt into
// spec.sessionImageSecretName (key "image"), a Secret owned by the resource so the biometric
// data is deleted with it. It runs once the outcome is final, only when asked for, and owns the
// SessionImageExported condition. Download failures are retried (after Retry-After when
// throttled) without touching Ready. A foreign Secret of that name is never written.
func (r *Reconciler) exportSessionImage(ctx context.Context, ls *facev1.LivenessSession, fa *faceAccess) (ctrl.Result, error) {
	name := ls.Spec.SessionImageSecretName
	if name == "" || ls.Status.SessionImageSecretName != "" {
		return ctrl.Result{}, nil
	}
	latest := latestAttempt(ls.Status.Attempts)
	if latest == nil || latest.SessionImageID == "" {
		setCondition(ls, facev1.ConditionSessionImageExported, metav1.ConditionFalse, facev1.ReasonSessionImageExportFailed,
			"the final attempt has no session image (Face stores one only for an attempt that captured a face)")
		return ctrl.Result{}, nil
	}

	existing, err := r.lookupSecret(ctx, types.NamespacedName{Namespace: ls.Namespace, Name: name})
	switch {
	case err != nil:
		return ctrl.Result{}, err
	case existing != nil && ownsSecret(ls, existing):
		r.recordSessionImageExport(ls, name)
		return ctrl.Result{}, nil
	case existing != nil:
		setCondition(ls, facev1.ConditionSessionImageExported, metav1.ConditionFalse, facev1.ReasonSecretConflict, secretConflictMessage(name))
		return ctrl.Result{}, nil
	}

	fc, err := fa.client(ctx)
	if err != nil {
		return r.onAccountUnavailable(ls, err)
	}
	imgCtx, cancel := context.WithTimeout(ctx, imageBudget)
	img, err := fc.GetSessionImage(imgCtx, latest.SessionImageID)
	cancel()
	if errors.Is(err, quota.ErrQueued) {
		// Not a failure: the download waits for its turn in the account's fair queue.
		return onQueued(ls, "session image download", err, r.Clock.Now()), nil
	}
	if err != nil {
		setCondition(ls, facev1.ConditionSessionImageExported, metav1.ConditionFalse, facev1.ReasonSessionImageExportFailed,
			"downloading the session image failed ("+accounts.DescribeFaceError(err)+"); retrying")
		if face.IsThrottled(err) {
			return ctrl.Result{RequeueAfter: accounts.RetryAfter(err)}, nil
		}
		return ctrl.Result{RequeueAfter: retryBackoffFor(ls, facev1.ConditionSessionImageExported, facev1.ReasonSessionImageExportFailed, r.Clock.Now())}, nil
	}
	if err := r.Client.Create(ctx, sessionImageSecretFor(ls, latest.SessionImageID, img)); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// A Secret of that name appeared since the lookup; whose it is decides the next pass.
			return ctrl.Result{RequeueAfter: conflictRetry}, nil
		}
		return ctrl.Result{}, fmt.Errorf("create session image Secret: %w", err)
	}
	r.recordSessionImageExport(ls, name)
	r.Events.Eventf(ls, nil, corev1.EventTypeNormal, facev1.ReasonSessionImageExported, "ExportSessionImage",
		"session image exported to Secret %s", name)
	return ctrl.Result{}, nil
}

func (r *Reconciler) recordSessionImageExport(ls *facev1.LivenessSession, name string) {
	ls.Status.SessionImageSecretName = name
	setCondition(ls, facev1.ConditionSessionImageExported, metav1.ConditionTrue, facev1.ReasonSessionImageExported,
		"the session image is in Secret "+name)
}

// sessionImageSecretFor builds the Secret for a downloaded session image: owned by the resource
// (deleted with it), labelled as managed, immutable.
func sessionImageSecretFor(ls *facev1.LivenessSession, sessionImageID string, img []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: ownedSecretMeta(ls, ls.Spec.SessionImageSecretName, ls.Status.SessionID),
		Type:       facev1.SessionImageSecretType,
		Immutable:  ptr.To(true),
		Data: map[string][]byte{
			facev1.SecretKeySessionImage:   img,
			facev1.SecretKeySessionImageID: []byte(sessionImageID),
		},
	}
}

// deleteSessionImageSecret deletes the exported session image (biometric data) with the
// resource, whatever the deletion policy, instead of leaving it to garbage collection, which may
// lag or not run at all.
func (r *Reconciler) deleteSessionImageSecret(ctx context.Context, ls *facev1.LivenessSession) error {
	if ls.Spec.SessionImageSecretName == "" {
		return nil
	}
	return r.deleteOwnedSecret(ctx, ls, ls.Spec.SessionImageSecretName, "session image")
}

// deleteOwnedSecret deletes the named Secret if this resource controls it, reading only its
// metadata (live: a lagging cache must never skip deleting biometric data or a token) and
// deleting with a UID precondition, so a namesake created since is never touched.
func (r *Reconciler) deleteOwnedSecret(ctx context.Context, ls *facev1.LivenessSession, name, what string) error {
	m := identity.Object("Secret")
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: ls.Namespace, Name: name}, m)
	if apierrors.IsNotFound(err) || (err == nil && !ownsSecret(ls, m)) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s Secret: %w", what, err)
	}
	uid := m.UID
	if err := r.Client.Delete(ctx, m, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete %s Secret: %w", what, err)
	}
	return nil
}
