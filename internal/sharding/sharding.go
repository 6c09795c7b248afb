// Package sharding splits the operator's resources between several managers the way Flux
// does: each manager is started with --watch-label-selector (for example
// "sharding.liveness-operator.io/key in (shard1)"), caches and reconciles only the
// LivenessSessions, FaceAccounts and ClusterFaceAccounts that match it, and holds a
// leader-election lease of its own, so N managers (each with standbys) share the work and a
// failover in one shard never touches another.
package sharding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"k8s.io/apimachinery/pkg/labels"
)

// Key is the label the documentation and the Helm chart use to assign a resource to a shard.
// Any label works: the selector is the user's.
const Key = "sharding.liveness-operator.io/key"

// Parse reads a --watch-label-selector value. Empty, or a selector that matches everything,
// means no sharding and is returned as nil, so callers can tell an unsharded manager (every
// resource) from a sharded one.
func Parse(selector string) (labels.Selector, error) {
	if selector == "" {
		return nil, nil
	}
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, fmt.Errorf("--watch-label-selector %q: %w (example: %q)", selector, err, Key+" in (shard1)")
	}
	if sel.Empty() {
		return nil, nil
	}
	return sel, nil
}

// LeaderElectionID is the lease name for a manager with the selector: the base name for an
// unsharded manager, and the base name with a short hash of the selector's canonical form for
// a shard. Replicas of one shard thus share a lease while shards never contend for one, and
// the name stays a valid object name whatever the selector's characters.
func LeaderElectionID(base string, sel labels.Selector) string {
	if sel == nil || sel.Empty() {
		return base
	}
	sum := sha256.Sum256([]byte(sel.String()))
	return base + "-" + hex.EncodeToString(sum[:])[:10]
}
