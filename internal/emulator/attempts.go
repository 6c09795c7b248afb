package emulator

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The end user's side. In the real system the client SDK on the user's device calls
// the service with the session authToken and the service records an attempt. The
// emulator replaces that device with POST /emulator/attempts (or Server.Attempt),
// which states the outcome the test wants and records the attempt exactly as the
// service reports it in results.attempts.

// DefaultMatchConfidence is the matchConfidence recorded for a verify session when
// the attempt does not give one: a confident match.
const DefaultMatchConfidence = 0.95

// maxAttemptsPerSession is 1 in v1.2 (numberOfClientAttemptsAllowed, which would
// raise it, only exists in v1.3-preview).
const maxAttemptsPerSession = 1

// AttemptRequest is the outcome the emulated end user produces. Exactly one of
// LivenessDecision and ErrorCode must be set.
type AttemptRequest struct {
	// LivenessDecision is "realface", "spoofface" or "uncertain" (any case accepted;
	// the spec's lowercase spelling is recorded).
	LivenessDecision string `json:"livenessDecision,omitempty"`
	// ErrorCode makes a failed attempt, e.g. "FaceWithMaskDetected".
	ErrorCode string `json:"errorCode,omitempty"`
	// ErrorMessage goes with ErrorCode; a standard message is used when empty.
	ErrorMessage string `json:"errorMessage,omitempty"`
	// MatchConfidence (0..1) is the verify score, for liveness-with-verify sessions
	// only; DefaultMatchConfidence when absent. isIdentical is matchConfidence >=
	// the session's verifyConfidenceThreshold (DefaultVerifyConfidenceThreshold when
	// the session set none).
	MatchConfidence *float64 `json:"matchConfidence,omitempty"`
}

// AttemptResponse describes the recorded attempt.
type AttemptResponse struct {
	// SessionID is the session the token belongs to.
	SessionID string `json:"sessionId"`
	// Kind is "liveness" or "livenessWithVerify".
	Kind string `json:"kind"`
	// Status is the session status after the attempt.
	Status string `json:"status"`
	// SessionImageID is the stored image's id, when the session enabled session images.
	SessionImageID string `json:"sessionImageId,omitempty"`
	// Attempt is the attempt exactly as it appears in the session's results.attempts.
	Attempt json.RawMessage `json:"attempt"`
}

// Error is a refusal from the emulator's side door (Server.Attempt); StatusCode and
// Code are what POST /emulator/attempts answers.
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is the error code (error.code and x-ms-error-code).
	Code string
	// Message says what is wrong.
	Message string
}

// Error formats the refusal as "status code: message".
func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.StatusCode, e.Code, e.Message) }

// knownAttemptErrors gives the service's message for liveness error codes it
// documents, so a test can give only the code.
var knownAttemptErrors = map[string]string{
	"FaceWithMaskDetected":  "Mask detected on face image.",
	"FaceNotDetected":       "No face detected in the image.",
	"MultipleFacesDetected": "Multiple faces detected in the image.",
}

// Attempt records an attempt for the session whose authToken is token, as the end
// user's device would. It returns *Error for a refused attempt.
func (s *Server) Attempt(token string, req AttemptRequest) (AttemptResponse, error) {
	resp, e := s.recordAttempt(token, req, s.now())
	if e != nil {
		return AttemptResponse{}, &Error{StatusCode: e.status, Code: e.code, Message: e.message}
	}
	return resp, nil
}

// handleAttempt is POST /emulator/attempts with "Authorization: Bearer <authToken>".
func (s *Server) handleAttempt(w http.ResponseWriter, r *http.Request) {
	token, ok := bearerToken(r)
	if !ok {
		writeError(w, newAPIError(http.StatusUnauthorized, codeInvalidAuthToken,
			"Missing session token: send the session's authToken as 'Authorization: Bearer <authToken>'."))
		return
	}
	m, e := decodeJSONObject(r)
	if e != nil {
		writeError(w, e)
		return
	}
	var req AttemptRequest
	if e := attemptFromJSON(m, &req); e != nil {
		writeError(w, e)
		return
	}
	resp, e := s.recordAttempt(token, req, s.now())
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// attemptFromJSON decodes the request with exact member names and clear type errors.
func attemptFromJSON(m map[string]json.RawMessage, req *AttemptRequest) *apiError {
	for name := range m {
		switch name {
		case "livenessDecision", "errorCode", "errorMessage", "matchConfidence":
		default:
			return badArgument("Unknown field '%s'; allowed: livenessDecision, errorCode, errorMessage, matchConfidence.", name)
		}
	}
	for name, dst := range map[string]*string{"livenessDecision": &req.LivenessDecision, "errorCode": &req.ErrorCode, "errorMessage": &req.ErrorMessage} {
		v, e := jsonString(m, name)
		if e != nil {
			return e
		}
		if v != nil {
			*dst = *v
		}
	}
	if raw, ok := m["matchConfidence"]; ok && string(raw) != "null" {
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil {
			return badArgument("Field 'matchConfidence' must be a number between 0 and 1 (got %s).", jsonKind(raw))
		}
		req.MatchConfidence = &f
	}
	return nil
}

// recordAttempt checks the token, then the request, then the attempt limit, and
// records the attempt.
func (s *Server) recordAttempt(token string, req AttemptRequest, now time.Time) (AttemptResponse, *apiError) {
	st := s.store.Load()
	sess := st.byToken.get(token)
	if sess == nil {
		return AttemptResponse{}, newAPIError(http.StatusUnauthorized, codeInvalidAuthToken,
			"The session token is not recognised; use the authToken of a session created on this emulator.")
	}
	sess.mu.Lock()
	defer sess.mu.Unlock()
	switch {
	case sess.deleted:
		return AttemptResponse{}, newAPIError(http.StatusUnauthorized, codeAuthTokenRevoked,
			"The session token was revoked: session '%s' has been deleted.", sess.id)
	case !now.Before(sess.tokenExpiresAt):
		return AttemptResponse{}, newAPIError(http.StatusUnauthorized, codeAuthTokenExpired,
			"The session token expired at %s (authTokenTimeToLiveInSeconds=%d).", sess.tokenExpiresAt.UTC().Format(time.RFC3339), sess.ttlSeconds)
	case sess.expired(now):
		return AttemptResponse{}, newAPIError(http.StatusUnauthorized, codeAuthTokenExpired,
			"Session '%s' has expired.", sess.id)
	}
	decision, e := validateAttempt(req, sess.kind)
	if e != nil {
		return AttemptResponse{}, e
	}
	if len(sess.attempts) >= maxAttemptsPerSession {
		return AttemptResponse{}, newAPIError(http.StatusConflict, codeAttemptLimitReached,
			"Session '%s' already has %d attempt(s); Face v1.2 allows %d attempt per session.", sess.id, len(sess.attempts), maxAttemptsPerSession)
	}

	a := storedAttempt{faceRect: faceRectFor(sess.id)}
	a.wire.AttemptID = int32(len(sess.attempts) + 1)
	targets := wireTargets{Color: wireColorTarget{FaceRectangle: a.faceRect}}
	attemptNo := strconv.Itoa(int(a.wire.AttemptID))
	if req.ErrorCode != "" {
		msg := req.ErrorMessage
		if msg == "" {
			if msg = knownAttemptErrors[req.ErrorCode]; msg == "" {
				msg = "Liveness attempt failed: " + req.ErrorCode + "."
			}
		}
		a.wire.AttemptStatus = stateFailed
		a.wire.Error = &wireLivenessError{Code: req.ErrorCode, Message: msg, Targets: targets}
	} else {
		res := &wireResult{LivenessDecision: decision, Targets: targets}
		if sess.enableSessionImage {
			a.imageID = newSessionImageID()
			res.SessionImageID = a.imageID
		}
		res.Digest = digestOf(sess.id, attemptNo, decision, a.imageID)
		if v := sess.verify; v != nil {
			mc := DefaultMatchConfidence
			if req.MatchConfidence != nil {
				mc = *req.MatchConfidence
			}
			res.VerifyResult = &wireVerifyOutputs{MatchConfidence: mc, IsIdentical: mc >= v.threshold}
			if v.returnHash {
				res.VerifyImageHash = v.imageHash
			}
		}
		a.wire.AttemptStatus = stateSucceeded
		a.wire.Result = res
	}
	sess.attempts = append(sess.attempts, a)
	if !s.cfg.StaleSessionStatus {
		// v1.2 allows one attempt, so the attempt's outcome is the session's.
		sess.status = a.wire.AttemptStatus
	}
	if a.imageID != "" {
		st.byImage.put(a.imageID, sess)
	}
	attemptJSON, _ := json.Marshal(a.wire)
	return AttemptResponse{
		SessionID:      sess.id,
		Kind:           sess.kind.String(),
		Status:         sess.status,
		SessionImageID: a.imageID,
		Attempt:        attemptJSON,
	}, nil
}

// validateAttempt checks the outcome and returns the decision in spec spelling.
func validateAttempt(req AttemptRequest, kind sessionKind) (string, *apiError) {
	hasDecision, hasError := req.LivenessDecision != "", req.ErrorCode != ""
	switch {
	case hasDecision && hasError:
		return "", badArgument("Give either 'livenessDecision' or 'errorCode', not both.")
	case !hasDecision && !hasError:
		return "", badArgument("Give 'livenessDecision' (realface, spoofface, uncertain) or 'errorCode' (e.g. FaceWithMaskDetected).")
	case req.ErrorMessage != "" && !hasError:
		return "", badArgument("'errorMessage' is only valid with 'errorCode'.")
	}
	if req.MatchConfidence != nil {
		if kind != kindLivenessWithVerify {
			return "", badArgument("'matchConfidence' is only valid for liveness-with-verify sessions.")
		}
		if mc := *req.MatchConfidence; math.IsNaN(mc) || mc < 0 || mc > 1 {
			return "", badArgument("'matchConfidence' must be between 0 and 1 (got %v).", mc)
		}
		if hasError {
			return "", badArgument("'matchConfidence' is only valid with 'livenessDecision'; a failed attempt has no verify result.")
		}
	}
	if hasError {
		return "", nil
	}
	switch d := strings.ToLower(req.LivenessDecision); d {
	case decisionRealFace, decisionSpoofFace, decisionUncertain:
		return d, nil
	}
	return "", badArgument("'livenessDecision' has invalid value '%s'; allowed: realface, spoofface, uncertain.", req.LivenessDecision)
}
