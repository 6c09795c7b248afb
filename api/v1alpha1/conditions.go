package v1alpha1

// Condition types. Ready, Reconciling and Stalled follow kstatus, so kubectl wait and Flux read
// a LivenessSession's health directly; Argo CD reads it through config/argocd's health checks.
const (
	// ConditionReady is True when the cloud session exists and its token Secret is published.
	ConditionReady = "Ready"
	// ConditionReconciling is True while the operator is still working towards Ready.
	ConditionReconciling = "Reconciling"
	// ConditionStalled is True when progress needs a human: the spec, credentials or a
	// conflicting Secret must be fixed.
	ConditionStalled = "Stalled"
	// ConditionCompleted is True once the end user's check has a final outcome; its reason is
	// the outcome (Live, Verified, NotVerified, Spoof, Uncertain, Failed, Expired).
	ConditionCompleted = "Completed"
	// ConditionSessionImageExported is present when spec.sessionImageSecretName is set: True once
	// the session image is in that Secret.
	ConditionSessionImageExported = "SessionImageExported"
)

// Condition reasons, CamelCase as metav1.Condition requires.
const (
	// ReasonSessionReady: the cloud session exists and its token Secret is published.
	ReasonSessionReady = "SessionReady"
	// ReasonFaceRejected: Face refused the request as invalid; fix the spec.
	ReasonFaceRejected = "FaceRejected"
	// ReasonCredentialsRejected: Face answered 401/403; fix the endpoint or key.
	ReasonCredentialsRejected = "CredentialsRejected"
	// ReasonServiceAccountNotFound: a FaceAccount's spec.credentials.entraID.serviceAccountName
	// names no ServiceAccount of its namespace, so there is no token to exchange for Entra ID.
	ReasonServiceAccountNotFound = "ServiceAccountNotFound"
	// ReasonThrottled: Face answered 429; the operator waits for Retry-After.
	ReasonThrottled = "Throttled"
	// ReasonFaceUnavailable: Face failed transiently (5xx, timeout); the operator retries.
	ReasonFaceUnavailable = "FaceUnavailable"
	// ReasonCreateOutcomeUnknown: a create may have reached Face without its answer being
	// recorded (a crash or lost response in the one unavoidable window); the session it may
	// have made is unreachable and expires on its own. The operator creates a new one.
	ReasonCreateOutcomeUnknown = "CreateOutcomeUnknown"
	// ReasonSecretConflict: a Secret with the token Secret's name exists and is not owned by
	// this resource; the operator leaves it alone.
	ReasonSecretConflict = "SecretConflict"
	// ReasonTokenSecretLost: the token Secret was deleted after publication; Face never hands
	// the token out again, so the session must be recreated.
	ReasonTokenSecretLost = "TokenSecretLost"
	// ReasonEndpointNotAllowed: a namespaced FaceAccount's endpoint does not match the manager's
	// --allowed-face-endpoints; no request is sent to it.
	ReasonEndpointNotAllowed = "EndpointNotAllowed"
	// ReasonTokenSecretRejected: the API server refused to create the token Secret (an invalid
	// name or metadata); the cloud session was deleted and no other is created for this spec.
	ReasonTokenSecretRejected = "TokenSecretRejected"
	// ReasonTooManyUnconfirmedCreates: several creates for this resource went unconfirmed (each
	// may have left a billed session behind); the operator stops creating until a human looks.
	ReasonTooManyUnconfirmedCreates = "TooManyUnconfirmedCreates"
	// ReasonSessionGone: Face no longer knows the session (it expired or was deleted outside
	// the operator).
	ReasonSessionGone = "SessionGone"
	// ReasonWaitingForAttempt: the session is ready and no attempt has finished yet.
	ReasonWaitingForAttempt = "WaitingForAttempt"
	// ReasonReferenceImageNotFound: the reference image's Secret, ConfigMap or key does not
	// exist (yet); the operator waits and reacts when it appears.
	ReasonReferenceImageNotFound = "ReferenceImageNotFound"
	// ReasonInvalidReferenceImage: the reference image is not a usable image (format, size or
	// dimensions); it never reaches Face.
	ReasonInvalidReferenceImage = "InvalidReferenceImage"
	// ReasonSessionImageExported: the session image is in its Secret.
	ReasonSessionImageExported = "SessionImageExported"
	// ReasonSessionImageExportFailed: the session image could not be exported yet.
	ReasonSessionImageExportFailed = "SessionImageExportFailed"
)

// Annotations the operator reads or writes on a LivenessSession.
const (
	// AnnotationCreatePending records, before the non-idempotent Face create is sent, that a
	// create is under way. It is written with optimistic concurrency so two reconciles that
	// both saw a stale object cannot both create.
	AnnotationCreatePending = "face.liveness-operator.io/create-pending"
	// AnnotationSyncRequestedAt lets the app server ask for an immediate result sync (its
	// frontend told it the end user finished); the value is a timestamp.
	AnnotationSyncRequestedAt = "face.liveness-operator.io/sync-requested-at"
)

// Token Secret contract: the keys, labels and annotations that consumers may rely on.
const (
	// SecretKeyAuthToken holds the session's auth token for the Face client SDK.
	SecretKeyAuthToken = "authToken"
	// SecretKeySessionID holds the Face session id.
	SecretKeySessionID = "sessionId"
	// SecretKeyExpiresAt holds the token's expiry time in RFC 3339.
	SecretKeyExpiresAt = "expiresAt"
	// SecretType is the type of token Secrets.
	SecretType = "face.liveness-operator.io/auth-token"
	// LabelManagedBy marks Secrets the operator manages; the operator caches only these.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy on the operator's Secrets.
	ManagedByValue = "liveness-operator"
	// LabelSessionName names the LivenessSession that owns a token Secret.
	LabelSessionName = "face.liveness-operator.io/session-name"
	// AnnotationSessionID carries the Face session id on the token Secret.
	AnnotationSessionID = "face.liveness-operator.io/session-id"
	// AnnotationExpiresAt carries the token's expiry (RFC 3339) on the token Secret.
	AnnotationExpiresAt = "face.liveness-operator.io/expires-at"
	// AnnotationSignature carries the operator's signature over the session id, the owning
	// resource's UID and the expiry (package tokenmac): the operator trusts a token Secret's
	// session only when it verifies, since anyone who can create Secrets can forge ownership.
	AnnotationSignature = "face.liveness-operator.io/signature"
	// SecretKeySessionImage holds the exported session image's bytes.
	SecretKeySessionImage = "image"
	// SecretKeySessionImageID holds the exported session image's Face id.
	SecretKeySessionImageID = "sessionImageId"
	// SessionImageSecretType is the type of exported session image Secrets.
	SessionImageSecretType = "face.liveness-operator.io/session-image"
	// FinalizerName is the finalizer that deletes the cloud session before the resource goes.
	FinalizerName = "face.liveness-operator.io/session"
)
