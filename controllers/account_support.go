package controllers

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
)

type runtimeObject = runtime.Object

// checkedFingerprints remembers which accounts passed their credential check with the
// configuration now in the registry, so an unchanged account is not re-checked (each check
// costs a request of its quota) on every reconcile.
type checkedFingerprints struct {
	mu sync.Mutex
	ok map[accounts.Key]bool
}

func (c *checkedFingerprints) init() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok == nil {
		c.ok = map[accounts.Key]bool{}
	}
}

func (c *checkedFingerprints) isOK(key accounts.Key) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ok[key]
}

func (c *checkedFingerprints) set(key accounts.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.ok[key] = true
}

func (c *checkedFingerprints) forget(key accounts.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.ok, key)
}

// sessionsOfAccount maps an account to the LivenessSessions that wait on it (not yet created, or
// being deleted), so they react when it becomes Ready or gets a new key. Sessions that already
// run are left out: an account's status changes must not wake thousands of them for nothing.
func sessionsOfAccount(c client.Reader, kind facev1.AccountKind) func(context.Context, client.Object) []reconcile.Request {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		key := accounts.Key{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()}
		var list facev1.LivenessSessionList
		if err := c.List(ctx, &list, client.MatchingFields{accountIndex: key.String()}); err != nil {
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
