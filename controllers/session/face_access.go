package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/face"
)

// faceAccess is one reconcile's way to its session's Face account. The account is resolved
// only when a step is about to call Face, and at most once per reconcile: a step that needs no
// call (a finished session, an adoption, a wait for a reference image) never touches the
// account, so an account that later loses its key does not keep such sessions requeueing.
type faceAccess struct {
	resolve func(context.Context) (face.Client, error)

	resolved bool
	fc       face.Client
	err      error
}

// faceAccess returns the lazy account access for one reconcile of ls.
func (r *Reconciler) faceAccess(ls *facev1.LivenessSession) *faceAccess {
	return &faceAccess{resolve: func(ctx context.Context) (face.Client, error) { return r.Face.ClientFor(ctx, ls) }}
}

// client resolves the session's Face client on first use and returns the same answer after.
func (f *faceAccess) client(ctx context.Context) (face.Client, error) {
	if !f.resolved {
		f.fc, f.err = f.resolve(ctx)
		f.resolved = true
	}
	return f.fc, f.err
}

// onAccountUnavailable is the one place that handles a session whose account cannot serve the
// call a step is about to make (an *accounts.AccountUnavailableError; any other error is
// returned for the controller's backoff). It sets the conditions and the requeue:
//   - a session being deleted says why its cloud session cannot be deleted yet (Reconciling),
//     and looks again no later than the moment its cloud session has certainly expired, when
//     deletion releases the finalizer without the account;
//   - a session Stalled when a human must act (a namespace the account does not admit, also one
//     that lost admission after its session was created: polls and exports stop);
//   - a session that already exists otherwise stays Ready (its token is published) and just
//     retries its next step later;
//   - a session not yet created otherwise is Reconciling, waiting.
//
// Account changes also wake waiting sessions through the account watch.
func (r *Reconciler) onAccountUnavailable(ls *facev1.LivenessSession, err error) (ctrl.Result, error) {
	var unavailable *accounts.AccountUnavailableError
	if !errors.As(err, &unavailable) {
		return ctrl.Result{}, fmt.Errorf("pick Face account: %w", err)
	}
	wait := max(unavailable.RetryAfter, accounts.RetryMin)
	switch {
	case !ls.DeletionTimestamp.IsZero():
		setProgressing(ls, unavailable.Reason, "cannot delete the cloud session yet: "+unavailable.Message)
		now := r.Clock.Now()
		if until := expiryCertainAt(ls); !until.IsZero() && until.Sub(now) < wait {
			wait = until.Sub(now) + time.Second
		}
	case unavailable.Stalled:
		// Waiting will not help (a namespace the account does not admit, even one that lost
		// admission after its session was created): no Face call is made for it.
		r.stall(ls, unavailable.Reason, unavailable.Message)
		return ctrl.Result{}, nil
	case ls.Status.SessionID != "":
	default:
		setProgressing(ls, unavailable.Reason, unavailable.Message)
	}
	return ctrl.Result{RequeueAfter: wait}, nil
}
