package emulator

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/netip"
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

// DefaultClientIP is the client address a v1.3 attempt records when the attempt gives
// none: the loopback address a local device would use.
const DefaultClientIP = "127.0.0.1"

// codeClientIPMismatch is the emulator-only error code of an attempt refused by
// Config.EnforceExpectedClientIP. The service documents no such code; the prefix
// makes it plain that a client must not match on it.
const codeClientIPMismatch = "EmulatorClientIpMismatch"

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

	// The fields below are for v1.3-preview.1 sessions only; a v1.2 session refuses
	// them (v1.2 reports no client IP and monitors no abuse).

	// ClientIP is the address the service sees during the attempt, or several
	// separated by commas (a device that changes network mid-attempt), reported in
	// clientInformation in this order; DefaultClientIP when empty. Over HTTP,
	// "clientIp" (a string) or "clientIps" (an array). A string, not a slice, so that
	// AttemptRequest stays comparable (callers use it as a map key).
	ClientIP string `json:"clientIp,omitempty"`
	// FaceID names the face the attempt shows, for abuse monitoring: two attempts with
	// the same FaceID are the same face. Exclusive with FaceImage.
	FaceID string `json:"faceId,omitempty"`
	// FaceImage is an image of the face (any bytes, held in a string to keep the
	// struct comparable); its SHA-256 digest names the face, so the same bytes are the
	// same face. Over HTTP it is "faceImage", base64. Exclusive with FaceID.
	FaceImage string `json:"-"`
	// UserCorrelationID is the user id the client SDK supplies: required when the
	// session was created with userCorrelationIdSetInClient true, and otherwise
	// either absent or equal to the session's userCorrelationId.
	UserCorrelationID string `json:"userCorrelationId,omitempty"`
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
		case "livenessDecision", "errorCode", "errorMessage", "matchConfidence",
			"clientIp", "clientIps", "faceId", "faceImage", "userCorrelationId":
		default:
			return badArgument("Unknown field '%s'; allowed: livenessDecision, errorCode, errorMessage, matchConfidence, clientIp, clientIps, faceId, faceImage, userCorrelationId.", name)
		}
	}
	var clientIP string
	for name, dst := range map[string]*string{
		"livenessDecision": &req.LivenessDecision, "errorCode": &req.ErrorCode, "errorMessage": &req.ErrorMessage,
		"clientIp": &clientIP, "faceId": &req.FaceID, "userCorrelationId": &req.UserCorrelationID,
	} {
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
	req.ClientIP = clientIP
	if raw, ok := m["clientIps"]; ok && string(raw) != "null" {
		var ips []string
		if err := json.Unmarshal(raw, &ips); err != nil {
			return badArgument("Field 'clientIps' must be an array of IP address strings (got %s).", jsonKind(raw))
		}
		if clientIP != "" {
			return badArgument("Give either 'clientIp' or 'clientIps', not both.")
		}
		req.ClientIP = strings.Join(ips, ",")
	}
	if raw, ok := m["faceImage"]; ok && string(raw) != "null" {
		var img []byte
		if err := json.Unmarshal(raw, &img); err != nil {
			return badArgument("Field 'faceImage' must be a base64 string (got %s).", jsonKind(raw))
		}
		req.FaceImage = string(img)
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
	v13, e := validateAttemptV13(req, sess)
	if e != nil {
		return AttemptResponse{}, e
	}
	if len(sess.attempts) >= sess.attemptsAllowed {
		if !sess.isV13() {
			return AttemptResponse{}, newAPIError(http.StatusConflict, codeAttemptLimitReached,
				"Session '%s' already has %d attempt(s); Face v1.2 allows %d attempt per session.", sess.id, len(sess.attempts), sess.attemptsAllowed)
		}
		return AttemptResponse{}, newAPIError(http.StatusConflict, codeAttemptLimitReached,
			"Session '%s' already has %d attempt(s); it was created with numberOfClientAttemptsAllowed=%d.", sess.id, len(sess.attempts), sess.attemptsAllowed)
	}
	if sess.isV13() && s.cfg.EnforceExpectedClientIP && v13.outside != "" && req.ErrorCode == "" {
		// The emulator-only mode of LIVENESS-API-v1.3.md §9.2: the attempt fails instead
		// of producing a result.
		req.ErrorCode = codeClientIPMismatch
		req.ErrorMessage = fmt.Sprintf("Emulator only: client IP %s is outside expectedClientIpAddress %s.", v13.outside, sess.expectedIP)
	}

	a := storedAttempt{faceRect: faceRectFor(sess.id), at: now, faceKey: v13.faceKey, userCorrelationID: v13.user}
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
	if sess.isV13() {
		for _, ip := range v13.ips {
			a.wire.ClientInformation = append(a.wire.ClientInformation, wireClientInfo{IP: ip})
		}
		if sess.abuseMonitoring && a.wire.Result != nil {
			// Only an attempt with a result carries a verdict, as in the published
			// example (its failed attempt has none).
			am := &wireAbuseMonitoring{OtherFlaggedSessions: []wireFlaggedSession{}}
			if a.faceKey != "" {
				for _, old := range st.faces.observe(sess.keyID, a.faceKey, sighting{
					at: now, userCorrelationID: a.userCorrelationID, sessionID: sess.id,
					attemptID: a.wire.AttemptID, sessionImageID: a.imageID,
				}, s.cfg.AbuseWindow) {
					am.OtherFlaggedSessions = append(am.OtherFlaggedSessions, wireFlaggedSession{
						AttemptID: old.attemptID, SessionID: old.sessionID, SessionImageID: old.sessionImageID,
					})
				}
			}
			am.IsAbuseDetected = len(am.OtherFlaggedSessions) > 0
			a.wire.AbuseMonitoringResult = am
		}
	}
	sess.attempts = append(sess.attempts, a)
	if !s.cfg.StaleSessionStatus && (a.wire.AttemptStatus == stateSucceeded || len(sess.attempts) >= sess.attemptsAllowed) {
		// The session takes the outcome of the attempt that made it final: a success,
		// or the last allowed attempt (with v1.2's one attempt, always the attempt).
		// Before that it stays NotStarted, since the end user may still try again.
		sess.status = a.wire.AttemptStatus
	}
	if a.imageID != "" {
		st.byImage.put(a.imageID, sess)
	}
	attemptJSON, _ := json.Marshal(a.wire) // as the session's own version shows it
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

// attemptV13 is what validateAttemptV13 derives from a v1.3 attempt.
type attemptV13 struct {
	ips     []string // the client addresses to record
	faceKey string   // the face's identity for abuse monitoring, or empty
	user    string   // the user correlation id the attempt counts for
	outside string   // the first address outside the session's expectedClientIpAddress
}

// validateAttemptV13 checks the v1.3 attempt fields against the session. s.mu held.
func validateAttemptV13(req AttemptRequest, sess *session) (attemptV13, *apiError) {
	var out attemptV13
	if !sess.isV13() {
		if req.ClientIP != "" || req.FaceID != "" || req.FaceImage != "" || req.UserCorrelationID != "" {
			return out, badArgument("Session '%s' was created under Face v1.2, which records no client IP and monitors no abuse: 'clientIp(s)', 'faceId', 'faceImage' and 'userCorrelationId' need a session created under /face/v1.3-preview.1/.", sess.id)
		}
		return out, nil
	}
	for _, ip := range strings.Split(req.ClientIP, ",") {
		if ip = strings.TrimSpace(ip); ip != "" {
			out.ips = append(out.ips, ip)
		}
	}
	if len(out.ips) == 0 {
		out.ips = []string{DefaultClientIP}
	}
	var expected netip.Prefix
	if sess.expectedIP != "" {
		expected, _ = parseIPOrPrefix(strings.TrimSpace(sess.expectedIP)) // validated at create
	}
	for _, ip := range out.ips {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return out, badArgument("'%s' is not an IP address; give client IPs such as 203.0.113.7 or 2001:db8::1.", ip)
		}
		if sess.expectedIP != "" && out.outside == "" && !expected.Contains(a.Unmap()) {
			out.outside = ip
		}
	}
	switch {
	case req.FaceID != "" && req.FaceImage != "":
		return out, badArgument("Give either 'faceId' or 'faceImage', not both.")
	case req.FaceID != "":
		out.faceKey = "id:" + req.FaceID
	case req.FaceImage != "":
		out.faceKey = "sha256:" + upperHexSHA256([]byte(req.FaceImage))
	}
	switch {
	case sess.userInClient && req.UserCorrelationID == "":
		return out, badArgument("Session '%s' was created with userCorrelationIdSetInClient=true: the attempt must give 'userCorrelationId', as the client SDK would.", sess.id)
	case sess.userInClient:
		out.user = req.UserCorrelationID
	case req.UserCorrelationID != "" && req.UserCorrelationID != sess.userCorrelationID:
		return out, badArgument("Session '%s' has its userCorrelationId from the create; an attempt may not give another one.", sess.id)
	default:
		out.user = sess.userCorrelationID
	}
	return out, nil
}
