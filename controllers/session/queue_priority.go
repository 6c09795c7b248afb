package session

import (
	"time"

	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// scheduledPriority is the work-queue priority of a session's scheduled work: its next result
// poll, and the wait for its ttlSecondsAfterFinished. controller-runtime's priority queue
// hands the workers the highest priority first, and watch events come at priority 0: a new
// session, the app server's sync request, a deletion. Scheduled work comes back below them,
// so a busy manager creates sessions and answers requests first and polls the sessions nobody
// is waiting on when a worker is free (with 4 workers and 64 clients, a new session's token
// waited over a minute behind due polls). It stays above the initial list after a restart
// (handler.LowPriority, -100), whose reconciles only resume each session's schedule.
const scheduledPriority = -10

// scheduled is a requeue for scheduled work after the given wait.
func scheduled(after time.Duration) ctrl.Result {
	return ctrl.Result{RequeueAfter: after, Priority: ptr.To(scheduledPriority)}
}
