package controllers

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// cachesSynced is a readiness check that passes once the manager's cache and the identity cache
// have synced. It runs on every replica, leader or standby (caches start on all of them), so
// a standby is Ready as soon as it could take over, and a replica whose caches cannot sync (no
// RBAC, an API server it cannot reach) is never Ready.
type cachesSynced struct {
	caches []cache.Cache
	synced atomic.Bool
}

// Start waits for the caches and records it.
func (c *cachesSynced) Start(ctx context.Context) error {
	for _, cc := range c.caches {
		if !cc.WaitForCacheSync(ctx) {
			return nil // stopping
		}
	}
	c.synced.Store(true)
	<-ctx.Done()
	return nil
}

// NeedLeaderElection is false: standbys report readiness too.
func (c *cachesSynced) NeedLeaderElection() bool { return false }

// check is the readyz checker.
func (c *cachesSynced) check(*http.Request) error {
	if !c.synced.Load() {
		return errors.New("caches have not synced yet")
	}
	return nil
}

// addReadiness registers the caches-synced readiness check ("caches") with the manager.
func addReadiness(mgr ctrl.Manager, identities cache.Cache) error {
	c := &cachesSynced{caches: []cache.Cache{mgr.GetCache(), identities}}
	if err := mgr.Add(c); err != nil {
		return err
	}
	return mgr.AddReadyzCheck("caches", c.check)
}
