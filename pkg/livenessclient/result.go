package livenessclient

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// Result is what the operator knows about the end user's check.
type Result struct {
	// Name is the LivenessSession's name.
	Name string
	// Outcome is Pending until final; then Live, Verified, NotVerified, Spoof, Uncertain,
	// Failed or Expired.
	Outcome facev1.Outcome
	// LivenessDecision is Face's decision of the latest attempt: realface, spoofface or
	// uncertain (empty before an attempt, or when it failed).
	LivenessDecision string
	// Attempts are the end user's attempts as Face reported them, with match confidence and
	// isIdentical for verify sessions, or the error code and message of a failed attempt.
	Attempts []facev1.LivenessAttempt
	// CompletedAt is when the outcome became final (zero until then).
	CompletedAt time.Time
}

// Final says whether the outcome can no longer change.
func (r *Result) Final() bool {
	return r.Outcome != "" && r.Outcome != facev1.OutcomePending
}

// Latest is the attempt with the highest attempt id, or nil before any.
func (r *Result) Latest() *facev1.LivenessAttempt {
	var latest *facev1.LivenessAttempt
	for i := range r.Attempts {
		if latest == nil || r.Attempts[i].AttemptID > latest.AttemptID {
			latest = &r.Attempts[i]
		}
	}
	return latest
}

// resultOf summarises a session's status. A session the operator has not looked at yet has
// no outcome; it is Pending to callers.
func resultOf(ls *facev1.LivenessSession) *Result {
	r := &Result{
		Name:             ls.Name,
		Outcome:          ls.Status.Outcome,
		LivenessDecision: ls.Status.LivenessDecision,
		Attempts:         ls.Status.Attempts,
	}
	if r.Outcome == "" {
		r.Outcome = facev1.OutcomePending
	}
	if ls.Status.CompletedAt != nil {
		r.CompletedAt = ls.Status.CompletedAt.Time
	}
	return r
}

// Get returns the LivenessSession as it is now (spec, status and conditions), or an error
// matching ErrNotFound.
func (c *Client) Get(ctx context.Context, name string) (*facev1.LivenessSession, error) {
	ls := &facev1.LivenessSession{}
	if err := c.kube.Get(ctx, c.key(name), ls); err != nil {
		return nil, c.apiError(ctx, name, err)
	}
	return ls, nil
}

// Status returns the session's result as it is now, final or not, without waiting.
func (c *Client) Status(ctx context.Context, name string) (*Result, error) {
	ls, err := c.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	return resultOf(ls), nil
}

// Outcome waits until the session's outcome is final and returns it with the attempts. It
// returns a *StalledError for a session that stalled before Face ever created it (no outcome
// can come), an error matching ErrNotFound for an unknown or deleted session, and the
// context's error when ctx ends first (Status then tells the outcome so far).
func (c *Client) Outcome(ctx context.Context, name string) (*Result, error) {
	ls, err := c.Wait(ctx, name, func(ls *facev1.LivenessSession) (bool, error) {
		if ls.Status.SessionID == "" {
			if err := stalled(ls); err != nil {
				return false, err
			}
		}
		return resultOf(ls).Final(), nil
	})
	if err != nil {
		return nil, err
	}
	return resultOf(ls), nil
}

// Wait watches the named session until done returns true (or an error) for its current
// state, and returns that state. It returns an error matching ErrNotFound if the session does
// not exist or is deleted while waiting, and the context's error when ctx ends first.
func (c *Client) Wait(ctx context.Context, name string, done func(*facev1.LivenessSession) (bool, error)) (*facev1.LivenessSession, error) {
	var (
		last *facev1.LivenessSession
		uid  string
	)
	err := c.watchNamed(ctx, &facev1.LivenessSessionList{}, name, func(obj client.Object) (bool, error) {
		ls, ok := obj.(*facev1.LivenessSession)
		if !ok || (uid != "" && string(ls.UID) != uid) {
			return false, notFound(name)
		}
		uid, last = string(ls.UID), ls
		return done(ls)
	})
	if err != nil {
		return nil, err
	}
	return last, nil
}
