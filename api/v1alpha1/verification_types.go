package v1alpha1

// VerificationSpec asks for a liveness-with-verify session: besides liveness, Face checks that
// the live person matches a reference image the operator reads once, at creation.
type VerificationSpec struct {
	// ReferenceImage is where the reference image's bytes are: a key of a Secret or of a
	// ConfigMap's binaryData, in the LivenessSession's namespace. PNG, JPEG, BMP or GIF, 1 KB to
	// 6 MB, 36x36 to 4096x4096 pixels. Later changes to it do not touch an existing session.
	ReferenceImage ReferenceImageSource `json:"referenceImage"`

	// ConfidenceThreshold is the match confidence (0 to 1, as a decimal string such as "0.8")
	// at or above which Face reports the faces as identical. Face's default applies when empty.
	// +kubebuilder:validation:XValidation:rule="self.matches('^(0(\\\\.[0-9]+)?|1(\\\\.0+)?|\\\\.[0-9]+)$')",message="spec.verification.confidenceThreshold must be a decimal number from 0 to 1, for example \"0.8\""
	// +kubebuilder:validation:MaxLength=20
	// +optional
	ConfidenceThreshold string `json:"confidenceThreshold,omitempty"`

	// ReturnVerifyImageHash asks Face to report the SHA-256 of the reference image with each
	// attempt, so a consumer can prove which image was used.
	// +optional
	ReturnVerifyImageHash bool `json:"returnVerifyImageHash,omitempty"`
}

// ReferenceImageSource names the reference image: set exactly one of secretKeyRef or
// configMapKeyRef.
// +kubebuilder:validation:XValidation:rule="has(self.secretKeyRef) != has(self.configMapKeyRef)",message="set exactly one of spec.verification.referenceImage.secretKeyRef or spec.verification.referenceImage.configMapKeyRef"
type ReferenceImageSource struct {
	// SecretKeyRef names a key of a Secret holding the image bytes.
	// +optional
	SecretKeyRef *ImageKeyRef `json:"secretKeyRef,omitempty"`
	// ConfigMapKeyRef names a key of a ConfigMap's binaryData holding the image bytes.
	// +optional
	ConfigMapKeyRef *ImageKeyRef `json:"configMapKeyRef,omitempty"`
}

// ImageKeyRef names one key of a Secret or ConfigMap in the LivenessSession's namespace.
// +kubebuilder:validation:XValidation:rule="!has(self.__namespace__)",message="the reference image must be in the LivenessSession's own namespace: remove referenceImage's namespace (cross-namespace references are not allowed)"
type ImageKeyRef struct {
	// Name of the Secret or ConfigMap.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	Name string `json:"name"`
	// Key within it.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[-._a-zA-Z0-9]+$`
	Key string `json:"key"`
	// Namespace is not allowed: the image must be in the LivenessSession's namespace. The field
	// exists only so that a manifest setting it is rejected with a message that says so,
	// rather than having the field silently dropped.
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// VerifyReference is the reference image as Face saw it.
type VerifyReference struct {
	// ReferenceType is the image type (Color, Infrared, Depth).
	ReferenceType string `json:"referenceType"`
	// FaceRectangle is where Face found the face in the reference image.
	// +optional
	FaceRectangle *FaceRectangle `json:"faceRectangle,omitempty"`
	// QualityForRecognition is low, medium or high.
	// +optional
	QualityForRecognition string `json:"qualityForRecognition,omitempty"`
}
