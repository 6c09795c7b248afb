package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// tokenSecretFor builds the token Secret for a freshly created cloud session. It is the first
// durable record of the session: if the manager dies before the session id reaches status,
// the next reconcile finds this Secret and adopts the session instead of creating another.
// The Secret is immutable (a session's token never changes) and controlled by the resource,
// so garbage collection deletes it with the resource.
func tokenSecretFor(ls *facev1.LivenessSession, s *cloudSession, expiresAt time.Time) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      ls.TokenSecretNameOrDefault(),
			Namespace: ls.Namespace,
			Labels: map[string]string{
				facev1.LabelManagedBy:   facev1.ManagedByValue,
				facev1.LabelSessionName: labelValue(ls.Name),
			},
			Annotations:     map[string]string{facev1.AnnotationSessionID: s.ID},
			OwnerReferences: []metav1.OwnerReference{ownerReference(ls)},
		},
		Type:      facev1.SecretType,
		Immutable: ptr.To(true),
		StringData: map[string]string{
			facev1.SecretKeyAuthToken: s.AuthToken,
			facev1.SecretKeySessionID: s.ID,
			facev1.SecretKeyExpiresAt: expiresAt.UTC().Format(time.RFC3339),
		},
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
func (r *LivenessSessionReconciler) lookupTokenSecret(ctx context.Context, ls *facev1.LivenessSession) (*corev1.Secret, error) {
	return r.lookupSecret(ctx, types.NamespacedName{Namespace: ls.Namespace, Name: ls.TokenSecretNameOrDefault()})
}

// lookupSecret returns the Secret with a name the operator is about to write, or nil when there
// is none. The manager caches only its own labelled Secrets; the identity cache knows every
// Secret's name. A name absent from both is free as far as the operator can see, which costs no
// API call; a name the identity cache knows is confirmed with a live read (a foreign Secret, or
// one of the operator's own that the typed cache has not seen yet). Callers handle the rare
// AlreadyExists of a Secret the identity cache had not seen yet.
func (r *LivenessSessionReconciler) lookupSecret(ctx context.Context, key types.NamespacedName) (*corev1.Secret, error) {
	secret := &corev1.Secret{}
	err := r.Client.Get(ctx, key, secret)
	if err == nil {
		return secret, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("read Secret %s from cache: %w", key.Name, err)
	}
	if r.Identities != nil && apierrors.IsNotFound(r.Identities.Get(ctx, key, metadataOnly("Secret"))) {
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
