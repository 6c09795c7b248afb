package session

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/identity"
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

// watchReferenceSources makes a verify session that waits for its reference image react as
// soon as the Secret or ConfigMap appears or changes, through the identity cache.
func (r *Reconciler) watchReferenceSources(mgr ctrl.Manager, b *ctrl.Builder) error {
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &facev1.LivenessSession{}, referenceIndex, referenceSourceKey); err != nil {
		return fmt.Errorf("index reference image sources: %w", err)
	}
	for _, kind := range []string{"Secret", "ConfigMap"} {
		var obj client.Object = identity.Object(kind)
		b.WatchesRawSource(source.Kind(r.Identities, obj, handler.EnqueueRequestsFromMapFunc(r.sessionsWaitingOn(kind))))
	}
	return nil
}

// sessionsWaitingOn maps a Secret or ConfigMap to the sessions waiting for it.
func (r *Reconciler) sessionsWaitingOn(kind string) handler.MapFunc {
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
