package controllers

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
)

// referenceIndex indexes LivenessSessions that wait for their reference image by the object
// they wait on ("Secret/name" or "ConfigMap/name"). Sessions that have a cloud session are not
// indexed: their image was read once, at creation, and later changes must not touch them.
const referenceIndex = "liveness.referenceImageSource"

func referenceIndexValue(kind, name string) string { return kind + "/" + name }

// referenceSourceKey is the index function.
func referenceSourceKey(o client.Object) []string {
	ls, ok := o.(*facev1.LivenessSession)
	if !ok || ls.Spec.Verification == nil || ls.Status.SessionID != "" {
		return nil
	}
	src := ls.Spec.Verification.ReferenceImage
	switch {
	case src.SecretKeyRef != nil:
		return []string{referenceIndexValue("Secret", src.SecretKeyRef.Name)}
	case src.ConfigMapKeyRef != nil:
		return []string{referenceIndexValue("ConfigMap", src.ConfigMapKeyRef.Name)}
	}
	return nil
}

// keepIdentityOnly reduces a cached object to its identity. The reference-source cache holds
// every Secret and ConfigMap of the watched namespaces, so nothing but names may stay: labels
// and annotations (kubectl's last-applied-configuration can hold a whole 100 KiB Secret) would
// make the operator's memory grow with unrelated objects.
func keepIdentityOnly(in any) (any, error) {
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

// NewIdentityCache starts a metadata-only cache of the identities (keepIdentityOnly) of Secrets
// and ConfigMaps in namespaces (empty: all), added to the manager. The manager's own cache holds
// only the operator's labelled Secrets; this one lets the operator react when a user's Secret
// or ConfigMap it waits on (a reference image, an account key) appears or changes, while the
// bytes are read live, only when needed. Its memory is a few hundred bytes per object.
func NewIdentityCache(mgr ctrl.Manager, namespaces []string) (cache.Cache, error) {
	opts := cache.Options{
		Scheme:           mgr.GetScheme(),
		Mapper:           mgr.GetRESTMapper(),
		DefaultTransform: keepIdentityOnly,
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

// watchReferenceSources makes a verify session that waits for its reference image react as
// soon as the Secret or ConfigMap appears or changes, through the identity cache.
func (r *LivenessSessionReconciler) watchReferenceSources(mgr ctrl.Manager, b *ctrl.Builder) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &facev1.LivenessSession{}, referenceIndex, referenceSourceKey); err != nil {
		return fmt.Errorf("index reference image sources: %w", err)
	}
	if r.Identities == nil {
		c, err := NewIdentityCache(mgr, r.WatchNamespaces)
		if err != nil {
			return err
		}
		r.Identities = c
	}
	for _, kind := range []string{"Secret", "ConfigMap"} {
		var obj client.Object = metadataOnly(kind)
		b.WatchesRawSource(source.Kind(r.Identities, obj, handler.EnqueueRequestsFromMapFunc(r.sessionsWaitingOn(kind))))
	}
	return nil
}

func metadataOnly(kind string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(kind))
	return m
}

// sessionsWaitingOn maps a Secret or ConfigMap to the sessions waiting for it.
func (r *LivenessSessionReconciler) sessionsWaitingOn(kind string) handler.MapFunc {
	return func(ctx context.Context, o client.Object) []reconcile.Request {
		var list facev1.LivenessSessionList
		if err := r.Client.List(ctx, &list, client.InNamespace(o.GetNamespace()),
			client.MatchingFields{referenceIndex: referenceIndexValue(kind, o.GetName())}); err != nil {
			ctrl.LoggerFrom(ctx).Error(err, "list sessions waiting for a reference image")
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(list.Items))
		for _, ls := range list.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ls.Namespace, Name: ls.Name}})
		}
		return reqs
	}
}
