package session

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/identity"
)

// tokenSecretFor builds the token Secret for a freshly created cloud session. It is the first
// durable record of the session: if the manager dies before the session id reaches status,
// the next reconcile finds this Secret and adopts the session instead of creating another.
// The Secret is immutable (a session's token never changes) and controlled by the resource,
// so garbage collection deletes it with the resource.
func tokenSecretFor(ls *facev1.LivenessSession, s *cloudSession, expiresAt time.Time) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: ownedSecretMeta(ls, ls.TokenSecretNameOrDefault(), s.ID),
		Type:       facev1.SecretType,
		Immutable:  ptr.To(true),
		StringData: map[string]string{
			facev1.SecretKeyAuthToken: s.AuthToken,
			facev1.SecretKeySessionID: s.ID,
			facev1.SecretKeyExpiresAt: expiresAt.UTC().Format(time.RFC3339),
		},
	}
}

// ownedSecretMeta is the metadata of a Secret the operator writes for a session (the token
// Secret, the session image Secret): in the session's namespace, labelled as managed (the
// operator caches only such Secrets), carrying the Face session id, and controlled by the
// resource so garbage collection deletes it with it.
func ownedSecretMeta(ls *facev1.LivenessSession, name, sessionID string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name:      name,
		Namespace: ls.Namespace,
		Labels: map[string]string{
			facev1.LabelManagedBy:   facev1.ManagedByValue,
			facev1.LabelSessionName: labelValue(ls.Name),
		},
		Annotations:     map[string]string{facev1.AnnotationSessionID: sessionID},
		OwnerReferences: []metav1.OwnerReference{ownerReference(ls)},
	}
}

// ownerReference makes the resource the controller of a Secret, so garbage collection deletes
// the Secret with it.
func ownerReference(ls *facev1.LivenessSession) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         facev1.GroupVersion.String(),
		Kind:               "LivenessSession",
		Name:               ls.Name,
		UID:                ls.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}

// labelValue fits a name into a label value (63 characters at most); longer names are cut,
// since the label is only a convenience for selection and the owner reference is authoritative.
func labelValue(name string) string {
	if len(name) > 63 {
		return name[:63]
	}
	return name
}

// ownsSecret says whether the Secret is controlled by this very resource (same UID), not just
// by a namesake that was deleted and recreated.
func ownsSecret(ls *facev1.LivenessSession, s *corev1.Secret) bool {
	return metav1.IsControlledBy(s, ls)
}

// lookupTokenSecret returns the Secret with the token Secret's name, or nil when there is none.
// If the identity cache lags a Secret created moments ago, the token Secret's create fails with
// AlreadyExists, and that path deletes the new cloud session and reports the conflict.
func (r *Reconciler) lookupTokenSecret(ctx context.Context, ls *facev1.LivenessSession) (*corev1.Secret, error) {
	return r.lookupSecret(ctx, types.NamespacedName{Namespace: ls.Namespace, Name: ls.TokenSecretNameOrDefault()})
}

// lookupSecret returns the Secret with a name the operator is about to write, or nil when there
// is none. The manager caches only its own labelled Secrets; the identity cache knows every
// Secret's name. A name absent from both is free as far as the operator can see, which costs no
// API call; a name the identity cache knows is confirmed with a live read (a foreign Secret, or
// one of the operator's own that the typed cache has not seen yet). Callers handle the rare
// AlreadyExists of a Secret the identity cache had not seen yet.
func (r *Reconciler) lookupSecret(ctx context.Context, key types.NamespacedName) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := r.Client.Get(ctx, key, secret)
	if err == nil {
		return secret, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("read Secret %s from cache: %w", key.Name, err)
	}
	if r.Identities != nil && apierrors.IsNotFound(r.Identities.Get(ctx, key, identity.Object("Secret"))) {
		return nil, nil
	}
	err = r.APIReader.Get(ctx, key, secret)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Secret %s: %w", key.Name, err)
	}
	return secret, nil
}

// sessionFromSecret recovers a session's id and token expiry from its token Secret, for a
// session whose create finished but whose id never reached status.
func sessionFromSecret(s *corev1.Secret) (id string, expiresAt time.Time, ok bool) {
	id = string(s.Data[facev1.SecretKeySessionID])
	if id == "" {
		id = s.Annotations[facev1.AnnotationSessionID]
	}
	expiresAt, err := time.Parse(time.RFC3339, string(s.Data[facev1.SecretKeyExpiresAt]))
	return id, expiresAt, id != "" && err == nil
}

// secretConflictMessage explains a foreign Secret in the way.
func secretConflictMessage(name string) string {
	return fmt.Sprintf("Secret %q already exists and is not owned by this LivenessSession; the operator will not overwrite it. "+
		"Set spec.tokenSecretName to a free name (recreate the resource) or delete that Secret", name)
}

// checkTokenSecret keeps Ready true while the published token Secret is in place. A deleted
// token Secret cannot be rebuilt (Face never returns the token again): while the token could
// still be used that is reported as Stalled (TokenSecretLost); after expiry or a final outcome
// nobody needs the token and the loss is ignored.
func (r *Reconciler) checkTokenSecret(ls *facev1.LivenessSession, secret *corev1.Secret) {
	tokenUseless := isFinal(ls.Status.Outcome) ||
		(ls.Status.AuthTokenExpiresAt != nil && !r.Clock.Now().Before(ls.Status.AuthTokenExpiresAt.Time))
	switch {
	case secret != nil && ownsSecret(ls, secret), tokenUseless:
		setReady(ls)
	case secret == nil:
		r.stall(ls, facev1.ReasonTokenSecretLost, fmt.Sprintf(
			"token Secret %q was deleted; Face never returns a session's token again, so recreate the LivenessSession",
			ls.TokenSecretNameOrDefault()))
	default:
		r.stall(ls, facev1.ReasonSecretConflict, secretConflictMessage(secret.Name))
	}
}

// adoptFromSecret records a session that was created and published by an earlier reconcile
// that died before writing status. A Secret of that name that this resource does not own is
// left alone and reported as Stalled (SecretConflict).
func (r *Reconciler) adoptFromSecret(ctx context.Context, ls *facev1.LivenessSession, secret *corev1.Secret) {
	if !ownsSecret(ls, secret) {
		r.stall(ls, facev1.ReasonSecretConflict, secretConflictMessage(secret.Name))
		return
	}
	id, expiresAt, ok := sessionFromSecret(secret)
	if !ok {
		r.stall(ls, facev1.ReasonTokenSecretLost, fmt.Sprintf(
			"token Secret %q has no session id or expiry; recreate the LivenessSession", secret.Name))
		return
	}
	log.FromContext(ctx).Info("adopted a cloud session recorded only in its token Secret", "sessionId", id)
	r.recordSession(ls, &cloudSession{ID: id, Status: "NotStarted"}, secret.CreationTimestamp.Time, expiresAt)
}

// onTokenSecretCreateFailed handles a token Secret that could not be written after the cloud
// session was created. Without the Secret the token is lost, so the new session is deleted
// (best effort) rather than leaked. A Secret that appeared in the meantime is then handled
// like any existing Secret: adopted if this resource owns it, reported as a conflict if not.
func (r *Reconciler) onTokenSecretCreateFailed(ctx context.Context, ls *facev1.LivenessSession, fc face.Client, s *cloudSession, claim string, err error) (ctrl.Result, error) {
	if derr := deleteCloudSession(ctx, fc, ls, s.ID); derr != nil {
		r.reportCreateOutcomeUnknown(ls, claim, "the token Secret could not be written and the new session could not be deleted")
	} else {
		ls.Status.ResolvedCreateClaim = claim
	}
	if !apierrors.IsAlreadyExists(err) {
		return ctrl.Result{}, fmt.Errorf("create token Secret: %w", err)
	}
	secret, lerr := r.lookupTokenSecret(ctx, ls)
	if lerr != nil || secret == nil {
		return ctrl.Result{RequeueAfter: conflictRetry}, lerr
	}
	r.adoptFromSecret(ctx, ls, secret)
	return ctrl.Result{}, nil
}
