package face

import "strings"

// The Face enums are declared extensible (x-ms-enum modelAsString) and the published examples
// misspell some of them, so every enum is a string type that keeps whatever the service sent and
// is compared case-insensitively through Is.

// LivenessOperationMode selects the liveness technique the client SDK uses.
type LivenessOperationMode string

const (
	// LivenessOperationModePassive needs no user action; the only mode the mobile SDKs support.
	LivenessOperationModePassive LivenessOperationMode = "Passive"
	// LivenessOperationModePassiveActive may ask the user to move; recommended for web clients.
	LivenessOperationModePassiveActive LivenessOperationMode = "PassiveActive"
)

// Is compares case-insensitively.
func (m LivenessOperationMode) Is(other LivenessOperationMode) bool {
	return strings.EqualFold(string(m), string(other))
}

// LivenessModelVersion20241115 is the only liveness model version in v1.2.
const LivenessModelVersion20241115 = "2024-11-15"

// OperationState is the state of a session (status) or of one attempt (attemptStatus).
type OperationState string

const (
	// OperationStateNotStarted: nothing has happened yet. The examples also report it for
	// sessions that have finished attempts, so do not use the session status as the outcome.
	OperationStateNotStarted OperationState = "NotStarted"
	// OperationStateRunning is in progress.
	OperationStateRunning OperationState = "Running"
	// OperationStateSucceeded finished with a result.
	OperationStateSucceeded OperationState = "Succeeded"
	// OperationStateFailed finished with an error.
	OperationStateFailed OperationState = "Failed"
	// OperationStateCanceled was cancelled (one "l", as on the wire).
	OperationStateCanceled OperationState = "Canceled"
)

// Is compares case-insensitively.
func (s OperationState) Is(other OperationState) bool {
	return strings.EqualFold(string(s), string(other))
}

// IsTerminal reports Succeeded, Failed or Canceled: states that will not change again.
func (s OperationState) IsTerminal() bool {
	return s.Is(OperationStateSucceeded) || s.Is(OperationStateFailed) || s.Is(OperationStateCanceled)
}

// LivenessDecision is the liveness verdict of an attempt. The wire values are lowercase, but
// examples send "realFace", so compare through Is or Normalized.
type LivenessDecision string

const (
	// LivenessDecisionUncertain: the model could not decide.
	LivenessDecisionUncertain LivenessDecision = "uncertain"
	// LivenessDecisionRealFace: a live person.
	LivenessDecisionRealFace LivenessDecision = "realface"
	// LivenessDecisionSpoofFace: a presentation attack.
	LivenessDecisionSpoofFace LivenessDecision = "spoofface"
)

// Normalized returns the lowercase form, which is the spec spelling of the known values.
func (d LivenessDecision) Normalized() LivenessDecision {
	return LivenessDecision(strings.ToLower(string(d)))
}

// Is compares case-insensitively.
func (d LivenessDecision) Is(other LivenessDecision) bool {
	return strings.EqualFold(string(d), string(other))
}

// ImageType is the kind of a verify reference image. Examples send "image", which is kept as-is.
type ImageType string

const (
	// ImageTypeColor is a colour image.
	ImageTypeColor ImageType = "Color"
	// ImageTypeInfrared is an infrared image.
	ImageTypeInfrared ImageType = "Infrared"
	// ImageTypeDepth is a depth image.
	ImageTypeDepth ImageType = "Depth"
)

// Is compares case-insensitively.
func (t ImageType) Is(other ImageType) bool { return strings.EqualFold(string(t), string(other)) }

// QualityForRecognition grades whether an image is good enough for face recognition.
type QualityForRecognition string

const (
	// QualityForRecognitionLow is too poor for reliable recognition.
	QualityForRecognitionLow QualityForRecognition = "low"
	// QualityForRecognitionMedium may work.
	QualityForRecognitionMedium QualityForRecognition = "medium"
	// QualityForRecognitionHigh is suitable.
	QualityForRecognitionHigh QualityForRecognition = "high"
)

// Is compares case-insensitively.
func (q QualityForRecognition) Is(other QualityForRecognition) bool {
	return strings.EqualFold(string(q), string(other))
}
