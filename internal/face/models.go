package face

import "fmt"

// CreateLivenessSessionRequest is the JSON body of POST /detectLiveness-sessions
// (CreateLivenessSessionContent). Optional fields are pointers or omitempty so that unset values
// are not sent and the service applies its own defaults.
type CreateLivenessSessionRequest struct {
	// LivenessOperationMode is required: Passive (mobile SDKs) or PassiveActive (web).
	LivenessOperationMode LivenessOperationMode `json:"livenessOperationMode"`
	// DeviceCorrelationIDSetInClient true means the client SDK supplies deviceCorrelationId;
	// DeviceCorrelationID must then be empty.
	DeviceCorrelationIDSetInClient *bool `json:"deviceCorrelationIdSetInClient,omitempty"`
	// DeviceCorrelationID identifies the end-user device for the service's rate limiting and
	// anti-hammering; required unless DeviceCorrelationIDSetInClient is true.
	DeviceCorrelationID string `json:"deviceCorrelationId,omitempty"`
	// EnableSessionImage makes the service keep the session image (needed for GetSessionImage
	// and DetectFromSessionImageID).
	EnableSessionImage *bool `json:"enableSessionImage,omitempty"`
	// LivenessModelVersion pins the model (only "2024-11-15" exists); empty means latest.
	LivenessModelVersion string `json:"livenessModelVersion,omitempty"`
	// AuthTokenTimeToLiveInSeconds is 60..86400; the service default is 600. A short TTL bounds
	// the damage of a session the operator loses track of.
	AuthTokenTimeToLiveInSeconds *int32 `json:"authTokenTimeToLiveInSeconds,omitempty"`

	// The fields below exist only in v1.3-preview.1. A client speaking v1.2 refuses a request
	// that sets any of them (ErrUnsupportedByAPIVersion) rather than dropping them silently.

	// NumberOfClientAttemptsAllowed is how many liveness checks the end user may run with one
	// authToken, 1..3; the service default is 1.
	NumberOfClientAttemptsAllowed *int32 `json:"numberOfClientAttemptsAllowed,omitempty"`
	// UserCorrelationID identifies the end user (a GUID per person, not per device) for the
	// service's rate limiting and abuse monitoring; must be empty when
	// UserCorrelationIDSetInClient is true. The service is reported to require one of the two.
	UserCorrelationID string `json:"userCorrelationId,omitempty"`
	// UserCorrelationIDSetInClient true means the client SDK supplies userCorrelationId.
	// JSON create only: the multipart create has no such part.
	UserCorrelationIDSetInClient *bool `json:"userCorrelationIdSetInClient,omitempty"`
	// ExpectedClientIPAddress is the IP address or CIDR block the end user's device is
	// expected to use. The service's reaction to a mismatch is undocumented, so check every
	// attempt's ClientInformation as well (CheckClientIPs, Verdict). JSON create only.
	ExpectedClientIPAddress string `json:"expectedClientIpAddress,omitempty"`
}

// CreateLivenessWithVerifySessionRequest is the multipart body of
// POST /detectLivenessWithVerify-sessions. Every set field becomes its own lowercase form part.
// Of the v1.3 fields, the multipart create takes numberOfClientAttemptsAllowed (in the spec) and
// userCorrelationId (not in the spec, sent because the service is reported to require it);
// UserCorrelationIDSetInClient true and ExpectedClientIPAddress have no part and are refused.
type CreateLivenessWithVerifySessionRequest struct {
	CreateLivenessSessionRequest // same fields, sent as multipart parts

	// ReturnVerifyImageHash asks for verifyImageHash (SHA-256 of the verify image) in results.
	ReturnVerifyImageHash *bool
	// VerifyConfidenceThreshold (0..1) is the threshold the service uses to set isIdentical.
	VerifyConfidenceThreshold *float64
	// VerifyImage is the reference image; required.
	VerifyImage []byte
	// VerifyImageFilename is the filename on the verifyImage part; default "verifyImage".
	VerifyImageFilename string
}

// FaceRectangle locates a face, in pixels.
type FaceRectangle struct {
	Top    int32 `json:"top"`    // distance from the top edge of the image
	Left   int32 `json:"left"`   // distance from the left edge of the image
	Width  int32 `json:"width"`  // rectangle width
	Height int32 `json:"height"` // rectangle height
}

// LivenessColorDecisionTarget is the colour-image target of a liveness decision.
type LivenessColorDecisionTarget struct {
	FaceRectangle FaceRectangle `json:"faceRectangle"` // the face the decision is about
}

// LivenessDecisionTargets holds the images the decision was made on.
type LivenessDecisionTargets struct {
	Color LivenessColorDecisionTarget `json:"color"` // the colour image (the only target in v1.2)
}

// LivenessResult is the outcome of a successful attempt.
type LivenessResult struct {
	// LivenessDecision is the verdict; compare with Is, as examples spell it "realFace".
	LivenessDecision LivenessDecision `json:"livenessDecision,omitempty"`
	// Targets locates the face the verdict is about.
	Targets LivenessDecisionTargets `json:"targets"`
	// Digest must match the digest the client SDK reports; otherwise the result is not trustworthy.
	Digest string `json:"digest"`
	// SessionImageID names the stored image when the session enabled it (opaque, not a UUID).
	SessionImageID string `json:"sessionImageId,omitempty"`
}

// LivenessError is the outcome of a failed attempt (e.g. FaceWithMaskDetected).
type LivenessError struct {
	Code    string                  `json:"code"`    // machine-readable reason
	Message string                  `json:"message"` // human-readable reason
	Targets LivenessDecisionTargets `json:"targets"` // the face the failure is about
}

// ClientInformation is what the service saw of the end user's device during an attempt
// (v1.3-preview.1).
type ClientInformation struct {
	// IP is the client address, as the service reports it (no format is specified).
	IP string `json:"ip"`
}

// OtherFlaggedSession names another session attempt that this attempt's data caused to be
// flagged for abuse. It may name a deleted session or the same session: treat it as opaque.
type OtherFlaggedSession struct {
	AttemptID      int32  `json:"attemptId"`                // the attempt within that session
	SessionID      string `json:"sessionId"`                // the flagged session; on a shared account it may be another tenant's
	SessionImageID string `json:"sessionImageId,omitempty"` // that attempt's session image, when it kept one
}

// AbuseMonitoringResult is the abuse verdict of one attempt (v1.3-preview.1). A realface
// decision and a positive abuse flag can come together: check both.
type AbuseMonitoringResult struct {
	IsAbuseDetected      bool                  `json:"isAbuseDetected"`      // the face recurred under other user correlation ids
	OtherFlaggedSessions []OtherFlaggedSession `json:"otherFlaggedSessions"` // the sessions flagged along with this one
}

// LivenessSessionAttempt is one try of the end user within a liveness session.
type LivenessSessionAttempt struct {
	AttemptID     int32           `json:"attemptId"`        // starts at 1; the highest is the latest
	AttemptStatus OperationState  `json:"attemptStatus"`    // state of this attempt
	Result        *LivenessResult `json:"result,omitempty"` // set when the attempt produced a verdict
	Error         *LivenessError  `json:"error,omitempty"`  // set when the attempt failed
	// ClientInformation lists the client addresses the service saw (v1.3; may hold several).
	ClientInformation []ClientInformation `json:"clientInformation,omitempty"`
	// AbuseMonitoringResult is the attempt's abuse verdict (v1.3; absent when not monitored).
	AbuseMonitoringResult *AbuseMonitoringResult `json:"abuseMonitoringResult,omitempty"`
}

// LivenessSessionResults lists the attempts made so far.
type LivenessSessionResults struct {
	Attempts []LivenessSessionAttempt `json:"attempts"` // in no guaranteed order; use LatestAttempt
}

// LivenessSession is returned by create and get of a liveness session.
type LivenessSession struct {
	// SessionID names the session in get and delete calls.
	SessionID string `json:"sessionId"`
	// AuthToken is the secret the client SDK uses; never log it. String() redacts it.
	AuthToken string `json:"authToken"`
	// Status is not a reliable completion signal (examples show NotStarted next to finished
	// attempts); derive the outcome from LatestAttempt.
	Status OperationState `json:"status"`
	// ModelVersion is the liveness model in use.
	ModelVersion string `json:"modelVersion,omitempty"`
	// IsAbuseMonitoringEnabled says whether abuse monitoring was on for this session (v1.3;
	// nil from v1.2). It is a snapshot taken at creation.
	IsAbuseMonitoringEnabled *bool `json:"isAbuseMonitoringEnabled,omitempty"`
	// ExpectedClientIPAddress is the IP/CIDR given at creation, sent back unchanged (v1.3).
	ExpectedClientIPAddress string `json:"expectedClientIpAddress,omitempty"`
	// Results holds the attempts.
	Results LivenessSessionResults `json:"results"`
}

// LatestAttempt returns the attempt with the highest attemptId, or nil. The service does not
// promise an order (examples list the newest first), hence the search.
func (s *LivenessSession) LatestAttempt() *LivenessSessionAttempt {
	if s == nil {
		return nil
	}
	var latest *LivenessSessionAttempt
	for i := range s.Results.Attempts {
		if a := &s.Results.Attempts[i]; latest == nil || a.AttemptID > latest.AttemptID {
			latest = a
		}
	}
	return latest
}

// String redacts AuthToken so that printing a session with %v does not leak the token.
func (s LivenessSession) String() string {
	return fmt.Sprintf("LivenessSession{SessionID:%s AuthToken:%s Status:%s ModelVersion:%s Attempts:%d}",
		s.SessionID, redacted(s.AuthToken), s.Status, s.ModelVersion, len(s.Results.Attempts))
}

// GoString redacts AuthToken for %#v as well.
func (s LivenessSession) GoString() string { return s.String() }

// LivenessWithVerifyOutputs is the face-verification part of a with-verify result.
type LivenessWithVerifyOutputs struct {
	MatchConfidence float64 `json:"matchConfidence"` // 0..1 similarity to the verify image
	IsIdentical     bool    `json:"isIdentical"`     // MatchConfidence reached the threshold
}

// LivenessWithVerifyResult is a LivenessResult plus the verification outcome.
type LivenessWithVerifyResult struct {
	LivenessResult // embedded: same JSON fields

	// VerifyResult compares the live face with the verify image.
	VerifyResult *LivenessWithVerifyOutputs `json:"verifyResult,omitempty"`
	// VerifyImageHash is the SHA-256 of the verify image, when ReturnVerifyImageHash was set.
	VerifyImageHash string `json:"verifyImageHash,omitempty"`
}

// LivenessWithVerifySessionAttempt is one try of the end user within a with-verify session.
type LivenessWithVerifySessionAttempt struct {
	AttemptID     int32                     `json:"attemptId"`        // starts at 1; the highest is the latest
	AttemptStatus OperationState            `json:"attemptStatus"`    // state of this attempt
	Result        *LivenessWithVerifyResult `json:"result,omitempty"` // set when the attempt produced a verdict
	Error         *LivenessError            `json:"error,omitempty"`  // set when the attempt failed
	// ClientInformation lists the client addresses the service saw (v1.3; may hold several).
	ClientInformation []ClientInformation `json:"clientInformation,omitempty"`
	// AbuseMonitoringResult is the attempt's abuse verdict (v1.3; absent when not monitored).
	AbuseMonitoringResult *AbuseMonitoringResult `json:"abuseMonitoringResult,omitempty"`
}

// LivenessWithVerifyReference describes the face found in the uploaded verify image.
type LivenessWithVerifyReference struct {
	ReferenceType         ImageType             `json:"referenceType"`         // examples send "image", kept as-is
	FaceRectangle         FaceRectangle         `json:"faceRectangle"`         // the face found in the verify image
	QualityForRecognition QualityForRecognition `json:"qualityForRecognition"` // whether it is good enough to verify against
}

// LivenessWithVerifySessionResults holds the verify references and the attempts.
type LivenessWithVerifySessionResults struct {
	VerifyReferences []LivenessWithVerifyReference      `json:"verifyReferences"` // filled at create time
	Attempts         []LivenessWithVerifySessionAttempt `json:"attempts"`         // use LatestAttempt
}

// LivenessWithVerifySession is returned by create and get of a with-verify session.
type LivenessWithVerifySession struct {
	// SessionID names the session in get and delete calls.
	SessionID string `json:"sessionId"`
	// AuthToken is the secret the client SDK uses; never log it. String() redacts it.
	AuthToken string `json:"authToken"`
	// Status is not a reliable completion signal; derive the outcome from LatestAttempt.
	Status OperationState `json:"status"`
	// ModelVersion is the liveness model in use.
	ModelVersion string `json:"modelVersion,omitempty"`
	// IsAbuseMonitoringEnabled says whether abuse monitoring was on for this session (v1.3;
	// nil from v1.2). It is a snapshot taken at creation.
	IsAbuseMonitoringEnabled *bool `json:"isAbuseMonitoringEnabled,omitempty"`
	// ExpectedClientIPAddress is the IP/CIDR given at creation, sent back unchanged (v1.3).
	ExpectedClientIPAddress string `json:"expectedClientIpAddress,omitempty"`
	// Results holds the verify references and the attempts.
	Results LivenessWithVerifySessionResults `json:"results"`
}

// LatestAttempt returns the attempt with the highest attemptId, or nil.
func (s *LivenessWithVerifySession) LatestAttempt() *LivenessWithVerifySessionAttempt {
	if s == nil {
		return nil
	}
	var latest *LivenessWithVerifySessionAttempt
	for i := range s.Results.Attempts {
		if a := &s.Results.Attempts[i]; latest == nil || a.AttemptID > latest.AttemptID {
			latest = a
		}
	}
	return latest
}

// String redacts AuthToken so that printing a session with %v does not leak the token.
func (s LivenessWithVerifySession) String() string {
	return fmt.Sprintf("LivenessWithVerifySession{SessionID:%s AuthToken:%s Status:%s ModelVersion:%s VerifyReferences:%d Attempts:%d}",
		s.SessionID, redacted(s.AuthToken), s.Status, s.ModelVersion, len(s.Results.VerifyReferences), len(s.Results.Attempts))
}

// GoString redacts AuthToken for %#v as well.
func (s LivenessWithVerifySession) GoString() string { return s.String() }

func redacted(secret string) string {
	if secret == "" {
		return ""
	}
	return "REDACTED"
}
