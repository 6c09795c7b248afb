package quota

import (
	"context"
	"sync"

	"github.com/liveness-operator/liveness-operator/internal/face"
)

// Reserve takes, ahead of a call, the call slot and the quota token that the next call of
// priority p through fc would wait for, and returns a context carrying them: the first call
// through fc with that context (or one derived from it) uses them instead of waiting. release
// gives them back when no call used them (the token is refunded to the bucket) and does nothing
// otherwise; call it once the call is done or abandoned.
//
// It exists for the crash-safe create: the operator records its create claim only once the
// token is in hand, right before the POST, so that a manager stopped while creates wait for the
// quota leaves no claim behind, and so no false "unconfirmed create" report. A client that is
// not limited (not from Wrap) needs no reservation: ctx comes back unchanged.
func Reserve(ctx context.Context, fc face.Client, p Priority) (context.Context, func(), error) {
	c, ok := fc.(*limitedClient)
	if !ok {
		return ctx, func() {}, nil
	}
	var releaseSlot func()
	var err error
	if ticketOf(ctx) != nil {
		// Non-blocking: the ticket's token first, then a free slot, or an error at once.
		releaseSlot, err = c.l.ticketedCall(ctx, p)
		if err != nil {
			return ctx, func() {}, err
		}
	} else {
		if releaseSlot, err = c.l.callSlot(ctx); err != nil {
			return ctx, func() {}, err
		}
		if err := c.l.Acquire(ctx, p); err != nil {
			releaseSlot()
			return ctx, func() {}, err
		}
	}
	r := &reservation{l: c.l, releaseSlot: releaseSlot, flow: flowOf(ctx)}
	return context.WithValue(ctx, reservationKey{}, r), r.release, nil
}

// reservationKey is the context key of a *reservation.
type reservationKey struct{}

// reservation is a call slot and a quota token held for one call.
type reservation struct {
	l           *Limiter
	releaseSlot func()
	flow        string

	mu       sync.Mutex
	used     bool
	released bool
}

// take hands the reservation to a call of limiter l, once; the call then owns the slot.
func (r *reservation) take(l *Limiter) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.l != l || r.used || r.released {
		return false
	}
	r.used = true
	return true
}

// release returns an unused reservation: the slot is freed and the token refunded.
func (r *reservation) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.used || r.released {
		return
	}
	r.released = true
	r.releaseSlot()
	r.l.mu.Lock()
	r.l.refundLocked(r.l.clock.Now())
	r.l.flowCaps.refund(r.flow, r.l.clock.Now())
	r.l.dispatchLocked(r.l.clock.Now())
	r.l.mu.Unlock()
}

// reserved returns the context's reservation for limiter l, taking it, or nil.
func reserved(ctx context.Context, l *Limiter) *reservation {
	r, _ := ctx.Value(reservationKey{}).(*reservation)
	if r == nil || !r.take(l) {
		return nil
	}
	return r
}
