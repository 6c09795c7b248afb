package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

// apiError is an error answer: {"error": {"code": ..., "message": ...}}, the shape Face uses.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

// writeError sends an error answer.
func writeError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, map[string]any{"error": map[string]string{"code": e.code, "message": e.message}})
}

// writeJSON sends a JSON answer that no cache keeps: answers can carry auth tokens.
func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// fail answers for an error of pkg/livenessclient:
//
//	unknown session            404 NotFound
//	stalled session            502 with the operator's reason as code and its message
//	image too large for Secret 413 ReferenceImageTooLarge
//	the operator took too long 504 Timeout, saying what the session waited for
//	anything else              500 InternalError (details only in the log)
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var stalled *livenessclient.StalledError
	switch {
	case errors.As(err, &stalled):
		s.log.Warn("liveness session stalled", "name", stalled.Name, "reason", stalled.Reason, "message", stalled.Message)
		writeError(w, &apiError{http.StatusBadGateway, stalled.Reason, stalled.Message})
	case errors.Is(err, livenessclient.ErrNotFound):
		writeError(w, &apiError{http.StatusNotFound, "NotFound", "no liveness session " + r.PathValue("name")})
	case errors.Is(err, livenessclient.ErrReferenceImageTooLarge):
		writeError(w, &apiError{http.StatusRequestEntityTooLarge, "ReferenceImageTooLarge", err.Error()})
	case r.Context().Err() != nil:
		// The browser went away; nobody reads this answer.
		writeError(w, &apiError{http.StatusServiceUnavailable, "ClientClosedRequest", "the request was canceled"})
	case errors.Is(err, context.DeadlineExceeded):
		s.log.Warn("the operator did not answer in time", "path", r.URL.Path, "error", err)
		writeError(w, &apiError{http.StatusGatewayTimeout, "Timeout", err.Error()})
	default:
		s.log.Error("request failed", "path", r.URL.Path, "error", err)
		writeError(w, &apiError{http.StatusInternalServerError, "InternalError", "the app server could not do that; its log says why"})
	}
}
