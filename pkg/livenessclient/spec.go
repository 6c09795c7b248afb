package livenessclient

import (
	"errors"
	"fmt"
	"maps"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// DefaultNamePrefix starts the generated names of sessions whose Spec sets neither Name nor
// NamePrefix.
const DefaultNamePrefix = "liveness-"

// ReferenceImageKey is the key of the uploaded reference image in the Secret that Start and
// Create write for Verification.ReferenceImage.
const ReferenceImageKey = "image"

// MaxReferenceImageBytes is the largest Verification.ReferenceImage that fits in a Secret:
// Kubernetes caps a Secret's keys and values at 1 MiB together.
const MaxReferenceImageBytes = corev1.MaxSecretSize - len(ReferenceImageKey)

// LabelCreatedBy marks the LivenessSessions and reference image Secrets this package creates,
// so they can be listed (kubectl get liveness -l app.kubernetes.io/created-by=livenessclient).
const LabelCreatedBy = "app.kubernetes.io/created-by"

// CreatedByValue is the value of LabelCreatedBy.
const CreatedByValue = "livenessclient"

// Spec is the session an app server asks for. The zero value is a valid plain liveness
// session: operation mode Passive, device correlation id supplied by the client SDK, a
// 600-second token, the manager's default Face account, and a generated name.
type Spec struct {
	// Name is the LivenessSession's exact name; empty: NamePrefix and a random suffix.
	Name string
	// NamePrefix starts a generated name (default DefaultNamePrefix).
	NamePrefix string
	// Labels are added to the LivenessSession (for example to find an end user's sessions).
	Labels map[string]string

	// OperationMode is Passive (mobile SDKs; the default) or PassiveActive (web SDK).
	OperationMode facev1.OperationMode
	// DeviceCorrelationID identifies the end user's device. Empty: the client SDK supplies it
	// (deviceCorrelationIdSetInClient).
	DeviceCorrelationID string
	// AuthTokenTTL is the token's lifetime, 60 s to 24 h, in whole seconds (default 600 s).
	AuthTokenTTL time.Duration
	// EnableSessionImage asks Face to keep the session image (biometric data; off by default).
	EnableSessionImage bool
	// LivenessModelVersion pins the Face model (for example "2024-11-15"); empty: the latest.
	LivenessModelVersion string
	// TokenSecretName names the token Secret; empty: the session's own name.
	TokenSecretName string
	// Account names a FaceAccount or ClusterFaceAccount; nil: the manager's default account.
	Account *facev1.AccountReference
	// DeletionPolicy is Delete (default: Release deletes the cloud session) or Orphan.
	DeletionPolicy facev1.DeletionPolicy

	// Verification makes it a liveness-with-verify session; nil: liveness only.
	Verification *Verification
}

// Verification asks Face to also match the live face against a reference image. Set exactly
// one of ReferenceImage and Reference.
type Verification struct {
	// ReferenceImage is the image's bytes (PNG, JPEG, BMP or GIF). The package stores them in
	// a Secret named "<session>-reference", owned by the LivenessSession so that it is
	// garbage-collected with it. At most MaxReferenceImageBytes; the operator checks the rest
	// of Face's limits and reports an unusable image as a StalledError.
	ReferenceImage []byte
	// Reference names an existing Secret key or ConfigMap binaryData key in the namespace.
	Reference *facev1.ReferenceImageSource
	// ConfidenceThreshold (a decimal from 0 to 1, such as "0.8") is the match confidence at or
	// above which Face reports the faces identical; empty: Face's default.
	ConfidenceThreshold string
	// ReturnVerifyImageHash asks Face to report the reference image's SHA-256 with attempts.
	ReturnVerifyImageHash bool
}

// validate catches what the API server would only report after a session exists, or what it
// cannot see at all (the bytes of an uploaded image).
func (s *Spec) validate() error {
	v := s.Verification
	if v == nil {
		return nil
	}
	switch {
	case v.ReferenceImage == nil && v.Reference == nil:
		return errors.New("livenessclient: Verification needs ReferenceImage or Reference")
	case v.ReferenceImage != nil && v.Reference != nil:
		return errors.New("livenessclient: set only one of Verification.ReferenceImage and Verification.Reference")
	case v.ReferenceImage != nil && len(v.ReferenceImage) == 0:
		return errors.New("livenessclient: Verification.ReferenceImage is empty")
	case len(v.ReferenceImage) > MaxReferenceImageBytes:
		return fmt.Errorf("%w: %d bytes; a Secret holds at most %d", ErrReferenceImageTooLarge, len(v.ReferenceImage), MaxReferenceImageBytes)
	}
	return nil
}

// referenceSecretName is the name of the Secret holding an uploaded reference image.
func referenceSecretName(session string) string { return session + "-reference" }

// object is the LivenessSession for the spec, named name in namespace.
func (s *Spec) object(namespace, name string) *facev1.LivenessSession {
	labels := maps.Clone(s.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelCreatedBy] = CreatedByValue
	ls := &facev1.LivenessSession{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name, Labels: labels},
		Spec: facev1.LivenessSessionSpec{
			OperationMode:                  s.OperationMode,
			DeviceCorrelationID:            s.DeviceCorrelationID,
			DeviceCorrelationIDSetInClient: s.DeviceCorrelationID == "",
			EnableSessionImage:             s.EnableSessionImage,
			LivenessModelVersion:           s.LivenessModelVersion,
			AuthTokenTimeToLiveInSeconds:   int32(s.AuthTokenTTL / time.Second),
			TokenSecretName:                s.TokenSecretName,
			AccountRef:                     s.Account,
			DeletionPolicy:                 s.DeletionPolicy,
		},
	}
	if v := s.Verification; v != nil {
		ls.Spec.Verification = &facev1.VerificationSpec{
			ConfidenceThreshold:   v.ConfidenceThreshold,
			ReturnVerifyImageHash: v.ReturnVerifyImageHash,
		}
		if v.Reference != nil {
			ls.Spec.Verification.ReferenceImage = *v.Reference
		} else {
			ls.Spec.Verification.ReferenceImage.SecretKeyRef = &facev1.ImageKeyRef{Name: referenceSecretName(name), Key: ReferenceImageKey}
		}
	}
	return ls
}

// referenceSecret holds an uploaded reference image for ls. The owner reference is not a
// controller reference: the token Secret's controller is the operator's, and the operator
// must never mistake this Secret for one of its own.
func referenceSecret(ls *facev1.LivenessSession, image []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ls.Namespace,
			Name:      ls.Spec.Verification.ReferenceImage.SecretKeyRef.Name,
			Labels:    map[string]string{LabelCreatedBy: CreatedByValue},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion: facev1.GroupVersion.String(),
				Kind:       "LivenessSession",
				Name:       ls.Name,
				UID:        ls.UID,
			}},
		},
		Type:      corev1.SecretTypeOpaque,
		Immutable: ptr.To(true),
		Data:      map[string][]byte{ReferenceImageKey: image},
	}
}
