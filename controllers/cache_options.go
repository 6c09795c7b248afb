package controllers

import (
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// CacheOptions keep the manager's memory independent of what else is in the cluster: no Secret
// is cached at all (the identity cache knows their names, and the operator's own Secrets'
// metadata; data is read live, only when needed), managedFields are dropped from every cached
// object, and with watchNamespaces (empty: all) only those namespaces are watched.
func CacheOptions(watchNamespaces []string) cache.Options {
	opts := cache.Options{DefaultTransform: cache.TransformStripManagedFields()}
	if len(watchNamespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range watchNamespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
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
