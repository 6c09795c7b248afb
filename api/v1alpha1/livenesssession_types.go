package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// OperationMode is the liveness operation mode of a Face session.
// +kubebuilder:validation:Enum=Passive;PassiveActive
type OperationMode string

const (
	// OperationModePassive is the only mode the Face mobile SDKs support.
	OperationModePassive OperationMode = "Passive"
	// OperationModePassiveActive is the mode Face recommends for the web SDK.
	OperationModePassiveActive OperationMode = "PassiveActive"
)

// DeletionPolicy says what happens to the cloud session when the resource is deleted.
// +kubebuilder:validation:Enum=Delete;Orphan
type DeletionPolicy string

const (
	// DeletionPolicyDelete deletes the cloud session (revoking its token) with the resource.
	DeletionPolicyDelete DeletionPolicy = "Delete"
	// DeletionPolicyOrphan leaves the cloud session to expire on its own.
	DeletionPolicyOrphan DeletionPolicy = "Orphan"
)

// LivenessSessionSpec describes the Face liveness session to create. A cloud session cannot
// be changed once created, so every field except deletionPolicy and ttlSecondsAfterFinished
// is immutable. One transition rule checks them all (an unset field differs from a set one)
// and names the first changed field in its message. It starts with self == oldSelf: the API
// server evaluates it on every update, status and metadata writes included, where the spec is
// unchanged and one comparison of two small objects replaces a lookup of every field (the
// share of CEL in the API server's CPU during the burst fell from 7 % to 3 %, issue 13's
// profiles in reports/).
//
// +kubebuilder:validation:XValidation:rule="has(self.deviceCorrelationId) != (has(self.deviceCorrelationIdSetInClient) && self.deviceCorrelationIdSetInClient)",message="set exactly one of spec.deviceCorrelationId (a unique id of the end user's device) or spec.deviceCorrelationIdSetInClient: true (the client SDK supplies it)"
// +kubebuilder:validation:XValidation:rule="self == oldSelf || ((self.operationMode == oldSelf.operationMode) && (has(self.deviceCorrelationId) == has(oldSelf.deviceCorrelationId) && (!has(self.deviceCorrelationId) || self.deviceCorrelationId == oldSelf.deviceCorrelationId)) && ((has(self.deviceCorrelationIdSetInClient) && self.deviceCorrelationIdSetInClient) == (has(oldSelf.deviceCorrelationIdSetInClient) && oldSelf.deviceCorrelationIdSetInClient)) && ((has(self.enableSessionImage) && self.enableSessionImage) == (has(oldSelf.enableSessionImage) && oldSelf.enableSessionImage)) && (has(self.livenessModelVersion) == has(oldSelf.livenessModelVersion) && (!has(self.livenessModelVersion) || self.livenessModelVersion == oldSelf.livenessModelVersion)) && (self.authTokenTimeToLiveInSeconds == oldSelf.authTokenTimeToLiveInSeconds) && (has(self.tokenSecretName) == has(oldSelf.tokenSecretName) && (!has(self.tokenSecretName) || self.tokenSecretName == oldSelf.tokenSecretName)) && (has(self.accountRef) == has(oldSelf.accountRef) && (!has(self.accountRef) || self.accountRef == oldSelf.accountRef)) && (has(self.verification) == has(oldSelf.verification) && (!has(self.verification) || self.verification == oldSelf.verification)) && (has(self.sessionImageSecretName) == has(oldSelf.sessionImageSecretName) && (!has(self.sessionImageSecretName) || self.sessionImageSecretName == oldSelf.sessionImageSecretName)) && (has(self.tokenSecretTemplate) == has(oldSelf.tokenSecretTemplate) && (!has(self.tokenSecretTemplate) || self.tokenSecretTemplate == oldSelf.tokenSecretTemplate)))",messageExpression="!(self.operationMode == oldSelf.operationMode) ? 'spec.operationMode is immutable: a cloud session cannot change; delete and recreate the LivenessSession' : !(has(self.deviceCorrelationId) == has(oldSelf.deviceCorrelationId) && (!has(self.deviceCorrelationId) || self.deviceCorrelationId == oldSelf.deviceCorrelationId)) ? 'spec.deviceCorrelationId is immutable: a cloud session cannot change; delete and recreate the LivenessSession' : !((has(self.deviceCorrelationIdSetInClient) && self.deviceCorrelationIdSetInClient) == (has(oldSelf.deviceCorrelationIdSetInClient) && oldSelf.deviceCorrelationIdSetInClient)) ? 'spec.deviceCorrelationIdSetInClient is immutable: a cloud session cannot change; delete and recreate the LivenessSession' : !((has(self.enableSessionImage) && self.enableSessionImage) == (has(oldSelf.enableSessionImage) && oldSelf.enableSessionImage)) ? 'spec.enableSessionImage is immutable: a cloud session cannot change; delete and recreate the LivenessSession' : !(has(self.livenessModelVersion) == has(oldSelf.livenessModelVersion) && (!has(self.livenessModelVersion) || self.livenessModelVersion == oldSelf.livenessModelVersion)) ? 'spec.livenessModelVersion is immutable: a cloud session cannot change; delete and recreate the LivenessSession' : !(self.authTokenTimeToLiveInSeconds == oldSelf.authTokenTimeToLiveInSeconds) ? 'spec.authTokenTimeToLiveInSeconds is immutable: a cloud session cannot change; delete and recreate the LivenessSession' : !(has(self.tokenSecretName) == has(oldSelf.tokenSecretName) && (!has(self.tokenSecretName) || self.tokenSecretName == oldSelf.tokenSecretName)) ? 'spec.tokenSecretName is immutable: the token was published under the first name; delete and recreate the LivenessSession' : !(has(self.accountRef) == has(oldSelf.accountRef) && (!has(self.accountRef) || self.accountRef == oldSelf.accountRef)) ? 'spec.accountRef is immutable: the cloud session lives in the Face resource of the first account; delete and recreate the LivenessSession' : !(has(self.verification) == has(oldSelf.verification) && (!has(self.verification) || self.verification == oldSelf.verification)) ? 'spec.verification is immutable: a cloud session cannot change; delete and recreate the LivenessSession' : !(has(self.sessionImageSecretName) == has(oldSelf.sessionImageSecretName) && (!has(self.sessionImageSecretName) || self.sessionImageSecretName == oldSelf.sessionImageSecretName)) ? 'spec.sessionImageSecretName is immutable; delete and recreate the LivenessSession' : !(has(self.tokenSecretTemplate) == has(oldSelf.tokenSecretTemplate) && (!has(self.tokenSecretTemplate) || self.tokenSecretTemplate == oldSelf.tokenSecretTemplate)) ? 'spec.tokenSecretTemplate is immutable: the token Secret was written with it; delete and recreate the LivenessSession' : 'the spec is immutable except deletionPolicy and ttlSecondsAfterFinished; delete and recreate the LivenessSession'"
// +kubebuilder:validation:XValidation:rule="!has(self.sessionImageSecretName) || (has(self.enableSessionImage) && self.enableSessionImage)",message="spec.sessionImageSecretName needs spec.enableSessionImage: true (Face stores no session image otherwise)"
// +kubebuilder:validation:XValidation:rule="!has(self.sessionImageSecretName) || !has(self.tokenSecretName) || self.sessionImageSecretName != self.tokenSecretName",message="spec.sessionImageSecretName must differ from spec.tokenSecretName"
type LivenessSessionSpec struct {
	// OperationMode is the Face liveness operation mode. Passive is the only mode the mobile
	// SDKs support; PassiveActive is recommended for the web SDK.
	// +kubebuilder:default=Passive
	// +optional
	OperationMode OperationMode `json:"operationMode,omitempty"`

	// DeviceCorrelationID identifies the end user's device; Face uses it for rate limiting and
	// anti-hammering. Set it, or set deviceCorrelationIdSetInClient, not both.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=256
	// +optional
	DeviceCorrelationID string `json:"deviceCorrelationId,omitempty"`

	// DeviceCorrelationIDSetInClient says the client SDK supplies the device correlation id.
	// +optional
	DeviceCorrelationIDSetInClient bool `json:"deviceCorrelationIdSetInClient,omitempty"`

	// EnableSessionImage asks Face to store the session image, so that attempts report a
	// sessionImageId usable with follow-up face operations (biometric data: off by default).
	// +optional
	EnableSessionImage bool `json:"enableSessionImage,omitempty"`

	// LivenessModelVersion pins the Face liveness model (for example 2024-11-15); Face picks
	// the latest when it is empty.
	// +kubebuilder:validation:Pattern=`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
	// +optional
	LivenessModelVersion string `json:"livenessModelVersion,omitempty"`

	// AuthTokenTimeToLiveInSeconds is the lifetime of the session's auth token, 60 to 86400.
	// +kubebuilder:default=600
	// +kubebuilder:validation:Minimum=60
	// +kubebuilder:validation:Maximum=86400
	// +optional
	AuthTokenTimeToLiveInSeconds int32 `json:"authTokenTimeToLiveInSeconds,omitempty"`

	// TokenSecretName names the Secret, in the resource's namespace, that receives the auth
	// token. It defaults to the resource's own name.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	TokenSecretName string `json:"tokenSecretName,omitempty"`

	// AccountRef names the Face account (a FaceAccount in this namespace, or a
	// ClusterFaceAccount) to create the session with. Empty: the manager's default account
	// (FACE_ENDPOINT and FACE_APIKEY).
	// +optional
	AccountRef *AccountReference `json:"accountRef,omitempty"`

	// Verification makes this a liveness-with-verify session: Face also checks that the live
	// person matches the reference image.
	// +optional
	Verification *VerificationSpec `json:"verification,omitempty"`

	// SessionImageSecretName, when set, has the operator download the session image of the
	// latest attempt into this Secret (key "image"), owned by the resource so it is deleted with
	// it. Needs enableSessionImage. Off by default: the image is biometric data.
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:Pattern=`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`
	// +optional
	SessionImageSecretName string `json:"sessionImageSecretName,omitempty"`

	// TokenSecretTemplate adds labels and annotations to the token Secret, so that tools which
	// select Secrets (Reloader, label selectors, policy engines) find it. The operator's own
	// keys (app.kubernetes.io/managed-by, face.liveness-operator.io/*) cannot be set.
	// +optional
	TokenSecretTemplate *SecretTemplate `json:"tokenSecretTemplate,omitempty"`

	// DeletionPolicy says whether deleting the resource deletes the cloud session (Delete, the
	// default) or leaves it to expire (Orphan). It may change at any time.
	// +kubebuilder:default=Delete
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// TTLSecondsAfterFinished removes the resource (and with it the cloud session, the token
	// Secret and any session image Secret) this many seconds after its outcome became final
	// (an expired session counts as finished), like a Job's. 0 removes it at once. Unset: the
	// manager's --default-ttl-seconds-after-finished (24 h unless changed; 0 there keeps
	// finished sessions). It may change at any time.
	// +kubebuilder:validation:Minimum=0
	// +kubebuilder:validation:Maximum=31536000
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
}

// SecretTemplate is extra metadata for a Secret the operator writes.
type SecretTemplate struct {
	// Labels to add: at most 16, valid label keys and values.
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, k != 'app.kubernetes.io/managed-by' && !k.startsWith('face.liveness-operator.io/'))",message="spec.tokenSecretTemplate.labels may not set the operator's own labels (app.kubernetes.io/managed-by, face.liveness-operator.io/*)"
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 317 && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="spec.tokenSecretTemplate.labels: every key must be a valid label key ([prefix/]name, name at most 63 characters)"
	// +optional
	Labels map[string]LabelValue `json:"labels,omitempty"`
	// Annotations to add: at most 16, values of at most 4096 characters.
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, !k.startsWith('face.liveness-operator.io/'))",message="spec.tokenSecretTemplate.annotations may not set the operator's own annotations (face.liveness-operator.io/*)"
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 317 && k.matches('^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$'))",message="spec.tokenSecretTemplate.annotations: every key must be a valid annotation key ([prefix/]name)"
	// +optional
	Annotations map[string]AnnotationValue `json:"annotations,omitempty"`
}

// LabelValue is a label's value: at most 63 characters, alphanumeric at both ends.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$`
type LabelValue string

// AnnotationValue is an annotation's value, at most 4096 characters here.
// +kubebuilder:validation:MaxLength=4096
type AnnotationValue string

// Outcome is the consumer-facing summary of the end user's liveness check.
type Outcome string

const (
	// OutcomePending means no attempt has finished yet and the token is still valid.
	OutcomePending Outcome = "Pending"
	// OutcomeLive means the latest attempt found a real face.
	OutcomeLive Outcome = "Live"
	// OutcomeVerified means a liveness-with-verify attempt found a real face that matches the
	// reference image.
	OutcomeVerified Outcome = "Verified"
	// OutcomeNotVerified means a liveness-with-verify attempt found a real face that does not
	// match the reference image.
	OutcomeNotVerified Outcome = "NotVerified"
	// OutcomeSpoof means the latest attempt found a spoofed face.
	OutcomeSpoof Outcome = "Spoof"
	// OutcomeUncertain means Face could not decide.
	OutcomeUncertain Outcome = "Uncertain"
	// OutcomeFailed means the latest attempt ended with an error (for example a masked face).
	OutcomeFailed Outcome = "Failed"
	// OutcomeExpired means the token expired before any attempt finished.
	OutcomeExpired Outcome = "Expired"
)

// FaceRectangle is a face's bounding box in pixels.
type FaceRectangle struct {
	// Top is the distance from the image's top edge.
	Top int32 `json:"top"`
	// Left is the distance from the image's left edge.
	Left int32 `json:"left"`
	// Width of the box.
	Width int32 `json:"width"`
	// Height of the box.
	Height int32 `json:"height"`
}

// LivenessAttempt is one end-user attempt as Face reported it.
type LivenessAttempt struct {
	// AttemptID is Face's attempt number, from 1.
	AttemptID int32 `json:"attemptId"`
	// Status is the attempt's state (NotStarted, Running, Succeeded, Failed, Canceled).
	Status string `json:"status"`
	// LivenessDecision is Face's decision, lowercased: realface, spoofface or uncertain.
	// +optional
	LivenessDecision string `json:"livenessDecision,omitempty"`
	// Digest is the server-side digest of the attempt; a client digest that differs means the
	// result must not be trusted.
	// +optional
	Digest string `json:"digest,omitempty"`
	// SessionImageID identifies the stored session image (when enableSessionImage is set).
	// +optional
	SessionImageID string `json:"sessionImageId,omitempty"`
	// FaceRectangle is where Face found the face in the color image.
	// +optional
	FaceRectangle *FaceRectangle `json:"faceRectangle,omitempty"`
	// ErrorCode is Face's error code when the attempt failed (for example FaceWithMaskDetected).
	// +optional
	ErrorCode string `json:"errorCode,omitempty"`
	// ErrorMessage is Face's message when the attempt failed (at most 512 bytes).
	// +kubebuilder:validation:MaxLength=512
	// +optional
	ErrorMessage string `json:"errorMessage,omitempty"`
	// MatchConfidence is the verify match confidence (0 to 1) of a liveness-with-verify attempt.
	// +optional
	MatchConfidence string `json:"matchConfidence,omitempty"`
	// IsIdentical says whether Face found the live face identical to the reference image.
	// +optional
	IsIdentical *bool `json:"isIdentical,omitempty"`
	// VerifyImageHash is the SHA-256 of the reference image, when returnVerifyImageHash is set.
	// +optional
	VerifyImageHash string `json:"verifyImageHash,omitempty"`
}

// LivenessSessionStatus is the observed state of the cloud session and its token Secret.
type LivenessSessionStatus struct {
	// ObservedGeneration is the generation whose spec has been fully acted on.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// SessionID is the Face session id.
	// +optional
	SessionID string `json:"sessionId,omitempty"`

	// Account is the Face account the session was created with; reads and the delete always go
	// there. Empty for the manager's default account.
	// +optional
	Account *AccountReference `json:"account,omitempty"`

	// SessionStatus is the session's state as Face reports it.
	// +optional
	SessionStatus string `json:"sessionStatus,omitempty"`

	// ModelVersion is the liveness model Face used.
	// +optional
	ModelVersion string `json:"modelVersion,omitempty"`

	// CreatedAt is when the cloud session was created.
	// +optional
	CreatedAt *metav1.Time `json:"createdAt,omitempty"`

	// AuthTokenExpiresAt is when the session's auth token stops working.
	// +optional
	AuthTokenExpiresAt *metav1.Time `json:"authTokenExpiresAt,omitempty"`

	// TokenSecretName is the Secret that holds the auth token.
	// +optional
	TokenSecretName string `json:"tokenSecretName,omitempty"`

	// Attempts are the end user's attempts, as Face reported them: the latest 20, by attemptId.
	// +optional
	// +kubebuilder:validation:MaxItems=20
	// +listType=map
	// +listMapKey=attemptId
	Attempts []LivenessAttempt `json:"attempts,omitempty"`

	// VerifyReferences is the reference image as Face saw it (liveness-with-verify sessions).
	// +optional
	VerifyReferences []VerifyReference `json:"verifyReferences,omitempty"`

	// SessionImageSecretName is the Secret holding the exported session image, once written.
	// +optional
	SessionImageSecretName string `json:"sessionImageSecretName,omitempty"`

	// Outcome summarises the latest attempt: Pending, Live, Verified, NotVerified, Spoof,
	// Uncertain, Failed or Expired.
	// +optional
	Outcome Outcome `json:"outcome,omitempty"`

	// LivenessDecision is the latest attempt's decision (realface, spoofface, uncertain).
	// +optional
	LivenessDecision string `json:"livenessDecision,omitempty"`

	// CompletedAt is when the outcome became final.
	// +optional
	CompletedAt *metav1.Time `json:"completedAt,omitempty"`
	// RemoveAfter is when the operator removes the finished resource (spec.ttlSecondsAfterFinished
	// or the manager's default); unset while the outcome is pending or finished sessions are kept.
	// +optional
	RemoveAfter *metav1.Time `json:"removeAfter,omitempty"`

	// UnconfirmedCreates counts creates whose outcome the operator could not know (a crash or a
	// lost answer in the window between Face creating a session and the operator recording
	// it). Each such session is unreachable and expires with its token; the operator created
	// a replacement.
	// +optional
	UnconfirmedCreates int32 `json:"unconfirmedCreates,omitempty"`

	// ResolvedCreateClaim is the create-pending claim whose outcome is accounted for: the create
	// succeeded, failed with an answer from Face, or was reported as unknown. A claim annotation
	// that differs from it belongs to an interrupted create.
	// +optional
	ResolvedCreateClaim string `json:"resolvedCreateClaim,omitempty"`

	// Conditions follow kstatus: Ready (session exists and its token is published),
	// Reconciling, Stalled, and Completed (the end user's check has a final outcome).
	// +optional
	// +listType=map
	// +listMapKey=type
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// LivenessSession is one Azure AI Face liveness session: the operator creates it in Face,
// publishes its auth token in a Secret, follows its result and deletes it with the resource.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=liveness,categories=face
// +kubebuilder:printcolumn:name="Status",type=string,JSONPath=`.status.sessionStatus`
// +kubebuilder:printcolumn:name="Outcome",type=string,JSONPath=`.status.outcome`
// +kubebuilder:printcolumn:name="Decision",type=string,JSONPath=`.status.livenessDecision`
// +kubebuilder:printcolumn:name="Secret",type=string,JSONPath=`.status.tokenSecretName`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Removal",type=string,JSONPath=`.status.removeAfter`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:validation:XValidation:rule="!has(self.spec.sessionImageSecretName) || self.spec.sessionImageSecretName != (has(self.spec.tokenSecretName) ? self.spec.tokenSecretName : self.metadata.name)",message="spec.sessionImageSecretName must differ from the token Secret's name (spec.tokenSecretName, or the resource's name when that is unset): the two Secrets hold different things"
type LivenessSession struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired session.
	Spec LivenessSessionSpec `json:"spec"`
	// Status is the observed session.
	// +optional
	Status LivenessSessionStatus `json:"status,omitempty"`
}

// TokenSecretNameOrDefault is the name of the token Secret: spec.tokenSecretName or the
// resource's own name.
func (s *LivenessSession) TokenSecretNameOrDefault() string {
	if s.Spec.TokenSecretName != "" {
		return s.Spec.TokenSecretName
	}
	return s.Name
}

// +kubebuilder:object:root=true

// LivenessSessionList is a list of LivenessSessions.
type LivenessSessionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	// Items are the sessions.
	Items []LivenessSession `json:"items"`
}

func init() {
	SchemeBuilder.Register(&LivenessSession{}, &LivenessSessionList{})
}
