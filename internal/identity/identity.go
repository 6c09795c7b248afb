// Package identity is the operator's one view of Secrets and ConfigMaps: metadata only, reduced
// to names (plus, on the operator's own Secrets, the little metadata it reads back). The
// manager caches no Secret data at all. This view lets the session and account controllers
// react when a user's Secret or ConfigMap they wait on (a reference image, an account key)
// appears or changes, and when a token Secret is deleted; it tells whether a name is free and
// whose a Secret is without an API call, while bytes are read live, only when needed.
package identity

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
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
// the operator's memory grow with unrelated objects. A Secret labelled as the operator's also
// keeps what the operator reads of its own Secrets (their data is never needed again after
// they are written): the operator's label and annotations, each bounded in size, and the one
// controller reference. Anyone can put the label on a Secret, so nothing beyond that is kept.
func KeepIdentityOnly(in any) (any, error) {
	m, ok := in.(*metav1.PartialObjectMetadata)
	if !ok {
		return in, nil
	}
	out := &metav1.PartialObjectMetadata{
		TypeMeta: m.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		},
	}
	if m.Labels[facev1.LabelManagedBy] != facev1.ManagedByValue {
		return out, nil
	}
	out.Labels = keep(m.Labels, facev1.LabelManagedBy, facev1.LabelSessionName)
	out.Annotations = keep(m.Annotations, facev1.AnnotationSessionID, facev1.AnnotationExpiresAt, facev1.AnnotationSignature)
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		out.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return out, nil
}

// maxKeptValue bounds each kept label or annotation value: the operator's own values are short
// (a name, a session id, a time, a signature), and a forged huge one must not cost memory.
const maxKeptValue = 256

// keep copies the named entries of m whose values are at most maxKeptValue long.
func keep(m map[string]string, names ...string) map[string]string {
	var out map[string]string
	for _, n := range names {
		if v, ok := m[n]; ok && len(v) <= maxKeptValue {
			if out == nil {
				out = make(map[string]string, len(names))
			}
			out[n] = v
		}
	}
	return out
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
