package emulator

import (
	"sync"
	"time"
)

// sessionKind tells the two session families apart. They live in separate URL
// namespaces: a liveness session is not found under detectLivenessWithVerify-sessions
// and vice versa.
type sessionKind uint8

const (
	kindLiveness sessionKind = iota
	kindLivenessWithVerify
)

// String is the kind's name in the inventory.
func (k sessionKind) String() string {
	if k == kindLivenessWithVerify {
		return "livenessWithVerify"
	}
	return "liveness"
}

// session is one stored session. Immutable fields are set before the session is
// published in the store; the mutable ones below mu are guarded by it.
type session struct {
	id                  string
	kind                sessionKind
	token               string
	keyID               string
	createdAt           time.Time
	expiresAt           time.Time // createdAt + SessionLifetime: after it the session answers 404
	tokenExpiresAt      time.Time
	ttlSeconds          int
	mode                string
	deviceCorrelationID string
	correlationInClient bool
	enableSessionImage  bool
	modelVersion        string
	verify              *verifySettings // nil for plain liveness sessions

	// apiVersion is the version the session was created under. The v1.3 fields
	// below are zero for v1.2 sessions, whose attemptsAllowed is 1.
	apiVersion        string
	attemptsAllowed   int
	userCorrelationID string
	userInClient      bool
	expectedIP        string
	abuseMonitoring   bool // the key's setting when the session was created

	mu              sync.Mutex
	status          string
	attempts        []storedAttempt // ascending attemptId
	deleted         bool
	deletedAt       time.Time
	responseDropped bool
}

// verifySettings are the liveness-with-verify inputs kept after create. The image
// bytes themselves are not kept: only what results need (hash, reference).
type verifySettings struct {
	threshold  float64
	returnHash bool
	imageHash  string
	image      imageInfo
	imageBytes int
	reference  wireVerifyReference
}

// storedAttempt is a recorded attempt plus what the session-image and detect
// endpoints need to render and describe its image, and what the inventory shows of
// how it was made. For v1.3 sessions wire carries clientInformation and
// abuseMonitoringResult; a v1.2 read leaves them out.
type storedAttempt struct {
	wire     wireAttempt
	imageID  string
	faceRect wireFaceRectangle

	at                time.Time
	faceKey           string // "id:<faceId>" or "sha256:<digest>"; empty when the attempt named no face
	userCorrelationID string // the user the attempt counted for (session's, or the client's)
}

// isV13 reports whether the session was created under v1.3-preview.1.
func (s *session) isV13() bool { return s.apiVersion == APIVersionV13Preview1 }

// expired reports whether the session is past its lifetime at now.
func (s *session) expired(now time.Time) bool { return !now.Before(s.expiresAt) }

// visibleLocked reports whether the Face API can still see the session. s.mu held.
func (s *session) visibleLocked(now time.Time) bool { return !s.deleted && !s.expired(now) }

// wireLocked renders the session as the spec's LivenessSession or
// LivenessWithVerifySession of the version the request came in under (v13). Attempts
// are listed newest first, as in the examples. A v1.2 read shows no v1.3 field, even
// of a v1.3 session; a v1.3 read of a v1.2 session reports abuse monitoring off.
// s.mu held.
func (s *session) wireLocked(v13 bool) wireSession {
	attempts := make([]wireAttempt, len(s.attempts))
	for i, a := range s.attempts {
		wa := a.wire
		if !v13 {
			wa.ClientInformation, wa.AbuseMonitoringResult = nil, nil
		}
		attempts[len(s.attempts)-1-i] = wa
	}
	ws := wireSession{
		SessionID:    s.id,
		AuthToken:    s.token,
		Status:       s.status,
		ModelVersion: s.modelVersion,
	}
	if v13 {
		on := s.abuseMonitoring
		ws.IsAbuseMonitoringEnabled = &on
		ws.ExpectedClientIPAddress = s.expectedIP
	}
	if s.kind == kindLivenessWithVerify {
		ws.Results = &wireVerifyResults{
			Attempts:         attempts,
			VerifyReferences: []wireVerifyReference{s.verify.reference},
		}
	} else {
		ws.Results = &wireLivenessResults{Attempts: attempts}
	}
	return ws
}

// SessionInfo is one entry of the emulator's inventory (GET /emulator/sessions and
// Server.Sessions). It includes sessions the Face API no longer shows (deleted or
// expired) and sessions whose create response was dropped.
type SessionInfo struct {
	// SessionID is the session's id.
	SessionID string `json:"sessionId"`
	// Kind is "liveness" or "livenessWithVerify".
	Kind string `json:"kind"`
	// Status is the session status as the Face API reports it.
	Status string `json:"status"`
	// CreatedDateTime is when the create was committed.
	CreatedDateTime time.Time `json:"createdDateTime"`
	// ExpiresDateTime is when the session stops being readable (created + lifetime).
	ExpiresDateTime time.Time `json:"expiresDateTime"`
	// Expired is true once ExpiresDateTime has passed.
	Expired bool `json:"expired"`
	// Deleted is true after a successful DELETE.
	Deleted bool `json:"deleted"`
	// DeletedDateTime is when the session was deleted, if it was.
	DeletedDateTime *time.Time `json:"deletedDateTime,omitempty"`
	// ResponseDropped is true when the create was committed but its response was
	// never sent (commit-then-drop fault).
	ResponseDropped bool `json:"responseDropped"`
	// APIKey identifies the credential that created the session ("key#0",
	// "bearer#1"); never the secret itself.
	APIKey string `json:"apiKey"`
	// LivenessOperationMode is the mode given at create.
	LivenessOperationMode string `json:"livenessOperationMode"`
	// DeviceCorrelationID is the id given at create, if any.
	DeviceCorrelationID string `json:"deviceCorrelationId,omitempty"`
	// DeviceCorrelationIDSetInClient is the flag given at create.
	DeviceCorrelationIDSetInClient bool `json:"deviceCorrelationIdSetInClient"`
	// EnableSessionImage is the flag given at create.
	EnableSessionImage bool `json:"enableSessionImage"`
	// AuthToken is the session's token, so a test can play the end user for a
	// session whose create response it never saw (e.g. one the operator created).
	AuthToken string `json:"authToken"`
	// AuthTokenTTLSeconds is the token lifetime given at create (default 600).
	AuthTokenTTLSeconds int `json:"authTokenTimeToLiveInSeconds"`
	// AuthTokenExpiresAt is when the token stops being accepted.
	AuthTokenExpiresAt time.Time `json:"authTokenExpiresAt"`
	// Attempts is the number of recorded attempts.
	Attempts int `json:"attempts"`
	// VerifyConfidenceThreshold is the threshold in effect for isIdentical
	// (verify sessions only; the default when none was given).
	VerifyConfidenceThreshold *float64 `json:"verifyConfidenceThreshold,omitempty"`
	// ReturnVerifyImageHash is the flag given at create (verify sessions only).
	ReturnVerifyImageHash bool `json:"returnVerifyImageHash,omitempty"`
	// VerifyImage describes the uploaded reference image (verify sessions only), so a
	// test can check what a client sent without the service echoing it.
	VerifyImage *VerifyImageInfo `json:"verifyImage,omitempty"`

	// APIVersion is the version the session was created under ("v1.2" or
	// "v1.3-preview.1").
	APIVersion string `json:"apiVersion"`
	// NumberOfClientAttemptsAllowed is the attempt limit of the token (1 under v1.2).
	NumberOfClientAttemptsAllowed int `json:"numberOfClientAttemptsAllowed"`
	// AttemptsRemaining is the limit minus the attempts recorded.
	AttemptsRemaining int `json:"attemptsRemaining"`
	// UserCorrelationID is the id given at create (v1.3), if any.
	UserCorrelationID string `json:"userCorrelationId,omitempty"`
	// UserCorrelationIDSetInClient is the flag given at create (v1.3).
	UserCorrelationIDSetInClient bool `json:"userCorrelationIdSetInClient,omitempty"`
	// ExpectedClientIPAddress is the IP/CIDR given at create (v1.3), if any.
	ExpectedClientIPAddress string `json:"expectedClientIpAddress,omitempty"`
	// AbuseMonitoringEnabled is the key's setting snapshotted at create (false under v1.2).
	AbuseMonitoringEnabled bool `json:"abuseMonitoringEnabled"`
	// AttemptLog describes each recorded attempt, oldest first: what the emulated
	// device sent and what abuse monitoring concluded.
	AttemptLog []AttemptInfo `json:"attemptLog,omitempty"`
}

// AttemptInfo is one attempt in SessionInfo.AttemptLog.
type AttemptInfo struct {
	// AttemptID is the attempt's attemptId.
	AttemptID int32 `json:"attemptId"`
	// AttemptStatus is "Succeeded" or "Failed".
	AttemptStatus string `json:"attemptStatus"`
	// RecordedDateTime is when the attempt was recorded.
	RecordedDateTime time.Time `json:"recordedDateTime"`
	// ClientIPs are the addresses recorded in clientInformation (v1.3).
	ClientIPs []string `json:"clientIps,omitempty"`
	// FaceKey is the face the attempt named: "id:<faceId>" or "sha256:<digest>" (v1.3).
	FaceKey string `json:"faceKey,omitempty"`
	// UserCorrelationID is the user id the attempt counted for (v1.3).
	UserCorrelationID string `json:"userCorrelationId,omitempty"`
	// AbuseDetected is the attempt's isAbuseDetected (false when not monitored).
	AbuseDetected bool `json:"abuseDetected"`
	// FlaggedSessions are the attempt's otherFlaggedSessions.
	FlaggedSessions []FlaggedAttempt `json:"flaggedSessions,omitempty"`
}

// FlaggedAttempt names an attempt in another (or the same) session.
type FlaggedAttempt struct {
	// SessionID is the session's id.
	SessionID string `json:"sessionId"`
	// AttemptID is the attempt's attemptId in that session.
	AttemptID int32 `json:"attemptId"`
	// SessionImageID is that attempt's session image, if it has one.
	SessionImageID string `json:"sessionImageId,omitempty"`
}

// VerifyImageInfo describes a liveness-with-verify session's reference image.
type VerifyImageInfo struct {
	// Format is "jpeg", "png", "gif" or "bmp".
	Format string `json:"format"`
	// Width is the image's width in pixels.
	Width int `json:"width"`
	// Height is the image's height in pixels.
	Height int `json:"height"`
	// Bytes is the file size.
	Bytes int `json:"bytes"`
	// SHA256 is the uppercase hex SHA-256 of the file (what verifyImageHash reports).
	SHA256 string `json:"sha256"`
}

// info renders the inventory entry at now.
func (s *session) info(now time.Time) SessionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	si := SessionInfo{
		SessionID:                      s.id,
		Kind:                           s.kind.String(),
		Status:                         s.status,
		CreatedDateTime:                s.createdAt.UTC(),
		ExpiresDateTime:                s.expiresAt.UTC(),
		Expired:                        s.expired(now),
		Deleted:                        s.deleted,
		ResponseDropped:                s.responseDropped,
		APIKey:                         s.keyID,
		LivenessOperationMode:          s.mode,
		DeviceCorrelationID:            s.deviceCorrelationID,
		DeviceCorrelationIDSetInClient: s.correlationInClient,
		EnableSessionImage:             s.enableSessionImage,
		AuthToken:                      s.token,
		AuthTokenTTLSeconds:            s.ttlSeconds,
		AuthTokenExpiresAt:             s.tokenExpiresAt.UTC(),
		Attempts:                       len(s.attempts),
		APIVersion:                     s.apiVersion,
		NumberOfClientAttemptsAllowed:  s.attemptsAllowed,
		AttemptsRemaining:              max(0, s.attemptsAllowed-len(s.attempts)),
		UserCorrelationID:              s.userCorrelationID,
		UserCorrelationIDSetInClient:   s.userInClient,
		ExpectedClientIPAddress:        s.expectedIP,
		AbuseMonitoringEnabled:         s.abuseMonitoring,
	}
	for _, a := range s.attempts {
		ai := AttemptInfo{
			AttemptID: a.wire.AttemptID, AttemptStatus: a.wire.AttemptStatus, RecordedDateTime: a.at.UTC(),
			FaceKey: a.faceKey, UserCorrelationID: a.userCorrelationID,
		}
		for _, ci := range a.wire.ClientInformation {
			ai.ClientIPs = append(ai.ClientIPs, ci.IP)
		}
		if am := a.wire.AbuseMonitoringResult; am != nil {
			ai.AbuseDetected = am.IsAbuseDetected
			for _, f := range am.OtherFlaggedSessions {
				ai.FlaggedSessions = append(ai.FlaggedSessions, FlaggedAttempt{SessionID: f.SessionID, AttemptID: f.AttemptID, SessionImageID: f.SessionImageID})
			}
		}
		si.AttemptLog = append(si.AttemptLog, ai)
	}
	if s.deleted {
		t := s.deletedAt.UTC()
		si.DeletedDateTime = &t
	}
	if s.verify != nil {
		th := s.verify.threshold
		si.VerifyConfidenceThreshold = &th
		si.ReturnVerifyImageHash = s.verify.returnHash
		si.VerifyImage = &VerifyImageInfo{
			Format: s.verify.image.format, Width: s.verify.image.width, Height: s.verify.image.height,
			Bytes: s.verify.imageBytes, SHA256: s.verify.imageHash,
		}
	}
	return si
}
