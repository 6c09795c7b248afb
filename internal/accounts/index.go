package accounts

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// SessionIndex indexes LivenessSessions by the account they use (Key.String()). The session
// controller registers it; both controllers query it.
const SessionIndex = "liveness.account"

// SessionKeyOf is the index function of SessionIndex: the account a session uses, by recorded
// or requested reference. Sessions of the default account are not indexed.
func SessionKeyOf(o client.Object) []string {
	ls, ok := o.(*facev1.LivenessSession)
	if !ok {
		return nil
	}
	key := KeyFor(ls.Namespace, SessionAccountRef(ls))
	if key == DefaultKey {
		return nil
	}
	return []string{key.String()}
}

// SessionsWaitingOn maps an account to the LivenessSessions that wait on it (not yet created,
// or being deleted), so they react when it becomes Ready or gets a new key. Sessions that already
// run are left out: an account's status changes must not wake thousands of them for nothing.
func SessionsWaitingOn(c client.Reader, kind facev1.AccountKind) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		key := Key{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}
		var list facev1.LivenessSessionList
		if err := c.List(ctx, &list, client.MatchingFields{SessionIndex: key.String()}); err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items))
		for _, ls := range list.Items {
			if ls.Status.SessionID != "" && ls.DeletionTimestamp.IsZero() {
				continue
			}
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ls.Namespace, Name: ls.Name}})
		}
		return reqs
	}
}
