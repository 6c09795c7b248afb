// Package identity is the operator's metadata-only view of Secrets and ConfigMaps: their names,
// and nothing else. The manager's own cache holds only the operator's labelled Secrets; this
// view lets the session and account controllers react when a user's Secret or ConfigMap they
// wait on (a reference image, an account key) appears or changes, and tells whether a name is
// free without an API call, while the bytes are read live, only when needed.
package identity

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// Object is an empty metadata-only object of a core kind ("Secret" or "ConfigMap"), to read from
// or watch in the identity cache.
func Object(kind string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return m
}

// KeepIdentityOnly reduces a cached object to its identity. The identity cache holds every
// Secret and ConfigMap of the watched namespaces, so nothing but names may stay: labels and
// annotations (kubectl's last-applied-configuration can hold a whole 100 KiB Secret) would make
// the operator's memory grow with unrelated objects.
func KeepIdentityOnly(in any) (any, error) {
	if m, ok := in.(*metav1.PartialObjectMetadata); ok {
		return &metav1.PartialObjectMetadata{
			TypeMeta: m.TypeMeta,
			ObjectMeta: metav1.ObjectMeta{
				Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
			},
		}, nil
	}
	return in, nil
}

// NewCache starts a metadata-only cache of the identities (KeepIdentityOnly) of Secrets and
// ConfigMaps in namespaces (empty: all), added to the manager. Its memory is a few hundred bytes
// per object.
func NewCache(mgr ctrl.Manager, namespaces []string) (cache.Cache, error) {
	opts := cache.Options{
		Scheme:           mgr.GetScheme(),
		Mapper:           mgr.GetRESTMapper(),
		DefaultTransform: KeepIdentityOnly,
	}
	if len(namespaces) > 0 {
		opts.DefaultNamespaces = map[string]cache.Config{}
		for _, ns := range namespaces {
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	c, err := cache.New(mgr.GetConfig(), opts)
	if err != nil {
		return nil, fmt.Errorf("identity cache: %w", err)
	}
	return c, mgr.Add(c)
}
