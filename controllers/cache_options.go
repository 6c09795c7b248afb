package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// CacheOptions keep the manager's memory independent of what else is in the cluster: no Secret
// is cached at all (the identity cache knows their names, and the operator's own Secrets'
// metadata; data is read live, only when needed), managedFields are dropped from every cached
// object, and with watchNamespaces (empty: all) only those namespaces are watched.
//
// shard (nil: none) is the manager's --watch-label-selector: only the LivenessSessions,
// FaceAccounts and ClusterFaceAccounts it matches are cached, so the manager neither sees nor
// reconciles another shard's. Accounts are sharded with their sessions so that each account's
// quota and status have exactly one owner. The identity cache is not sharded: whether a Secret
// name is free does not depend on the shard.
func CacheOptions(watchNamespaces []string, shard labels.Selector) cache.Options {
	opts := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if len(watchNamespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range watchNamespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	if shard != nil {
		opts.ByObject = map[client.Object]cache.ByObject{
			&facev1.LivenessSession{}:    {Label: shard},
			&facev1.FaceAccount{}:        {Label: shard},
			&facev1.ClusterFaceAccount{}: {Label: shard},
		}
	}
	return opts
}

// ClientOptions make the manager's client read Secrets live instead of starting an informer
// that would cache every Secret, data included, of the watched namespaces: anyone can label a
// Secret as the operator's, so no such cache may exist.
func ClientOptions() client.Options {
	return client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}}
}
