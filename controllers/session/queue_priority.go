package session

import (
	"time"

	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/handler"
)

// scheduledPriority is the work-queue priority of a session's scheduled work: its result polls
// (the first one too, requeued by the reconcile that recorded the session) and the wait for its
// ttlSecondsAfterFinished. controller-runtime's priority queue hands the workers the highest
// priority first. Watch events come at priority 0 (a new session, the app server's sync
// request, a deletion), the initial list after a start at handler.LowPriority: the sessions
// created while no manager ran are among them. Scheduled work comes back below both, so
// a busy manager creates the sessions waiting for their tokens, and answers requests, before
// it polls the sessions nobody is waiting on.
const scheduledPriority = handler.LowPriority - 10

// scheduled is a requeue for scheduled work after the given wait.
func scheduled(after time.Duration) ctrl.Result {
	return ctrl.Result{RequeueAfter: after, Priority: ptr.To(scheduledPriority)}
}
