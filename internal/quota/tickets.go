package quota

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"time"
)

// A ticket is a place in the account's fair queue that does not hold a worker. A reconcile
// whose call finds no token at once is not blocked: its call returns an error wrapping
// ErrQueued (and ErrWaitAborted: nothing was sent), the reconcile ends with a requeue, and the
// ticket keeps its place in its flow's lane. When the ticket's turn comes, the token is taken
// for it and held, and the ticket's wake function is called so its owner is reconciled again
// at once; the owner's next call of the account consumes the held token. A held token that is
// not consumed within TicketHold goes back to the bucket.
//
// Tickets are what keep one account from holding up another: a worker never waits for a
// quota, so a session of an idle account finds a free worker however long other accounts'
// queues are. The crash-safe create is unchanged: its claim is written only once the token is
// in hand, in the reconcile that consumes the ticket.

// TicketHold is how long a granted ticket's token is kept for its owner. The owner is woken
// the moment it is granted and normally comes back within milliseconds; the hold covers a busy
// work queue and a call-slot retry (callers retry ErrAccountBusy after about 2 s).
const TicketHold = 5 * time.Second

// ErrQueued is in the chain (with ErrWaitAborted) of a call that found no token at once and
// holds a ticket in the account's fair queue: nothing was sent, and the ticket's owner is woken
// when its turn comes. QueuedSince and RetryAfter read the error's details.
var ErrQueued = errors.New("quota: queued for the Face account's request quota")

// queuedError is the error of a call that is waiting on a ticket.
type queuedError struct {
	since      time.Time
	retryAfter time.Duration
}

func (e *queuedError) Error() string {
	return fmt.Sprintf("%s since %s; woken when its turn comes (at the latest re-checked in %s)",
		ErrQueued, e.since.UTC().Format(time.RFC3339), e.retryAfter)
}

// Is makes errors.Is(err, ErrQueued) and errors.Is(err, ErrWaitAborted) true.
func (e *queuedError) Is(target error) bool { return target == ErrQueued || target == ErrWaitAborted }

// QueuedSince returns when the call's ticket joined the queue, when err is a queued call's.
func QueuedSince(err error) (time.Time, bool) {
	var qe *queuedError
	if errors.As(err, &qe) {
		return qe.since, true
	}
	return time.Time{}, false
}

// QueuedRetryAfter is when a queued call should be retried if its wake-up never comes (a
// fallback: the wake is what normally brings the owner back), or 0 when err is not a queued
// call's.
func QueuedRetryAfter(err error) time.Duration {
	var qe *queuedError
	if errors.As(err, &qe) {
		return qe.retryAfter
	}
	return 0
}

// Fallback re-check bounds for queued calls.
const (
	minQueuedRetry = 2 * time.Second
	maxQueuedRetry = time.Minute
)

// ticketKey is the context key of a ticketOwner.
type ticketKey struct{}

// ticketOwner is who waits on a ticket: one object (its id), and how to wake it.
type ticketOwner struct {
	id   string
	wake func()
}

// WithTicket makes the Face calls made with ctx non-blocking: a call that finds no token at
// once takes a ticket for id (one per id and account; a later call with the same id finds it)
// and returns an error wrapping ErrQueued. wake is called, without the limiter's lock held and
// from no particular goroutine, when the ticket's token is granted; it must not block.
func WithTicket(ctx context.Context, id string, wake func()) context.Context {
	return context.WithValue(ctx, ticketKey{}, &ticketOwner{id: id, wake: wake})
}

func ticketOf(ctx context.Context) *ticketOwner {
	t, _ := ctx.Value(ticketKey{}).(*ticketOwner)
	return t
}

// flowKey is the context key of a call's flow.
type flowKey struct{}

// WithFlow puts a call's flow (the tenant it is made for: the session's namespace) in ctx; the
// account's fair queue gives each flow a lane. Calls without a flow share the lane "".
func WithFlow(ctx context.Context, flow string) context.Context {
	return context.WithValue(ctx, flowKey{}, flow)
}

func flowOf(ctx context.Context) string {
	f, _ := ctx.Value(flowKey{}).(string)
	return f
}

// ticket is one owner's place in the queue (while its waiter is queued) or its held token
// (once granted).
type ticket struct {
	owner     *ticketOwner
	w         *waiter
	grantedAt time.Time     // zero while waiting
	heldElem  *list.Element // in Limiter.held while granted
}

// acquireTicket is Acquire for a caller with a ticket owner: nil when a token is in hand
// (a held ticket consumed, or a free token taken at once), else an error wrapping ErrQueued
// after putting the owner's ticket in the queue (or leaving it there, raised to p if p is
// higher than its place).
func (l *Limiter) acquireTicket(owner *ticketOwner, flow string, p Priority) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	l.expireHeldLocked(now)
	if t := l.tickets[owner.id]; t != nil {
		t.owner = owner // the newest reconcile's wake
		if !t.grantedAt.IsZero() {
			l.consumeLocked(t)
			return nil
		}
		if p < t.w.prio {
			// A poll's ticket whose owner now needs a delete: the higher priority's place.
			l.queue.remove(t.w)
			t.w.prio = p
			l.queue.push(t.w)
			l.dispatchLocked(now)
		}
		if !t.grantedAt.IsZero() {
			l.consumeLocked(t)
			return nil
		}
		return l.queuedErrorLocked(t, now)
	}
	if l.grantNowLocked(flow, p, now) {
		return nil
	}
	t := &ticket{owner: owner, w: &waiter{prio: p, flow: flow, since: now}}
	t.w.ticket = t
	if l.tickets == nil {
		l.tickets = map[string]*ticket{}
	}
	l.tickets[owner.id] = t
	l.queue.push(t.w)
	l.stats.byPriority(p).Waited++
	l.dispatchLocked(now)
	if !t.grantedAt.IsZero() {
		l.consumeLocked(t)
		return nil
	}
	return l.queuedErrorLocked(t, now)
}

// queuedErrorLocked is the error for a waiting ticket, with a fallback re-check time from the
// calls queued at its priority or above: about twice the time the account needs to serve
// them, within [minQueuedRetry, maxQueuedRetry].
func (l *Limiter) queuedErrorLocked(t *ticket, now time.Time) error {
	ahead := l.queue.waitingAt(High)
	if t.w.prio == Low {
		ahead += l.queue.waitingAt(Low)
	}
	estimate := time.Duration(ahead) * l.every
	if l.pausedUntil.After(now) {
		estimate += l.pausedUntil.Sub(now)
	}
	return &queuedError{since: t.w.since, retryAfter: min(max(2*estimate, minQueuedRetry), maxQueuedRetry)}
}

// grantTicketLocked hands a token to a waiting ticket: it is held for the owner, who is woken.
func (l *Limiter) grantTicketLocked(t *ticket, now time.Time) {
	t.grantedAt = now
	t.heldElem = l.held.PushBack(t)
	if wake := t.owner.wake; wake != nil {
		// Never under the lock: wake enqueues the owner in the controller's work queue.
		go wake()
	}
}

// consumeLocked ends a granted ticket: its owner uses the token now.
func (l *Limiter) consumeLocked(t *ticket) {
	l.held.Remove(t.heldElem)
	delete(l.tickets, t.owner.id)
}

// expireHeldLocked returns the tokens of tickets granted more than TicketHold ago whose owners
// never came back (deleted, or no longer in need of the call): the bucket and the flow's cap
// get them back, so the quota is not lost.
func (l *Limiter) expireHeldLocked(now time.Time) {
	for e := l.held.Front(); e != nil; e = l.held.Front() {
		t := e.Value.(*ticket)
		if now.Sub(t.grantedAt) < TicketHold {
			return
		}
		l.held.Remove(e)
		delete(l.tickets, t.owner.id)
		l.refundLocked(now)
		l.flowCaps.refund(t.w.flow, now)
		ps := l.stats.byPriority(t.w.prio)
		ps.Granted--
		ps.Expired++
	}
}

// nextHeldExpiry is when the oldest held token expires, or the zero time.
func (l *Limiter) nextHeldExpiry() time.Time {
	if e := l.held.Front(); e != nil {
		return e.Value.(*ticket).grantedAt.Add(TicketHold)
	}
	return time.Time{}
}

// Forget drops the ticket of id, waiting or held (its token goes back): its owner no longer
// needs a call of this account (it was deleted).
func (l *Limiter) Forget(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.tickets[id]
	if t == nil {
		return
	}
	now := l.clock.Now()
	delete(l.tickets, id)
	if t.grantedAt.IsZero() {
		l.queue.remove(t.w)
		l.stats.byPriority(t.w.prio).Aborted++
	} else {
		l.held.Remove(t.heldElem)
		l.refundLocked(now)
		l.flowCaps.refund(t.w.flow, now)
		l.stats.byPriority(t.w.prio).Granted--
	}
	l.dispatchLocked(now)
}

// holdAgain puts a just-consumed token back on hold for owner (its call found no free call
// slot): the owner's retry consumes it, or it expires like any held token.
func (l *Limiter) holdAgain(owner *ticketOwner, flow string, p Priority) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if l.tickets == nil {
		l.tickets = map[string]*ticket{}
	}
	t := &ticket{owner: owner, w: &waiter{prio: p, flow: flow, since: now}}
	t.w.ticket = t
	l.tickets[owner.id] = t
	t.grantedAt = now
	t.heldElem = l.held.PushBack(t)
}
