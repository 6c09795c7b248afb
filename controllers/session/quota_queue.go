package session

import (
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/quota"
)

// A session's Face calls never wait for the account's quota on a worker (see quotaWaker): a
// call that finds no token at once leaves a ticket in its namespace's lane of the account's
// fair queue and returns quota.ErrQueued, nothing sent; the reconcile ends, and the session is
// woken when its turn comes. The create's crash safety is unchanged: its claim is written only
// in the reconcile that holds the token.

// queuedQuietPeriod is how long a call waits in the fair queue before its session says so. A
// shorter wait is normal under load and costs no status write; a longer one is written once
// (the message names when the wait began, so retries rewrite nothing).
const queuedQuietPeriod = 3 * time.Second

// onQueued handles a call that is waiting in the fair queue (err wraps quota.ErrQueued). A
// create or a delete that has waited longer than queuedQuietPeriod says so in Ready=False and
// Reconciling=True (reason WaitingForQuota); a poll or an image download of a session that is
// Ready changes nothing, since its session stays usable. The requeue is only the fallback if
// the wake never comes (the manager's queue stopped): the wake normally comes first.
func onQueued(ls *facev1.LivenessSession, operation string, err error, now time.Time) ctrl.Result {
	fallback := quota.QueuedRetryAfter(err)
	since, _ := quota.QueuedSince(err)
	if operation == "create" || operation == "delete" {
		if waited := now.Sub(since); waited < queuedQuietPeriod {
			// Come back when the wait becomes worth saying, unless the turn comes first.
			return scheduled(min(fallback, queuedQuietPeriod-waited))
		}
		setProgressing(ls, facev1.ReasonWaitingForQuota, fmt.Sprintf(
			"waiting since %s for a request token of the Face account, shared fairly across namespaces; the %s is sent when namespace %s's turn comes",
			since.UTC().Format(time.RFC3339), operation, ls.Namespace))
	}
	return scheduled(fallback)
}
