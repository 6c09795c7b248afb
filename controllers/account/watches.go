package account

import (
	"context"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/accounts"
	"github.com/liveness-operator/liveness-operator/internal/identity"
)

// SetupWithManager registers the reconciler for its kind. It watches the accounts, their key
// Secrets (through the shared identity cache, so a rotated key is picked up at once), and
// LivenessSession deletions (so a deleted account is released as soon as its last session goes).
// It counts sessions with the index the session reconciler registers in the same manager.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	obj := r.newObject()
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), obj, keySecretIndex, r.keySecretKey); err != nil {
		return err
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(obj, builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{},
			deletionPredicate()))).
		Watches(&facev1.LivenessSession{}, handler.EnqueueRequestsFromMapFunc(r.accountOfSession),
			builder.WithPredicates(predicate.Funcs{
				CreateFunc:  func(event.CreateEvent) bool { return false },
				UpdateFunc:  func(event.UpdateEvent) bool { return false },
				GenericFunc: func(event.GenericEvent) bool { return false },
			})).
		Named(strings.ToLower(string(r.Kind)))
	if r.Identities != nil {
		var secret client.Object = identity.Object("Secret")
		b.WatchesRawSource(source.Kind(r.Identities, secret, handler.EnqueueRequestsFromMapFunc(r.accountsOfKeySecret)))
	}
	return b.Complete(r)
}

// keySecretKey indexes an account by its key Secret.
func (r *Reconciler) keySecretKey(o client.Object) []string {
	a, ok := o.(faceAccountObject)
	if !ok || a.AccountSpec().Credentials.APIKey == nil {
		return nil
	}
	return []string{r.keySecretNamespace(a) + "/" + a.AccountSpec().Credentials.APIKey.Name}
}

// accountsOfKeySecret maps a key Secret to the accounts that read their key from it.
func (r *Reconciler) accountsOfKeySecret(ctx context.Context, o client.Object) []reconcile.Request {
	list := &facev1.FaceAccountList{}
	var objList client.ObjectList = list
	if r.Kind == facev1.AccountKindClusterFaceAccount {
		objList = &facev1.ClusterFaceAccountList{}
	}
	if err := r.Client.List(ctx, objList, client.MatchingFields{keySecretIndex: o.GetNamespace() + "/" + o.GetName()}); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	_ = meta.EachListItem(objList, func(item runtime.Object) error {
		a := item.(client.Object)
		reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: a.GetNamespace(), Name: a.GetName()}})
		return nil
	})
	return reqs
}

// accountOfSession maps a deleted LivenessSession to its account, which may be waiting for its
// last session to go.
func (r *Reconciler) accountOfSession(_ context.Context, o client.Object) []reconcile.Request {
	ls, ok := o.(*facev1.LivenessSession)
	if !ok {
		return nil
	}
	key := accounts.KeyFor(ls.Namespace, accounts.SessionAccountRef(ls))
	if key == accounts.DefaultKey || key.Kind != r.Kind {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: key.Namespace, Name: key.Name}}}
}

// deletionPredicate passes updates that set the deletion timestamp.
func deletionPredicate() predicate.Funcs {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectNew.GetDeletionTimestamp() != nil && e.ObjectOld.GetDeletionTimestamp() == nil
	}}
}
