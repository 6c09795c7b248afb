package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/pkg/livenessclient"
)

// createResponse is what the frontend needs to run the Face SDK.
type createResponse struct {
	Name      string `json:"name"`
	SessionID string `json:"sessionId"`
	AuthToken string `json:"authToken"`
	ExpiresAt string `json:"expiresAt"`
}

// outcomeResponse is the end user's result as the operator read it from Face.
type outcomeResponse struct {
	Outcome          facev1.Outcome           `json:"outcome"`
	LivenessDecision string                   `json:"livenessDecision"`
	Attempts         []facev1.LivenessAttempt `json:"attempts"`
}

// create is POST /api/liveness-sessions: a web session (PassiveActive, the mode Face
// recommends for the web SDK, with the device correlation id set by the SDK).
func (s *server) create(w http.ResponseWriter, r *http.Request) {
	verify, img, bad := decodeCreate(w, r)
	if bad != nil {
		writeError(w, bad)
		return
	}
	spec := livenessclient.Spec{NamePrefix: "web-", OperationMode: facev1.OperationModePassiveActive}
	if verify {
		spec.Verification = &livenessclient.Verification{ReferenceImage: img}
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.timeouts.start)
	defer cancel()
	session, err := s.sessions.Start(ctx, spec)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("liveness session started", "session", session, "verify", verify)
	writeJSON(w, http.StatusCreated, createResponse{
		Name:      session.Name,
		SessionID: session.SessionID,
		AuthToken: session.AuthToken,
		ExpiresAt: session.ExpiresAt.UTC().Format(time.RFC3339),
	})
}

// completed is POST /api/liveness-sessions/{name}/completed: the frontend's SDK finished, so
// the operator reads the result now instead of at its next scheduled poll.
func (s *server) completed(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.timeouts.completed)
	defer cancel()
	if err := s.sessions.Completed(ctx, r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusAccepted)
}

// get is GET /api/liveness-sessions/{name}[?wait=10s]: the outcome now or, with wait, once
// it is final or the wait is over (then still Pending).
func (s *server) get(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	wait, bad := parseWait(r)
	if bad != nil {
		writeError(w, bad)
		return
	}
	var (
		result *livenessclient.Result
		err    error
	)
	if wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		result, err = s.sessions.Outcome(ctx, name)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil {
			result, err = s.sessions.Status(r.Context(), name) // not final yet: say so
		}
	} else {
		result, err = s.sessions.Status(r.Context(), name)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	attempts := result.Attempts
	if attempts == nil {
		attempts = []facev1.LivenessAttempt{}
	}
	writeJSON(w, http.StatusOK, outcomeResponse{Outcome: result.Outcome, LivenessDecision: result.LivenessDecision, Attempts: attempts})
}

// parseWait reads ?wait=, a Go duration from 0 to maxOutcomeWait.
func parseWait(r *http.Request) (time.Duration, *apiError) {
	v := r.URL.Query().Get("wait")
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 || d > maxOutcomeWait {
		return 0, &apiError{http.StatusBadRequest, "InvalidWait",
			fmt.Sprintf("wait must be a duration from 0s to %s, such as 10s", maxOutcomeWait)}
	}
	return d, nil
}

// release is DELETE /api/liveness-sessions/{name}: the operator deletes the cloud session
// (revoking the token) before the answer.
func (s *server) release(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.timeouts.release)
	defer cancel()
	if err := s.sessions.Release(ctx, r.PathValue("name")); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
