package session

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
)

// cloudSession is the part of a Face liveness session the controller acts on, the same for
// plain sessions and sessions with verification. AuthToken is set only on a create's answer:
// Face never hands the token out again.
type cloudSession struct {
	ID           string
	AuthToken    string
	Status       string
	ModelVersion string
	Attempts     []facev1.LivenessAttempt
	// VerifyReferences is set for liveness-with-verify sessions.
	VerifyReferences []facev1.VerifyReference
}

// createRequest translates a LivenessSession spec into Face's create body.
func createRequest(ls *facev1.LivenessSession) face.CreateLivenessSessionRequest {
	ttl := ls.Spec.AuthTokenTimeToLiveInSeconds
	if ttl == 0 {
		ttl = defaultTokenTTLSeconds
	}
	req := face.CreateLivenessSessionRequest{
		LivenessOperationMode:        face.LivenessOperationMode(operationModeOrDefault(ls)),
		DeviceCorrelationID:          ls.Spec.DeviceCorrelationID,
		LivenessModelVersion:         ls.Spec.LivenessModelVersion,
		AuthTokenTimeToLiveInSeconds: &ttl,
	}
	if ls.Spec.DeviceCorrelationIDSetInClient {
		req.DeviceCorrelationIDSetInClient = &ls.Spec.DeviceCorrelationIDSetInClient
	}
	if ls.Spec.EnableSessionImage {
		req.EnableSessionImage = &ls.Spec.EnableSessionImage
	}
	return req
}

// defaultTokenTTLSeconds is Face's default token lifetime, used when the spec was stored
// without the CRD default (for example by a client that bypassed defaulting in tests).
const defaultTokenTTLSeconds int32 = 600

func operationModeOrDefault(ls *facev1.LivenessSession) facev1.OperationMode {
	if ls.Spec.OperationMode == "" {
		return facev1.OperationModePassive
	}
	return ls.Spec.OperationMode
}

// createCloudSession creates the Face session described by the spec: a liveness-with-verify
// session (multipart, with the reference image) when spec.verification is set, otherwise a
// liveness session. It is not idempotent: callers must have recorded the create-pending claim.
func createCloudSession(ctx context.Context, fc face.Client, ls *facev1.LivenessSession, ref *referenceImage) (*cloudSession, error) {
	if ls.Spec.Verification == nil {
		s, err := fc.CreateLivenessSession(ctx, createRequest(ls))
		if err != nil {
			return nil, err
		}
		return fromLivenessSession(s), nil
	}
	req := face.CreateLivenessWithVerifySessionRequest{
		CreateLivenessSessionRequest: createRequest(ls),
		VerifyImage:                  ref.data,
		VerifyImageFilename:          ref.filename,
	}
	if ls.Spec.Verification.ReturnVerifyImageHash {
		req.ReturnVerifyImageHash = &ls.Spec.Verification.ReturnVerifyImageHash
	}
	if t := ls.Spec.Verification.ConfidenceThreshold; t != "" {
		v, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return nil, fmt.Errorf("spec.verification.confidenceThreshold %q: %w", t, err)
		}
		req.VerifyConfidenceThreshold = &v
	}
	s, err := fc.CreateLivenessWithVerifySession(ctx, req)
	if err != nil {
		return nil, err
	}
	return fromLivenessWithVerifySession(s), nil
}

// getCloudSession reads the session's current state and results.
func getCloudSession(ctx context.Context, fc face.Client, ls *facev1.LivenessSession) (*cloudSession, error) {
	if ls.Spec.Verification != nil {
		s, err := fc.GetLivenessWithVerifySessionResult(ctx, ls.Status.SessionID)
		if err != nil {
			return nil, err
		}
		return fromLivenessWithVerifySession(s), nil
	}
	s, err := fc.GetLivenessSessionResult(ctx, ls.Status.SessionID)
	if err != nil {
		return nil, err
	}
	return fromLivenessSession(s), nil
}

// deleteCloudSession deletes the session, revoking its token, with the operation that matches
// its kind. A session Face no longer knows counts as deleted.
func deleteCloudSession(ctx context.Context, fc face.Client, ls *facev1.LivenessSession, sessionID string) error {
	del := fc.DeleteLivenessSession
	if ls.Spec.Verification != nil {
		del = fc.DeleteLivenessWithVerifySession
	}
	ctx, cancel := context.WithTimeout(ctx, deleteBudget)
	defer cancel()
	if err := del(ctx, sessionID); err != nil && !face.IsNotFound(err) {
		return err
	}
	return nil
}

func fromLivenessSession(s *face.LivenessSession) *cloudSession {
	out := &cloudSession{
		ID:           s.SessionID,
		AuthToken:    s.AuthToken,
		Status:       string(s.Status),
		ModelVersion: s.ModelVersion,
	}
	for _, a := range s.Results.Attempts {
		out.Attempts = append(out.Attempts, attemptStatus(a.AttemptID, string(a.AttemptStatus), a.Result, a.Error))
	}
	out.Attempts = boundedAttempts(out.Attempts)
	return out
}

func fromLivenessWithVerifySession(s *face.LivenessWithVerifySession) *cloudSession {
	out := &cloudSession{
		ID:           s.SessionID,
		AuthToken:    s.AuthToken,
		Status:       string(s.Status),
		ModelVersion: s.ModelVersion,
	}
	for _, ref := range s.Results.VerifyReferences {
		out.VerifyReferences = append(out.VerifyReferences, facev1.VerifyReference{
			ReferenceType:         string(ref.ReferenceType),
			FaceRectangle:         rectangle(ref.FaceRectangle),
			QualityForRecognition: string(ref.QualityForRecognition),
		})
	}
	for _, a := range s.Results.Attempts {
		var result *face.LivenessResult
		if a.Result != nil {
			result = &a.Result.LivenessResult
		}
		st := attemptStatus(a.AttemptID, string(a.AttemptStatus), result, a.Error)
		if a.Result != nil {
			if vr := a.Result.VerifyResult; vr != nil {
				st.MatchConfidence = strconv.FormatFloat(vr.MatchConfidence, 'f', -1, 64)
				st.IsIdentical = &vr.IsIdentical
			}
			st.VerifyImageHash = a.Result.VerifyImageHash
		}
		out.Attempts = append(out.Attempts, st)
	}
	out.Attempts = boundedAttempts(out.Attempts)
	return out
}

// Bounds on what status keeps of Face's attempts: the endpoint decides how many attempts and how
// long their messages are, and status must stay small and always writable.
const (
	// maxAttempts is how many attempts status keeps: the latest, by attemptId.
	maxAttempts = 20
	// maxAttemptText bounds an attempt's error code and message.
	maxAttemptText = 512
)

// boundedAttempts keeps one attempt per attemptId (the last Face listed: a duplicate id would
// make every status write fail, attempts being a map keyed by it), the latest maxAttempts of
// them in attemptId order, with error texts cut to maxAttemptText.
func boundedAttempts(in []facev1.LivenessAttempt) []facev1.LivenessAttempt {
	if len(in) == 0 {
		return nil
	}
	byID := make(map[int32]facev1.LivenessAttempt, len(in))
	for _, a := range in {
		a.ErrorCode = truncate(a.ErrorCode, maxAttemptText)
		a.ErrorMessage = truncate(a.ErrorMessage, maxAttemptText)
		byID[a.AttemptID] = a
	}
	out := make([]facev1.LivenessAttempt, 0, len(byID))
	for _, a := range byID {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].AttemptID < out[j].AttemptID })
	if len(out) > maxAttempts {
		out = out[len(out)-maxAttempts:]
	}
	return out
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// attemptStatus converts one Face attempt into its status form. Decisions are lowercased
// because Face's own examples spell them both realface and realFace.
func attemptStatus(id int32, status string, result *face.LivenessResult, ferr *face.LivenessError) facev1.LivenessAttempt {
	a := facev1.LivenessAttempt{AttemptID: id, Status: status}
	if result != nil {
		a.LivenessDecision = strings.ToLower(string(result.LivenessDecision))
		a.Digest = result.Digest
		a.SessionImageID = result.SessionImageID
		a.FaceRectangle = rectangle(result.Targets.Color.FaceRectangle)
	}
	if ferr != nil {
		a.ErrorCode = ferr.Code
		a.ErrorMessage = ferr.Message
		if a.FaceRectangle == nil {
			a.FaceRectangle = rectangle(ferr.Targets.Color.FaceRectangle)
		}
	}
	return a
}

func rectangle(r face.FaceRectangle) *facev1.FaceRectangle {
	if r == (face.FaceRectangle{}) {
		return nil
	}
	return &facev1.FaceRectangle{Top: r.Top, Left: r.Left, Width: r.Width, Height: r.Height}
}
