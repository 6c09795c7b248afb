package session

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
	"github.com/liveness-operator/liveness-operator/internal/identity"
)

// tokenSecretFor builds the token Secret for a freshly created cloud session. It is the first
// durable record of the session: if the manager dies before the session id reaches status,
// the next reconcile finds this Secret and adopts the session instead of creating another. Its
// annotations carry the session id and expiry with the operator's signature over them and the
// resource's UID, so a forged Secret can never make the operator act on another session. The
// Secret is immutable (a session's token never changes) and controlled by the resource, so
// garbage collection deletes it with the resource.
func (r *Reconciler) tokenSecretFor(ls *facev1.LivenessSession, s *cloudSession, expiresAt time.Time) *corev1.Secret {
	meta := ownedSecretMeta(ls, ls.TokenSecretNameOrDefault(), s.ID)
	meta.Annotations[facev1.AnnotationExpiresAt] = expiresAt.UTC().Format(time.RFC3339)
	meta.Annotations[facev1.AnnotationSignature] = r.TokenSigner.Sign(s.ID, ls.UID, expiresAt)
	if t := ls.Spec.TokenSecretTemplate; t != nil {
		// Admission refuses the operator's own keys; the operator's values win all the same.
		meta.Labels = mergeKeepingOwn(meta.Labels, t.Labels)
		meta.Annotations = mergeKeepingOwn(meta.Annotations, t.Annotations)
	}
	return &corev1.Secret{
		ObjectMeta: meta,
		Type:       facev1.SecretType,
		Immutable:  ptr.To(true),
		StringData: map[string]string{
			facev1.SecretKeyAuthToken: s.AuthToken,
			facev1.SecretKeySessionID: s.ID,
			facev1.SecretKeyExpiresAt: expiresAt.UTC().Format(time.RFC3339),
		},
	}
}

// mergeKeepingOwn adds extra's entries to own, never replacing one of own's.
func mergeKeepingOwn[V ~string](own map[string]string, extra map[string]V) map[string]string {
	for k, v := range extra {
		if _, taken := own[k]; !taken {
			own[k] = string(v)
		}
	}
	return own
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

// labelValue fits a name into a label value: at most 63 characters, beginning and ending with
// an alphanumeric character. A longer name is cut and its trailing '-', '.' or '_' dropped (a
// resource name begins with an alphanumeric character). The label is only a convenience for
// selection; the owner reference is authoritative.
func labelValue(name string) string {
	if len(name) <= 63 {
		return name
	}
	return strings.TrimRight(name[:63], "-._")
}

// ownsSecret says whether the Secret is controlled by this very resource (same UID), not just
// by a namesake that was deleted and recreated. Anyone who can create Secrets can write such an
// owner reference: it decides only whether the name is taken by someone else, never which
// cloud session to act on (trustedSession does).
func ownsSecret(ls *facev1.LivenessSession, s metav1.Object) bool {
	return metav1.IsControlledBy(s, ls)
}

// lookupTokenSecret returns the metadata of the Secret with the token Secret's name, or nil
// when there is none. If the identity cache lags a Secret created moments ago, the token
// Secret's create fails with AlreadyExists, and that path deletes the new cloud session and
// reports the conflict.
func (r *Reconciler) lookupTokenSecret(ctx context.Context, ls *facev1.LivenessSession) (*metav1.PartialObjectMetadata, error) {
	return r.lookupSecret(ctx, types.NamespacedName{Namespace: ls.Namespace, Name: ls.TokenSecretNameOrDefault()})
}

// lookupSecret returns the metadata of the Secret with a name the operator is about to write,
// or nil when there is none. It asks the identity cache, which knows every Secret's name and,
// for the operator's labelled Secrets, their owner and the operator's annotations: no API
// call, and no Secret data in memory. Without an identity cache (a reconciler driven directly)
// it reads the metadata live. Callers handle the rare AlreadyExists of a Secret the cache had
// not seen yet.
func (r *Reconciler) lookupSecret(ctx context.Context, key types.NamespacedName) (*metav1.PartialObjectMetadata, error) {
	var reader client.Reader = r.APIReader
	if r.Identities != nil {
		reader = r.Identities
	}
	m := identity.Object("Secret")
	err := reader.Get(ctx, key, m)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Secret %s: %w", key.Name, err)
	}
	return m, nil
}

// trustedSession returns the session recorded in a token Secret, and whether the operator may
// act on it: the Secret is controlled by this resource and carries the operator's signature
// over the session id, this resource's UID and the expiry. Anything else (a Secret from before
// signing, or one a tenant forged to point at someone else's session) is not trusted.
func (r *Reconciler) trustedSession(ls *facev1.LivenessSession, s metav1.Object) (id string, expiresAt time.Time, ok bool) {
	if !ownsSecret(ls, s) {
		return "", time.Time{}, false
	}
	ann := s.GetAnnotations()
	id = ann[facev1.AnnotationSessionID]
	expiresAt, err := time.Parse(time.RFC3339, ann[facev1.AnnotationExpiresAt])
	if err != nil || !r.TokenSigner.Verify(ann[facev1.AnnotationSignature], id, ls.UID, expiresAt) {
		return "", time.Time{}, false
	}
	return id, expiresAt, true
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
func (r *Reconciler) checkTokenSecret(ls *facev1.LivenessSession, secret *metav1.PartialObjectMetadata) {
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
// that died before writing status. Only a create this resource claimed and has not accounted
// for can have left such a Secret, and only a Secret whose signature verifies is the
// operator's: anything else of that name is left alone and reported as Stalled
// (SecretConflict), never adopted, polled, exported or deleted.
func (r *Reconciler) adoptFromSecret(ctx context.Context, ls *facev1.LivenessSession, secret *metav1.PartialObjectMetadata) {
	_, claimed := unresolvedClaim(ls)
	id, expiresAt, trusted := r.trustedSession(ls, secret)
	if !claimed || !trusted {
		r.stall(ls, facev1.ReasonSecretConflict, secretConflictMessage(secret.Name))
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
	switch {
	case apierrors.IsInvalid(err) || apierrors.IsBadRequest(err):
		// The API server will refuse this Secret every time (this spec, this name): creating
		// more cloud sessions only to delete them would bill each one. A human must act.
		r.stall(ls, facev1.ReasonTokenSecretRejected, fmt.Sprintf(
			"the API server refused token Secret %q (%s); fix spec.tokenSecretName and recreate the LivenessSession",
			ls.TokenSecretNameOrDefault(), apierrors.ReasonForError(err)))
		return ctrl.Result{}, nil
	case !apierrors.IsAlreadyExists(err):
		return ctrl.Result{}, fmt.Errorf("create token Secret: %w", err)
	}
	secret, lerr := r.lookupTokenSecret(ctx, ls)
	if lerr != nil || secret == nil {
		return ctrl.Result{RequeueAfter: conflictRetry}, lerr
	}
	r.adoptFromSecret(ctx, ls, secret)
	return ctrl.Result{}, nil
}
