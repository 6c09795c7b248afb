package quota

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/liveness-operator/liveness-operator/internal/face"
)

// Wrap returns a face.Client that takes a token from l before every call and pauses the account
// when Face throttles. Result reads are Low priority; everything else is High. Errors are
// returned unchanged (a 429 still reaches its caller, which reschedules that call); a call whose
// context ends while waiting for a token is not sent and returns an error wrapping
// ErrWaitAborted. Several wrapped clients (one per worker, or per credential) may share l: the
// quota belongs to the account, not to a client.
func (l *Limiter) Wrap(next face.Client) face.Client {
	return &limitedClient{l: l, next: next}
}

// Observe feeds a Face call's outcome to the limiter, for callers that use Acquire directly
// rather than Wrap: a 429 pauses the account for its Retry-After (DefaultPause if none), and so
// does a 503 that carries a Retry-After, since Face asked for the same silence. It reports
// whether it paused.
func (l *Limiter) Observe(err error) bool {
	var re *face.ResponseError
	if err == nil || !errors.As(err, &re) {
		return false
	}
	switch {
	case re.StatusCode == http.StatusTooManyRequests:
		l.Pause(re.RetryAfter)
		return true
	case re.StatusCode == http.StatusServiceUnavailable && re.RetryAfter > 0:
		l.Pause(re.RetryAfter)
		return true
	}
	return false
}

// limitedClient is the face.Client returned by Wrap.
type limitedClient struct {
	l    *Limiter
	next face.Client
}

var _ face.Client = (*limitedClient)(nil)

// do runs one call under the limiter.
func do[T any](c *limitedClient, ctx context.Context, p Priority, call func() (T, error)) (T, error) {
	var zero T
	if r := reserved(ctx, c.l); r != nil {
		// The slot and the token were taken ahead (Reserve); the call owns them now.
		defer r.releaseSlot()
	} else if ticketOf(ctx) != nil {
		release, err := c.l.ticketedCall(ctx, p)
		if err != nil {
			return zero, err
		}
		defer release()
	} else {
		release, err := c.l.callSlot(ctx)
		if err != nil {
			return zero, err
		}
		defer release()
		if err := c.l.Acquire(ctx, p); err != nil {
			return zero, err
		}
	}
	v, err := call()
	c.l.Observe(err)
	return v, err
}

// ticketedCall gets a non-blocking caller (WithTicket) a token and a call slot, or an error at
// once: ErrQueued while its ticket waits, ErrAccountBusy when every call slot is taken (the
// token stays held for the ticket, so the retry finds it). It returns the slot's release.
func (l *Limiter) ticketedCall(ctx context.Context, p Priority) (func(), error) {
	owner := ticketOf(ctx)
	if err := l.acquireTicket(owner, flowOf(ctx), p); err != nil {
		return nil, err
	}
	select {
	case l.slots <- struct{}{}:
		return func() { <-l.slots }, nil
	default:
	}
	l.holdAgain(owner, flowOf(ctx), p.clamp())
	return nil, fmt.Errorf("%w: %w: %d calls in flight", ErrWaitAborted, ErrAccountBusy, cap(l.slots))
}

// callSlot takes one of the account's call slots, waiting at most CallSlotWait (or until ctx
// ends), and returns its release. The slot is taken before the quota token, so a call that
// cannot go spends none of the quota.
func (l *Limiter) callSlot(ctx context.Context) (func(), error) {
	release := func() { <-l.slots }
	select {
	case l.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := l.clock.NewTimer(CallSlotWait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return release, nil
	case <-t.C():
		return nil, fmt.Errorf("%w: %w: %d calls in flight for %s", ErrWaitAborted, ErrAccountBusy, cap(l.slots), CallSlotWait)
	case <-ctx.Done():
		return nil, abortError(ctx.Err())
	}
}

// CreateLivenessSession is High priority: a user is waiting for the session.
func (c *limitedClient) CreateLivenessSession(ctx context.Context, req face.CreateLivenessSessionRequest) (*face.LivenessSession, error) {
	return do(c, ctx, High, func() (*face.LivenessSession, error) { return c.next.CreateLivenessSession(ctx, req) })
}

// GetLivenessSessionResult is Low priority: a poll can be late.
func (c *limitedClient) GetLivenessSessionResult(ctx context.Context, sessionID string) (*face.LivenessSession, error) {
	return do(c, ctx, Low, func() (*face.LivenessSession, error) { return c.next.GetLivenessSessionResult(ctx, sessionID) })
}

// DeleteLivenessSession is High priority: it frees a live session and unblocks a finalizer.
func (c *limitedClient) DeleteLivenessSession(ctx context.Context, sessionID string) error {
	_, err := do(c, ctx, High, func() (struct{}, error) { return struct{}{}, c.next.DeleteLivenessSession(ctx, sessionID) })
	return err
}

// CreateLivenessWithVerifySession is High priority: a user is waiting for the session.
func (c *limitedClient) CreateLivenessWithVerifySession(ctx context.Context, req face.CreateLivenessWithVerifySessionRequest) (*face.LivenessWithVerifySession, error) {
	return do(c, ctx, High, func() (*face.LivenessWithVerifySession, error) {
		return c.next.CreateLivenessWithVerifySession(ctx, req)
	})
}

// GetLivenessWithVerifySessionResult is Low priority: a poll can be late.
func (c *limitedClient) GetLivenessWithVerifySessionResult(ctx context.Context, sessionID string) (*face.LivenessWithVerifySession, error) {
	return do(c, ctx, Low, func() (*face.LivenessWithVerifySession, error) {
		return c.next.GetLivenessWithVerifySessionResult(ctx, sessionID)
	})
}

// DeleteLivenessWithVerifySession is High priority: it frees a live session and unblocks a finalizer.
func (c *limitedClient) DeleteLivenessWithVerifySession(ctx context.Context, sessionID string) error {
	_, err := do(c, ctx, High, func() (struct{}, error) {
		return struct{}{}, c.next.DeleteLivenessWithVerifySession(ctx, sessionID)
	})
	return err
}

// GetSessionImage is High priority: it is fetched once, on demand, after an outcome.
func (c *limitedClient) GetSessionImage(ctx context.Context, sessionImageID string) ([]byte, error) {
	return do(c, ctx, High, func() ([]byte, error) { return c.next.GetSessionImage(ctx, sessionImageID) })
}

// DetectFromSessionImageID is High priority: it is run once, on demand, after an outcome.
func (c *limitedClient) DetectFromSessionImageID(ctx context.Context, sessionImageID string, opts face.DetectOptions) ([]face.FaceDetectionResult, error) {
	return do(c, ctx, High, func() ([]face.FaceDetectionResult, error) {
		return c.next.DetectFromSessionImageID(ctx, sessionImageID, opts)
	})
}
