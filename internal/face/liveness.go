package face

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

const livenessSessions = "/detectLiveness-sessions"

// CreateLivenessSession creates a liveness session (POST /detectLiveness-sessions). It is never
// retried; see ErrOutcomeUnknown for failures after the request may have been received. A v1.3
// field on a v1.2 client is refused with ErrUnsupportedByAPIVersion before anything is sent.
func (h *HTTPClient) CreateLivenessSession(ctx context.Context, req CreateLivenessSessionRequest) (*LivenessSession, error) {
	op := opCreateLivenessSession
	if req.LivenessOperationMode == "" {
		return nil, fmt.Errorf("face %s: %w: LivenessOperationMode is required", op, ErrInvalidRequest)
	}
	if err := h.checkCreate(op, req, false); err != nil {
		return nil, err
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("face %s: %w: %v", op, ErrInvalidRequest, err)
	}
	return sendCreate(h, ctx, call{
		op: op, method: http.MethodPost, path: livenessSessions, accept: acceptJSON,
		body: body, contentType: "application/json",
	}, decodeLivenessSession)
}

// GetLivenessSessionResult reads a liveness session and its attempts
// (GET /detectLiveness-sessions/{id}). Retried on transient failures.
func (h *HTTPClient) GetLivenessSessionResult(ctx context.Context, sessionID string) (*LivenessSession, error) {
	return readSession(h, ctx, opGetLivenessSessionResult, livenessSessions, sessionID, decodeLivenessSession)
}

// DeleteLivenessSession deletes a session and revokes its auth token
// (DELETE /detectLiveness-sessions/{id}). Any 2xx is success (the spec says 204, examples show
// 200); a 404 is returned as an error for which IsNotFound is true, meaning "already gone".
func (h *HTTPClient) DeleteLivenessSession(ctx context.Context, sessionID string) error {
	return h.deleteSession(ctx, opDeleteLivenessSession, livenessSessions, sessionID)
}

func (h *HTTPClient) deleteSession(ctx context.Context, op, collection, sessionID string) error {
	p, err := resourcePath(op, collection, sessionID)
	if err != nil {
		return err
	}
	_, err = h.do(ctx, call{op: op, method: http.MethodDelete, path: p, accept: acceptJSON})
	return err
}
