package session

import (
	"context"
	"sync/atomic"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
)

// grantedPriority is the work-queue priority of a session woken because its quota ticket was
// granted: above watch events (0), because the account's token is held for it for only
// quota.TicketHold, and a granted token that expires unused is a turn its namespace lost.
// At most the accounts' combined rate of sessions per second comes back at this priority.
const grantedPriority = 10

// quotaWaker brings a session back to a worker when its quota ticket is granted. It is a
// controller source (Source) that only keeps the controller's work queue; the limiter calls
// the function wakeFor returns, from its own goroutine, when the session's turn comes.
//
// A reconciler driven without a manager (tests driving a restarted process) has no queue:
// wakeFor then returns nil, and its Face calls wait for their tokens on the worker as before.
type quotaWaker struct {
	queue atomic.Pointer[wakeQueue]
}

// wakeQueue is the controller's work queue, boxed for atomic.Pointer.
type wakeQueue struct {
	q workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// Source is the source SetupWithManager registers: it emits nothing itself and keeps the work
// queue until the controller stops.
func (w *quotaWaker) Source() source.Source {
	return source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		w.queue.Store(&wakeQueue{q: q})
		go func() {
			<-ctx.Done()
			w.queue.Store(nil)
		}()
		return nil
	})
}

// wakeFor returns the function that puts req at the front of the work queue, or nil when the
// controller is not running. The function never blocks.
func (w *quotaWaker) wakeFor(req reconcile.Request) func() {
	if w.queue.Load() == nil {
		return nil
	}
	return func() {
		wq := w.queue.Load()
		if wq == nil {
			return
		}
		if pq, ok := wq.q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
			pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(grantedPriority)}, req)
			return
		}
		wq.q.Add(req)
	}
}

// ticketID names a session's ticket in its account's fair queue: its namespace and name, so a
// session that is gone can still give its place back (Reconcile learns only the name then).
func ticketID(req reconcile.Request) string { return req.String() }

// ticketForgetter is what a FaceClientResolver offers when its accounts have fair queues
// (accounts.AccountResolver does).
type ticketForgetter interface {
	// ForgetTicket drops the ticket of id from every account's queue.
	ForgetTicket(id string)
}

// forgetTicket gives back the place of a session that no longer needs a Face call (deleted):
// a waiting ticket leaves its lane, a held token goes back to the bucket.
func (r *Reconciler) forgetTicket(req reconcile.Request) {
	if f, ok := r.Face.(ticketForgetter); ok {
		f.ForgetTicket(ticketID(req))
	}
}
