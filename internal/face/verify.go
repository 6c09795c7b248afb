package face

import (
	"context"
	"fmt"
	"net/http"
)

const livenessWithVerifySessions = "/detectLivenessWithVerify-sessions"

// CreateLivenessWithVerifySession creates a liveness-with-verify session
// (POST /detectLivenessWithVerify-sessions, multipart/form-data). It is never retried; see
// ErrOutcomeUnknown.
func (h *HTTPClient) CreateLivenessWithVerifySession(ctx context.Context, req CreateLivenessWithVerifySessionRequest) (*LivenessWithVerifySession, error) {
	op := opCreateLivenessWithVerifySession
	if req.LivenessOperationMode == "" {
		return nil, fmt.Errorf("face %s: %w: LivenessOperationMode is required", op, ErrInvalidRequest)
	}
	if len(req.VerifyImage) == 0 {
		return nil, fmt.Errorf("face %s: %w: VerifyImage is required", op, ErrInvalidRequest)
	}
	if err := h.checkCreate(op, req.CreateLivenessSessionRequest, true); err != nil {
		return nil, err
	}
	body, contentType, err := encodeLivenessWithVerifyForm(req)
	if err != nil {
		return nil, fmt.Errorf("face %s: %w", op, err)
	}
	return sendCreate(h, ctx, call{
		op: op, method: http.MethodPost, path: livenessWithVerifySessions, accept: acceptJSON,
		body: body, contentType: contentType,
	}, decodeLivenessWithVerifySession)
}

// GetLivenessWithVerifySessionResult reads a with-verify session, its verify references and its
// attempts (GET /detectLivenessWithVerify-sessions/{id}). Retried on transient failures.
func (h *HTTPClient) GetLivenessWithVerifySessionResult(ctx context.Context, sessionID string) (*LivenessWithVerifySession, error) {
	return readSession(h, ctx, opGetLivenessWithVerifySessionResult, livenessWithVerifySessions, sessionID, decodeLivenessWithVerifySession)
}

// DeleteLivenessWithVerifySession deletes a with-verify session
// (DELETE /detectLivenessWithVerify-sessions/{id}). Any 2xx is success; 404 gives an error for
// which IsNotFound is true.
func (h *HTTPClient) DeleteLivenessWithVerifySession(ctx context.Context, sessionID string) error {
	return h.deleteSession(ctx, opDeleteLivenessWithVerifySession, livenessWithVerifySessions, sessionID)
}
