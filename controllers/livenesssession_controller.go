// Package controllers holds the LivenessSession reconciler: one file per concern (the cloud
// session and its crash-safe create, the token Secret, result sync, deletion) and the pure
// status functions they share.
package controllers

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	facev1 "github.com/liveness-operator/liveness-operator/api/v1alpha1"
	"github.com/liveness-operator/liveness-operator/internal/face"
)

// conflictRetry is the wait after an optimistic-concurrency conflict: the object changed under
// us, so the reconcile starts over from the newer version shortly.
const conflictRetry = 100 * time.Millisecond

// LivenessSessionReconciler reconciles LivenessSession objects with Azure AI Face.
type LivenessSessionReconciler struct {
	// Client reads from the manager's cache (LivenessSessions, and only the operator's own
	// labelled Secrets) and writes to the API server.
	Client client.Client
	// APIReader reads straight from the API server: used to confirm that a Secret name is free
	// (foreign Secrets are not cached) before a cloud session is created.
	APIReader client.Reader
	// Face picks the Face client for a session.
	Face FaceClientResolver
	// Events records Kubernetes events, on transitions only.
	Events events.EventRecorder
	// Clock is injectable so tests can move time (token expiry, poll schedule).
	Clock clock.PassiveClock
	// Metrics are the operator's Prometheus metrics.
	Metrics *Metrics
	// MaxConcurrentReconciles is the number of parallel workers (default 16).
	MaxConcurrentReconciles int
	// WatchNamespaces limits the reference-image watches to these namespaces (empty: all); set
	// it to the namespaces the manager's cache watches.
	WatchNamespaces []string
	// Identities is the metadata-only cache of Secrets and ConfigMaps (NewIdentityCache); when
	// nil, SetupWithManager creates one for WatchNamespaces.
	Identities cache.Cache

	initOnce sync.Once
	polls    *pollTracker
}

// defaults fills what the caller left unset; SetupWithManager and Reconcile both call it, so
// a reconciler driven directly (as tests drive a restarted process) works too.
func (r *LivenessSessionReconciler) defaults() {
	r.initOnce.Do(func() {
		if r.Clock == nil {
			r.Clock = clock.RealClock{}
		}
		if r.Metrics == nil {
			r.Metrics = NewMetrics(nil)
		}
		if r.MaxConcurrentReconciles <= 0 {
			r.MaxConcurrentReconciles = 16
		}
		r.polls = newPollTracker()
	})
}

// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=livenesssessions,verbs=get;list;watch;patch
// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=livenesssessions/status,verbs=get;patch
// +kubebuilder:rbac:groups=face.liveness-operator.io,resources=livenesssessions/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;delete
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile brings one LivenessSession towards its cloud session: the session created once and
// its token published (Ready), then its result followed until final (Completed), and the cloud
// session deleted before the resource goes. Status is written once, at the end, by one patch
// with optimistic concurrency; only the create claim and the finalizer are written earlier,
// because durability demands it. Requeues use RequeueAfter from the session's own clock.
func (r *LivenessSessionReconciler) Reconcile(ctx context.Context, req ctrl.Request) (result ctrl.Result, err error) {
	r.defaults()
	ls := &facev1.LivenessSession{}
	if err := r.Client.Get(ctx, req.NamespacedName, ls); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	ctx = log.IntoContext(ctx, log.FromContext(ctx).WithValues("sessionId", ls.Status.SessionID))

	sw := newStatusWriter(r.Client, ls)
	defer func() {
		result, err = r.patchStatus(ctx, ls, sw, result, err)
	}()

	if !ls.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, ls, sw)
	}
	var fc face.Client
	if mayCallFace(ls) {
		if fc, err = r.Face.ClientFor(ctx, ls); err != nil {
			return r.onAccountUnavailable(ls, err)
		}
	}
	if ls.Status.SessionID != "" && !controllerutil.ContainsFinalizer(ls, facev1.FinalizerName) {
		// Someone removed the finalizer of a live session: put it back so deletion still
		// deletes the cloud session.
		if err := r.addFinalizer(ctx, ls); err != nil {
			return ctrl.Result{}, err
		}
	}
	result, err = r.reconcileCloudSession(ctx, ls, fc, sw)
	if err != nil || !isReady(ls) {
		return result, err
	}
	result, err = r.syncResult(ctx, ls, fc)
	if err != nil || !isFinal(ls.Status.Outcome) {
		return result, err
	}
	return r.exportSessionImage(ctx, ls, fc)
}

// mayCallFace says whether a reconcile of this session can call Face: to create it, to poll a
// result that is not final yet, or to export its session image. A finished session needs no
// account, so an account that later loses its key does not keep such sessions requeueing.
// It mirrors the early returns of createSession, syncResult and exportSessionImage.
func mayCallFace(ls *facev1.LivenessSession) bool {
	return ls.Status.SessionID == "" || !isFinal(ls.Status.Outcome) ||
		(ls.Spec.SessionImageSecretName != "" && ls.Status.SessionImageSecretName == "")
}

// onAccountUnavailable handles a session whose account cannot serve it now. A session not yet
// created says why in its conditions (Stalled when a human must act, such as a namespace the
// account does not admit; otherwise Reconciling, waiting) and is retried later or when the
// account changes. A session that already exists stays Ready (its token is published) and just
// retries its next step later.
func (r *LivenessSessionReconciler) onAccountUnavailable(ls *facev1.LivenessSession, err error) (ctrl.Result, error) {
	var unavailable *AccountUnavailableError
	if !errors.As(err, &unavailable) {
		return ctrl.Result{}, fmt.Errorf("pick Face account: %w", err)
	}
	wait := max(unavailable.RetryAfter, retryMin)
	if ls.Status.SessionID != "" {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	if unavailable.Stalled {
		r.stall(ls, unavailable.Reason, unavailable.Message)
		return ctrl.Result{}, nil
	}
	setProgressing(ls, unavailable.Reason, unavailable.Message)
	return ctrl.Result{RequeueAfter: wait}, nil
}

// addFinalizer adds the finalizer in a write of its own.
func (r *LivenessSessionReconciler) addFinalizer(ctx context.Context, ls *facev1.LivenessSession) error {
	base := ls.DeepCopy()
	controllerutil.AddFinalizer(ls, facev1.FinalizerName)
	if err := r.patchMetadata(ctx, ls, base); err != nil {
		return fmt.Errorf("add finalizer: %w", err)
	}
	return nil
}

// patchStatus writes status at the end of a reconcile if it changed, with optimistic
// concurrency so a reconcile that worked from a stale copy can never overwrite newer status. On
// a conflict the reconcile is retried shortly, from the newer version and the observation the
// poll tracker kept, so Face is not polled again.
func (r *LivenessSessionReconciler) patchStatus(ctx context.Context, ls *facev1.LivenessSession, sw *statusWriter, result ctrl.Result, err error) (ctrl.Result, error) {
	becameFinal := !isFinal(sw.stored.Outcome) && isFinal(ls.Status.Outcome)
	perr := sw.write(ctx, ls)
	switch {
	case perr == nil:
		r.polls.saved(ls.UID)
		if becameFinal {
			r.polls.forget(ls.UID)
			r.Metrics.SessionsCompleted.WithLabelValues(string(ls.Status.Outcome)).Inc()
		}
		return result, err
	case apierrors.IsNotFound(perr):
		r.polls.forget(ls.UID)
		return result, err
	case apierrors.IsConflict(perr):
		// The poll's observation stays in the tracker; the retry saves it without polling.
		return ctrl.Result{RequeueAfter: conflictRetry}, err
	default:
		return result, errors.Join(err, fmt.Errorf("patch status: %w", perr))
	}
}

// SetupWithManager registers the reconciler: it watches LivenessSessions (ignoring updates that
// touch only status, which the reconciler itself writes), the Secrets they own, and the
// Secrets and ConfigMaps that verify sessions wait on for their reference image.
func (r *LivenessSessionReconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.defaults()
	b := ctrl.NewControllerManagedBy(mgr).
		For(&facev1.LivenessSession{}, builder.WithPredicates(notStatusOnly{})).
		Owns(&corev1.Secret{}, builder.WithPredicates(predicate.Funcs{
			// The Secret is immutable; only its deletion matters (TokenSecretLost).
			CreateFunc: func(event.CreateEvent) bool { return false },
			UpdateFunc: func(event.UpdateEvent) bool { return false },
		})).
		WithOptions(controller.Options{MaxConcurrentReconciles: r.MaxConcurrentReconciles}).
		Named("livenesssession")
	if err := r.watchReferenceSources(mgr, b); err != nil {
		return err
	}
	// Sessions by account: for the account watch below and for the account reconcilers.
	if err := mgr.GetFieldIndexer().IndexField(context.Background(), &facev1.LivenessSession{}, accountIndex, sessionAccountKey); err != nil {
		return fmt.Errorf("index sessions by account: %w", err)
	}
	// Sessions waiting on an account react when it changes (becomes Ready, gets a new key).
	b.Watches(&facev1.FaceAccount{}, handler.EnqueueRequestsFromMapFunc(sessionsOfAccount(mgr.GetClient(), facev1.AccountKindFaceAccount)),
		builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Watches(&facev1.ClusterFaceAccount{}, handler.EnqueueRequestsFromMapFunc(sessionsOfAccount(mgr.GetClient(), facev1.AccountKindClusterFaceAccount)),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{}))
	return b.Complete(r)
}

// notStatusOnly passes every event except an update that changed nothing but status, the
// create-pending claim, or added the operator's finalizer. The reconciler writes those itself
// and has already acted on them; a reconcile they triggered would work from a cache that may not
// yet hold the reconciler's later writes, only to conflict (measured: 0.66 failed status patches
// per session), or would skip a wait (Retry-After, backoff) the writing reconcile asked for.
// Spec changes, other metadata changes (the sync-requested-at annotation), deletion, and the
// removal of the operator's finalizer still pass.
type notStatusOnly struct {
	predicate.Funcs
}

// Update passes the update unless only status (or nothing) changed.
func (notStatusOnly) Update(e event.UpdateEvent) bool {
	oldObj, okOld := e.ObjectOld.(*facev1.LivenessSession)
	newObj, okNew := e.ObjectNew.(*facev1.LivenessSession)
	if !okOld || !okNew {
		return true
	}
	return oldObj.Generation != newObj.Generation ||
		!equality.Semantic.DeepEqual(withoutClaim(oldObj.Annotations), withoutClaim(newObj.Annotations)) ||
		!equality.Semantic.DeepEqual(oldObj.Labels, newObj.Labels) ||
		(controllerutil.ContainsFinalizer(oldObj, facev1.FinalizerName) && !controllerutil.ContainsFinalizer(newObj, facev1.FinalizerName)) ||
		!oldObj.DeletionTimestamp.Equal(newObj.DeletionTimestamp)
}

// withoutClaim is a copy of the annotations without the operator's create-pending claim.
func withoutClaim(annotations map[string]string) map[string]string {
	if _, ok := annotations[facev1.AnnotationCreatePending]; !ok {
		return annotations
	}
	out := make(map[string]string, len(annotations))
	for k, v := range annotations {
		if k != facev1.AnnotationCreatePending {
			out[k] = v
		}
	}
	return out
}
